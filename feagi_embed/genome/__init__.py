"""Genome parsing: FEAGI flat 2.x / 3.0 JSON → typed, immutable :class:`Genome`."""

from .cortical_id import CorticalID
from .model import CorticalArea, CorticalMapping, Genome, MappingRule, Morphology, Physiology
from .parser import load_genome

__all__ = ["CorticalArea", "CorticalID", "CorticalMapping", "Genome", "MappingRule", "Morphology",
           "Physiology", "load_genome"]
