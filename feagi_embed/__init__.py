"""feagi-embed: compile FEAGI genomes into bit-exact microcontroller firmware.

Pipeline (see ``docs/`` and ARCHITECTURE): genome JSON → :class:`~feagi_embed.genome.Genome`
→ :class:`~feagi_embed.connectome.Connectome` → fixed-point model → firmware / host twin.
"""

__version__ = "0.1.0"
