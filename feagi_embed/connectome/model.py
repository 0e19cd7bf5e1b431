"""The developed connectome: neurons and synapses as numpy structure-of-arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import GenomeWarning
from ..genome.model import CorticalArea, Genome, Morphology


@dataclass(frozen=True)
class DevelopedRule:
    """One applied mapping rule (source area → destination area, one morphology): what made a
    contiguous chunk of :attr:`Connectome.synapse_src` (the model stage recognises rules it can
    store procedurally, :mod:`feagi_embed.rules`).

    Attributes:
        src_area, dst_area: area indices.
        morphology: the morphology applied.
        weight: |PSC multiplier| weight; inhibitory: negative multiplier.
        attractivity: percent of candidate synapses kept (100: all; below: seeded PRNG thinning).
        deduped: the engine's de-duplication removed candidates of this rule (vectors within the
            rule and against the source area's earlier synapses, block_to_block within the rule).
        key_path: genome key path of the rule (for reports).
    """

    src_area: int
    dst_area: int
    morphology: Morphology
    weight: int
    inhibitory: bool
    attractivity: int
    deduped: bool
    key_path: str


@dataclass(frozen=True)
class Connectome:
    """Neurons and synapses developed from a genome (FEAGI neuroembryogenesis).

    Neuron ids are canonical (MODEL.md §1): areas in :attr:`areas` order (core areas first, then
    ascending 8-byte cortical ID), and inside an area with dims (W, H, D) and ``npv`` neurons per
    voxel ``id = area_first[a] + ((x·H + y)·D + z)·npv + k``.

    Attributes:
        genome: the source genome.
        areas: cortical areas, index = area index.
        area_first: int64 ``[n_areas + 1]``; neurons of area ``a`` are
            ``area_first[a] … area_first[a+1] − 1``.
        neuron_area: uint16 ``[N]`` area index of each neuron.
        neuron_x, neuron_y, neuron_z: uint32 ``[N]`` voxel coordinates (area-local).
        neuron_k: uint32 ``[N]`` index of the neuron inside its voxel.
        threshold: float32 ``[N]`` firing threshold with the x/y/z gradient, evaluated in f32 as
            ``((thr0 + x·ix) + y·iy) + z·iz`` (FEAGI ``npu.rs::create_cortical_area_neurons``).
        synapse_src, synapse_dst: uint32 ``[S]`` neuron ids, in FEAGI's creation order.
        synapse_weight: int32 ``[S]`` weight (|PSC multiplier|; the release engine does not clamp
            it to 255).
        synapse_psp: float32 ``[S]`` PSP the synapse carries (the source area's postsynaptic
            current as the release engine stores it).
        synapse_inhibitory: bool ``[S]`` True when the multiplier was negative.
        warnings: parser warnings followed by development warnings.
        synapse_rule: int32 ``[S]`` index into :attr:`rules` of the rule that made each synapse
            (None for connectomes built without it).
        rules: the applied mapping rules, in creation order (:class:`DevelopedRule`).
    """

    genome: Genome
    areas: tuple[CorticalArea, ...]
    area_first: np.ndarray
    neuron_area: np.ndarray
    neuron_x: np.ndarray
    neuron_y: np.ndarray
    neuron_z: np.ndarray
    neuron_k: np.ndarray
    threshold: np.ndarray
    synapse_src: np.ndarray
    synapse_dst: np.ndarray
    synapse_weight: np.ndarray
    synapse_psp: np.ndarray
    synapse_inhibitory: np.ndarray
    warnings: tuple[GenomeWarning, ...]
    synapse_rule: np.ndarray | None = None
    rules: tuple[DevelopedRule, ...] = ()

    @property
    def n_neurons(self) -> int:
        """Total neuron count N."""
        return int(self.area_first[-1])

    @property
    def n_synapses(self) -> int:
        """Total synapse count S (duplicates included, as FEAGI stores them)."""
        return int(self.synapse_src.shape[0])

    def area_index(self, key) -> int:
        """Index of an area given its genome spelling, base64 ID, CorticalID or name.

        Raises:
            KeyError: no such area.
        """
        a = self.genome.area(key)
        return self.areas.index(a)

    def neuron_counts(self) -> np.ndarray:
        """int64 ``[n_areas]`` neurons per area."""
        return np.diff(self.area_first)

    def synapse_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """``(out, in)``: int64 ``[n_areas]`` synapses leaving / entering each area."""
        n = len(self.areas)
        out = np.bincount(self.neuron_area[self.synapse_src], minlength=n).astype(np.int64)
        inn = np.bincount(self.neuron_area[self.synapse_dst], minlength=n).astype(np.int64)
        return out, inn

    def area_param(self, name: str, dtype=None) -> np.ndarray:
        """Per-neuron array of an area-level parameter, e.g. ``area_param("leak_coefficient")``.

        Args:
            name: a :class:`~feagi_embed.genome.model.CorticalArea` attribute.
            dtype: numpy dtype of the result (default: inferred).

        Returns:
            array ``[N]``.
        """
        per_area = np.array([getattr(a, name) for a in self.areas], dtype=dtype)
        return per_area[self.neuron_area]

    def neuron_id(self, area: int, x: int, y: int, z: int, k: int = 0) -> int:
        """Canonical neuron id of ``(area index, x, y, z, k)``.

        Raises:
            IndexError: coordinates outside the area.
        """
        a = self.areas[area]
        w, h, d = a.dims
        npv = a.neurons_per_voxel
        if not (0 <= x < w and 0 <= y < h and 0 <= z < d and 0 <= k < npv):
            raise IndexError(f"({x},{y},{z},{k}) outside area {a.genome_id} {a.dims}x{npv}")
        return int(self.area_first[area]) + ((x * h + y) * d + z) * npv + k
