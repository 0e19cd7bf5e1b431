"""The gene codes of flat FEAGI genomes and how the release engine reads them.

A flat blueprint key is ``_____10c-<ID>-<scope>-<code>-<t>``: ``<scope>`` is ``cx`` (cortical) or
``nx`` (neuronal) and is ignored; ``<code>-<t>`` (gene name plus type suffix) selects the property.
Codes the engine does not know are ignored by it (we warn). When the same code appears under both
scopes the ``nx`` value wins (the engine iterates keys in sorted order).

Source: ``feagi-evolutionary/src/genome/converter_flat_full.rs`` (``PROPERTY_MAPPINGS``,
``process_area_properties``, ``create_area_template``), confirmed with the oracle for the codes the
shared genomes use (e.g. ``snooze-i``, ``excite-i`` and ``fthlim-i`` are ignored by the engine).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

#: value kinds: "uint" JSON integer ≥ 0; "int" JSON integer; "number" int or float; "bool";
#: "text"; "dict"; "any" (not used by the engine, accepted as is).


@dataclass(frozen=True)
class Gene:
    """A known gene code.

    Attributes:
        code: ``<name>-<t>`` as in the blueprint key, e.g. ``"fire_t-f"``.
        prop: the property name we store it under (FEAGI's internal name where it exists).
        kind: expected JSON kind (see module docs).
        used: True when it affects neurons or synapses.
        meaning: short description for messages and reports.
    """

    code: str
    prop: str
    kind: str
    used: bool
    meaning: str


GENES: dict[str, Gene] = {g.code: g for g in [
    Gene("_n_cnt-i", "neurons_per_voxel", "uint", True, "neurons per voxel"),
    Gene("___bbx-i", "dim_x", "uint", True, "area width in voxels"),
    Gene("___bby-i", "dim_y", "uint", True, "area height in voxels"),
    Gene("___bbz-i", "dim_z", "uint", True, "area depth in voxels"),
    Gene("rcordx-i", "rel_x", "int", False, "area origin x (visualization)"),
    Gene("rcordy-i", "rel_y", "int", False, "area origin y (visualization)"),
    Gene("rcordz-i", "rel_z", "int", False, "area origin z (visualization)"),
    Gene("2dcorx-i", "coord2d_x", "any", False, "circuit-builder x"),
    Gene("2dcory-i", "coord2d_y", "any", False, "circuit-builder y"),
    Gene("__name-t", "name", "text", False, "display name"),
    Gene("_group-t", "group", "any", False, "group label"),
    Gene("subgrp-t", "sub_group", "any", False, "sub-group label"),
    Gene("gd_vis-b", "visualization", "any", False, "show in visualizer"),
    Gene("__rand-b", "random_location", "any", False, "legacy neuron placement"),
    Gene("fire_t-f", "firing_threshold", "number", True, "firing threshold"),
    Gene("ftincx-f", "threshold_increment_x", "number", True, "threshold increment per x"),
    Gene("ftincy-f", "threshold_increment_y", "number", True, "threshold increment per y"),
    Gene("ftincz-f", "threshold_increment_z", "number", True, "threshold increment per z"),
    Gene("fthlim-f", "threshold_limit", "number", True, "firing threshold limit (0 = none)"),
    Gene("refrac-i", "refractory_period", "uint", True, "refractory period (bursts)"),
    Gene("leak_c-f", "leak_coefficient", "number", True, "leak coefficient"),
    Gene("leak_v-f", "leak_variability", "any", False, "leak variability (unused by FEAGI)"),
    Gene("c_fr_c-i", "consecutive_fire_limit", "uint", True, "consecutive fire limit (0 = none)"),
    Gene("snooze-f", "snooze_period", "uint", True, "snooze period (bursts)"),
    Gene("excite-f", "excitability", "number", True, "neuron excitability"),
    Gene("pstcr_-f", "postsynaptic_current", "number", True, "postsynaptic current (PSP)"),
    Gene("pstcrm-f", "postsynaptic_current_max", "any", False, "PSP maximum (unused by FEAGI)"),
    Gene("pspuni-b", "psp_uniform_distribution", "bool", True, "PSP uniform distribution"),
    Gene("mp_acc-b", "mp_charge_accumulation", "bool", True, "membrane charge accumulation"),
    Gene("mp_psp-b", "mp_driven_psp", "bool", True, "membrane-potential-driven PSP"),
    Gene("de_gen-f", "degeneration", "number", True,
         "PSP degeneration per fire (the release engine applies it; oracle)"),
    Gene("synatt-f", "synapse_attractivity_area", "any", False,
         "area synapse attractivity (unused by FEAGI; the rule-level key is used)"),
    Gene("dstmap-d", "cortical_mapping_dst", "dict", True, "outgoing cortical mappings"),
    Gene("memory-b", "is_memory", "bool", False, "memory area flag"),
    Gene("mem__t-i", "longterm_mem_threshold", "any", False, "memory long-term threshold"),
    Gene("mem_gr-i", "lifespan_growth_rate", "any", False, "memory lifespan growth"),
    Gene("mem_ls-i", "init_lifespan", "any", False, "memory initial lifespan"),
    Gene("tmpdpt-i", "temporal_depth", "any", False, "memory temporal depth"),
    Gene("twinrf-t", "memory_twin_of", "any", False, "memory twin reference"),
    Gene("devcnt-i", "dev_count", "any", False, "unused"),
]}

#: Codes seen in real genomes that the engine ignores: the consequence, and a test telling whether
#: ignoring the given value changes anything (oracle-confirmed for snooze-i, excite-i, fthlim-i).
IGNORED_KNOWN: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "snooze-i": ("FEAGI only reads 'snooze-f'; the snooze period stays 0", lambda v: v != 0),
    "excite-i": ("FEAGI only reads 'excite-f'; excitability stays 1.0 (always fire)",
                 lambda v: not (isinstance(v, (int, float)) and v >= 0.999)),
    "fthlim-i": ("FEAGI only reads 'fthlim-f'; the threshold limit stays 0 (none)", lambda v: v != 0),
    "synatt-i": ("FEAGI ignores area-level synapse attractivity", lambda v: v != 100),
    "plst_c-f": ("FEAGI does not read this plasticity constant gene", lambda v: False),
}
