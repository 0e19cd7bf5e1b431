"""Neuroembryogenesis: develop a :class:`~feagi_embed.genome.Genome` into a :class:`Connectome`."""

from .develop import develop
from .model import Connectome

__all__ = ["Connectome", "develop"]
