"""Typed, immutable genome objects produced by :func:`feagi_embed.genome.load_genome`.

Values are those the FEAGI release engine (``feagi-core`` 2.6.10, engine ``feagi 0.0.67``) holds after
loading the genome, not necessarily the raw JSON values: e.g. dropped gene codes take their defaults,
legacy cortical IDs are migrated. Every such rewrite is reported as a warning on :class:`Genome`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from ..errors import GenomeWarning
from .cortical_id import CorticalID


@dataclass(frozen=True)
class Morphology:
    """A neuron morphology (``neuron_morphologies`` entry).

    Attributes:
        id: morphology name as in the genome (e.g. ``"projector"``).
        type: ``"vectors"``, ``"patterns"``, ``"functions"``, ``"composite"``, or ``"none"``: a
            pre-2.0 morphology without ``type`` that the engine keeps but builds no synapses from
            (``GenomeParser.typeless_morphology``; oracle observation).
        vectors: for ``vectors``: tuple of integer ``(dx, dy, dz)`` offsets, in genome order.
        patterns: for ``patterns``: tuple of ``(src, dst)`` pairs; each is a 3-tuple of elements that
            are an ``int`` or one of ``"*"`` (any), ``"?"`` (same as source), ``"!"`` (any but source).
        morphology_class: the genome's ``class`` string (``"core"``, ``"custom"``…), informational.
        composite: for ``composite``: ``{"src_seed", "src_pattern", "mapper_morphology"}`` as given.

    Source: ``feagi-evolutionary/src/genome/converter.rs::parse_single_morphology``.
    """

    id: str
    type: str
    vectors: tuple[tuple[int, int, int], ...] = ()
    patterns: tuple[tuple[tuple[int | str, ...], tuple[int | str, ...]], ...] = ()
    morphology_class: str = "custom"
    composite: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class MappingRule:
    """One cortical mapping rule from a source area to a destination area.

    Attributes:
        morphology_id: name of the morphology to apply.
        morphology_scalar: ``(sx, sy, sz)``; ignored by FEAGI's synaptogenesis (kept for reports).
        psc_multiplier: the raw ``postSynapticCurrent_multiplier`` as a float.
        weight: synapse weight FEAGI derives from it: ``|m|`` when ``m`` has no fractional part,
            else 1 (the release engine keeps values above 255, oracle: learning_v1_1b).
        inhibitory: True when the multiplier is negative.
        plasticity_flag, plasticity_constant, ltp_multiplier, ltd_multiplier, plasticity_window:
            STDP parameters (not executed by feagi-embed; reported).
        has_plasticity_window: False for 4- and 7-element array rules; a plastic rule without a
            window makes the release engine's STDP registration fail (oracle observation).
        synapse_attractivity: percent chance (0…100) that each candidate synapse is created.
        key_path: JSON key path of the rule in the genome file (for messages).

    Source: ``connectome_manager.rs::resolve_synapse_params_for_rule`` (weight/type),
    ``converter_flat_full.rs::process_dstmap`` (array form).
    """

    morphology_id: str
    morphology_scalar: tuple[float, float, float]
    psc_multiplier: float
    weight: int
    inhibitory: bool
    plasticity_flag: bool = False
    plasticity_constant: float = 1.0
    ltp_multiplier: float = 1.0
    ltd_multiplier: float = 1.0
    plasticity_window: int = 1
    synapse_attractivity: float = 100.0
    has_plasticity_window: bool = True
    key_path: tuple[str | int, ...] = ()


@dataclass(frozen=True)
class CorticalMapping:
    """All rules from one source area to one destination area (in genome array order)."""

    destination: CorticalID
    destination_spelling: str
    rules: tuple[MappingRule, ...]


@dataclass(frozen=True)
class CorticalArea:
    """A cortical area with the neuron parameters FEAGI applies to each of its neurons.

    Attributes:
        cortical_id: the engine's 8-byte ID (after legacy migration).
        genome_id: the ID as spelled in the genome file.
        name: display name (``__name-t``), or the engine's name for areas it adds.
        group: ``_group-t`` label (informational; the type comes from the ID).
        dims: ``(width, height, depth)`` in voxels, each ≥ 1.
        neurons_per_voxel: ≥ 1.
        firing_threshold: threshold at voxel (0,0,0) (float, FEAGI holds it as f32).
        threshold_increment: ``(ix, iy, iz)`` added per voxel index along x, y, z.
        threshold_limit: upper bound of the firing window; 0 means none.
        refractory_period: bursts (u16, FEAGI truncates larger values mod 2^16).
        leak_coefficient: fraction removed per leak event, ``V·(1 − leak)``; raw genome value.
        excitability: firing probability, raw genome value (≥ 0.999 means always; percent values
            such as 100 therefore also mean always).
        postsynaptic_current: PSP this area's outgoing synapses carry (raw; clamped 0…255 at
            synaptogenesis).
        psp_uniform_distribution: False ⇒ each contribution is divided by the source's fan-out.
        mp_charge_accumulation: False ⇒ membrane potential reset to 0 every burst.
        mp_driven_psp: True ⇒ PSP taken from the firing neuron's membrane potential.
        consecutive_fire_limit: max consecutive fires (u16); 0 means unlimited.
        snooze_period: extra refractory bursts after hitting the consecutive limit (u16).
        is_memory: ``memory-b`` gene (memory areas are not executed by feagi-embed).
        degeneration: ``de_gen-f``: after every fire of a neuron, the PSP its synapses carry
            drops by this amount (f32 subtraction, floored at 0). FEAGI's source marks it unused,
            but the release engine applies it (oracle: power PSP 500 − 0.01 per fire).
        mappings: outgoing cortical mappings, destinations in ascending base64-ID order (the
            engine's processing order).
        is_core: True for the engine's 1-neuron core areas (``___power`` …).
        declared_in_genome: False for core areas the engine adds on its own.
    """

    cortical_id: CorticalID
    genome_id: str
    name: str
    group: str
    dims: tuple[int, int, int]
    neurons_per_voxel: int
    firing_threshold: float
    threshold_increment: tuple[float, float, float]
    threshold_limit: float
    refractory_period: int
    leak_coefficient: float
    excitability: float
    postsynaptic_current: float
    psp_uniform_distribution: bool
    mp_charge_accumulation: bool
    mp_driven_psp: bool
    consecutive_fire_limit: int
    snooze_period: int
    is_memory: bool = False
    degeneration: float = 0.0
    mappings: tuple[CorticalMapping, ...] = ()
    is_core: bool = False
    declared_in_genome: bool = True

    @property
    def voxel_count(self) -> int:
        """Number of voxels ``W·H·D`` (declared; core areas still get one neuron)."""
        w, h, d = self.dims
        return w * h * d


@dataclass(frozen=True)
class Physiology:
    """Genome-wide physiology.

    Attributes:
        simulation_timestep: seconds per burst (FEAGI's burst period); default 0.025.
        quantization_precision: the genome's requested precision string (informational: FEAGI's
            release engine runs f32 semantics; feagi-embed chooses its own fixed-point format).
    """

    simulation_timestep: float = 0.025
    quantization_precision: str = "fp32"


@dataclass(frozen=True)
class Genome:
    """A parsed genome, as the FEAGI release engine holds it after loading.

    Attributes:
        path: file the genome came from (``"<genome>"`` for in-memory input).
        sha256: hex SHA-256 of the file bytes.
        version: the ``version`` string (``"2.x"`` or ``"3.0"``).
        title: ``genome_title`` or ``""``.
        areas: every cortical area the engine creates, core areas first, then ascending 8-byte ID
            (the canonical order of MODEL.md §1).
        morphologies: by name, after FEAGI inserts its core morphologies.
        physiology: see :class:`Physiology`.
        warnings: everything FEAGI drops or rewrites, with key paths.
    """

    path: str
    sha256: str
    version: str
    title: str
    areas: tuple[CorticalArea, ...]
    morphologies: Mapping[str, Morphology]
    physiology: Physiology
    warnings: tuple[GenomeWarning, ...] = ()

    def area(self, key: str | CorticalID) -> CorticalArea:
        """Look an area up by genome spelling, base64 ID, 8-byte ID or name.

        Raises:
            KeyError: no such area.
        """
        for a in self.areas:
            if key == a.cortical_id or key in (a.genome_id, a.cortical_id.b64, a.name):
                return a
        raise KeyError(f"no cortical area {key!r} in {self.path}")
