"""Parse FEAGI flat genomes (2.x with 6-char IDs, 3.0 with base64 IDs) into :class:`Genome`.

The result is what the FEAGI release engine holds after ``POST /v1/genome/upload``: the same areas
(legacy IDs migrated, core areas added), the same neuron parameters (ignored gene codes falling back
to defaults) and the same mapping rules (4-, 7- and 8-element arrays and objects). Malformed input
raises :class:`~feagi_embed.errors.GenomeError` naming file, key path, value and expectation; every
input the engine silently drops or rewrites becomes a warning.

Source: ``feagi-evolutionary/src/genome/loader.rs::load_genome_from_json`` and
``converter_flat_full.rs``; where the released engine differs from that source (it accepts 7- and
4-element rules, keeps upper-case legacy IDs), the oracle observation wins.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from types import MappingProxyType
from typing import Any

from .. import limits
from ..errors import Diagnostics, GenomeError
from ..jsonio import check_tree, load_json
from .cortical_id import (ACCEPTED_VERSIONS, CORE_AREA_IDS, CorticalID, brain_regions_rejection,
                          resolve_destination_keys, resolve_genome_ids)
from .genes import GENES, IGNORED_KNOWN
from .model import CorticalArea, CorticalMapping, Genome, MappingRule, Morphology, Physiology

#: Parameters of the areas a flat genome's area template starts from
#: (``converter_flat_full.rs::create_area_template`` + ``CorticalAreaExt`` getter defaults).
AREA_DEFAULTS: dict[str, Any] = {
    "name": "", "group": "CUSTOM", "dim_x": 1, "dim_y": 1, "dim_z": 1, "neurons_per_voxel": 1,
    "firing_threshold": 1.0, "threshold_increment_x": 0.0, "threshold_increment_y": 0.0,
    "threshold_increment_z": 0.0, "threshold_limit": 0.0, "refractory_period": 0,
    "leak_coefficient": 0.0, "excitability": 1.0, "postsynaptic_current": 1.0,
    "psp_uniform_distribution": False, "mp_charge_accumulation": False, "mp_driven_psp": False,
    "consecutive_fire_limit": 0, "snooze_period": 0, "is_memory": False, "degeneration": 0.0,
    "cortical_mapping_dst": {},
}

#: Parameters of a core area the engine creates when the genome does not declare it
#: (oracle observation: e.g. ``___fear_`` threshold 0.1, PSP 500, uniform PSP).
CORE_AREA_DEFAULTS: dict[str, Any] = dict(
    AREA_DEFAULTS, group="CORE", firing_threshold=0.1, postsynaptic_current=500.0,
    psp_uniform_distribution=True)

#: The 13 core morphologies the engine (re)inserts when any of them is missing
#: (``feagi-services/.../templates.rs::add_core_morphologies``).
CORE_MORPHOLOGIES: dict[str, Morphology] = {m.id: m for m in [
    Morphology("block_to_block", "vectors", vectors=((0, 0, 0),), morphology_class="core"),
    Morphology("projector", "functions", morphology_class="core"),
    Morphology("episodic_memory", "functions", morphology_class="core"),
    Morphology("memory_replay", "functions", morphology_class="core"),
    Morphology("associative_memory", "functions", morphology_class="core"),
    Morphology("all_to_0-0-0", "patterns", patterns=((("*", "*", "*"), (0, 0, 0)),),
               morphology_class="core"),
    Morphology("0-0-0_to_all", "patterns", patterns=(((0, 0, 0), ("*", "*", "*")),),
               morphology_class="core"),
    Morphology("lateral_+x", "vectors", vectors=((1, 0, 0),), morphology_class="core"),
    Morphology("lateral_-x", "vectors", vectors=((-1, 0, 0),), morphology_class="core"),
    Morphology("lateral_+y", "vectors", vectors=((0, 1, 0),), morphology_class="core"),
    Morphology("lateral_-y", "vectors", vectors=((0, -1, 0),), morphology_class="core"),
    Morphology("lateral_+z", "vectors", vectors=((0, 0, 1),), morphology_class="core"),
    Morphology("lateral_-z", "vectors", vectors=((0, 0, -1),), morphology_class="core"),
]}

#: Legacy morphology names the engine's migrator renames (``genome/migrator.rs``).
MORPHOLOGY_RENAMES = {"memory": "episodic_memory", "bi_directional_stdp": "associative_memory"}

_U16 = 1 << 16


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    # FEAGI holds genome numbers as f32: a larger magnitude would become infinity (docs/limits.md)
    return limits.is_f32_finite(v)


def _is_i32(v: Any) -> bool:
    # vector components and pattern coordinates are i32 in FEAGI (docs/limits.md)
    return _is_int(v) and -(2**31) <= v < 2**31


class _Parser:
    def __init__(self, data: Any, diag: Diagnostics):
        self.data = data
        self.diag = diag

    # -------------------------------------------------------------- helpers
    def err(self, path, value, expected) -> GenomeError:
        return self.diag.error(path, value, expected)

    def warn(self, code, path, message, value=None):
        self.diag.warn(code, path, message, value)

    # -------------------------------------------------------------- top level
    def parse(self) -> tuple[str, str, tuple[CorticalArea, ...], dict[str, Morphology], Physiology]:
        d = self.data
        if not isinstance(d, dict):
            raise self.err([], type(d).__name__, "a JSON object with 'version' and 'blueprint'")
        version = d.get("version")
        if "version" not in d:
            raise self.err(["version"], None, "a version string such as \"2.1\" or \"3.0\"")
        if not isinstance(version, str) or version not in ACCEPTED_VERSIONS:
            raise self.err(["version"], version,
                           f"one of {', '.join(repr(v) for v in ACCEPTED_VERSIONS)} (the FEAGI "
                           "release engine rejects other versions)")
        if "blueprint" not in d:
            raise self.err(["blueprint"], None, "an object of cortical-area genes")
        bp = d["blueprint"]
        if not isinstance(bp, dict):
            raise self.err(["blueprint"], type(bp).__name__, "an object of cortical-area genes")
        if not self._is_flat(bp):
            raise self.err(["blueprint"], "<hierarchical blueprint>",
                           "a flat blueprint with keys like \"_____10c-<ID>-cx-<gene>-<t>\" "
                           "(FEAGI flat 2.x or 3.0 format)")
        verdict = brain_regions_rejection(d.get("brain_regions"))
        if verdict:
            raise self.err(["brain_regions"], "<brain regions>",
                           f"brain regions the release engine accepts ({verdict}; region keys "
                           "that are not UUIDs are renamed, so parent links to them break)")
        title = d.get("genome_title", "")
        title = title if isinstance(title, str) else ""
        morphologies = self.parse_morphologies(d.get("neuron_morphologies", {}))
        physiology = self.parse_physiology(d)
        areas = self.parse_blueprint(bp, version, morphologies)
        return version, title, areas, morphologies, physiology

    @staticmethod
    def _is_flat(bp: dict) -> bool:
        # loader.rs::is_flat_format
        return any(k.startswith("___") and "-" in k and len(k) > 20 for k in bp)

    def parse_physiology(self, d: dict) -> Physiology:
        phys = d.get("physiology", {})
        if phys is None:
            phys = {}
        if not isinstance(phys, dict):
            raise self.err(["physiology"], type(phys).__name__, "an object")
        ts_key = "simulation_timestep" if "simulation_timestep" in phys else "burst_delay"
        ts = phys.get(ts_key, 0.025)
        if not _is_number(ts):
            raise self.err(["physiology", ts_key], ts, "a number of seconds per burst")
        if ts <= 0:
            self.warn("timestep-fixed", ["physiology", ts_key],
                      f"non-positive timestep {ts}; FEAGI uses 0.025 s", ts)
            ts = 0.025
        prec = phys.get("quantization_precision", "fp32")
        if not isinstance(prec, str):
            raise self.err(["physiology", "quantization_precision"], prec, "a string such as \"fp32\"")
        return Physiology(simulation_timestep=float(ts), quantization_precision=prec)

    # -------------------------------------------------------------- morphologies
    def parse_morphologies(self, raw: Any) -> dict[str, Morphology]:
        path = ["neuron_morphologies"]
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise self.err(path, type(raw).__name__, "an object of morphologies")
        out: dict[str, Morphology] = {}
        for mid, m in raw.items():
            p = path + [mid]
            name = MORPHOLOGY_RENAMES.get(mid, mid)
            if name != mid:
                self.warn("morphology-renamed", p, f"FEAGI renames legacy morphology {mid!r} to {name!r}")
            if not isinstance(m, dict):
                raise self.err(p, m, "an object {\"type\", \"parameters\", \"class\"}")
            if "type" not in m:
                m = self.typeless_morphology(name, m, p)
            out[name] = self.parse_morphology(name, m, p)
        missing = [k for k in CORE_MORPHOLOGIES if k not in out]
        if missing:
            for k, cm in CORE_MORPHOLOGIES.items():
                if k in out and out[k] != cm:
                    self.warn("core-morphology-replaced", path + [k],
                              f"FEAGI re-inserts all core morphologies (because {missing[0]!r} is "
                              f"missing) and replaces this definition of {k!r}")
                out[k] = cm
        return out

    def typeless_morphology(self, mid: str, m: dict, p: list) -> dict:
        """A morphology written without ``type`` (pre-2.0 genomes), as the release engine reads
        it (oracle observation, tests/fixtures/genomes/dialect_typeless_*.json): with
        ``parameters.vectors`` or ``parameters.patterns`` it is built as that type; any other
        form (top-level ``vectors``/``patterns``/``functions`` keys, empty ``parameters``, ``{}``)
        stays defined but makes no synapses, and the source's later mapping rules still run."""
        params = m.get("parameters")
        for kind in ("vectors", "patterns"):
            if isinstance(params, dict) and kind in params:
                self.warn("typeless-morphology", p,
                          f"morphology without 'type': FEAGI builds it as {kind!r} from "
                          f"parameters.{kind}")
                return dict(m, type=kind)
        self.warn("typeless-morphology", p,
                  "morphology without 'type' and without parameters.vectors/patterns (pre-2.0 "
                  "form): FEAGI keeps it but builds no synapses from it", m or None)
        return {"type": "none", "class": m.get("class", "custom")}

    def parse_morphology(self, mid: str, m: dict, p: list) -> Morphology:
        mtype = m["type"]
        params = m.get("parameters", {})
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise self.err(p + ["parameters"], params, "an object")
        cls = m.get("class", "custom")
        cls = cls if isinstance(cls, str) else "custom"
        if mtype == "vectors":
            vecs = params.get("vectors")
            if not isinstance(vecs, list):
                raise self.err(p + ["parameters", "vectors"], vecs, "a list of [dx, dy, dz] integer vectors")
            out = []
            for i, v in enumerate(vecs):
                if not (isinstance(v, list) and len(v) == 3 and all(_is_i32(c) for c in v)):
                    raise self.err(p + ["parameters", "vectors", i], v,
                                   "[dx, dy, dz] with 3 integers in the int32 range")
                out.append(tuple(v))
            return Morphology(mid, "vectors", vectors=tuple(out), morphology_class=cls)
        if mtype == "patterns":
            pats = params.get("patterns")
            if not isinstance(pats, list):
                raise self.err(p + ["parameters", "patterns"], pats, "a list of [source, destination] pattern pairs")
            out = []
            for i, pair in enumerate(pats):
                pp = p + ["parameters", "patterns", i]
                if not (isinstance(pair, list) and len(pair) == 2):
                    raise self.err(pp, pair, "a [source, destination] pair of 3-element patterns")
                sides = []
                for j, side in enumerate(pair):
                    if not (isinstance(side, list) and len(side) == 3
                            and all(_is_i32(e) or e in ("*", "?", "!") for e in side)):
                        raise self.err(pp + [j], side, "3 elements, each an int32 integer or "
                                       "\"*\", \"?\", \"!\"")
                    sides.append(tuple(side))
                out.append((sides[0], sides[1]))
            return Morphology(mid, "patterns", patterns=tuple(out), morphology_class=cls)
        if mtype == "functions":
            return Morphology(mid, "functions", morphology_class=cls)
        if mtype == "none":  # a typeless pre-2.0 morphology (see typeless_morphology)
            return Morphology(mid, "none", morphology_class=cls)
        if mtype == "composite":
            return Morphology(mid, "composite", morphology_class=cls,
                              composite=MappingProxyType(dict(params)))
        raise self.err(p + ["type"], mtype, "one of \"vectors\", \"patterns\", \"functions\", \"composite\"")

    # -------------------------------------------------------------- blueprint
    def parse_blueprint(self, bp: dict, version: str,
                        morphologies: dict[str, Morphology]) -> tuple[CorticalArea, ...]:
        genes: dict[str, dict[str, tuple[Any, tuple]]] = {}
        order: list[str] = []
        for key in sorted(bp):  # the engine iterates a BTreeMap: sorted keys; nx after cx
            value = bp[key]
            parts = key.split("-")
            path = ("blueprint", key)
            if len(parts) != 5 or parts[0] != "_____10c" or not parts[1]:
                self.warn("unknown-key", path, "not a gene key \"_____10c-<ID>-<cx|nx>-<gene>-<t>\"; "
                          "FEAGI ignores it", value)
                continue
            aid = parts[1]
            code = f"{parts[3]}-{parts[4]}"
            if aid not in genes:
                genes[aid] = {}
                order.append(aid)
            gene = GENES.get(code)
            if gene is None:
                why, matters = IGNORED_KNOWN.get(code, ("unknown gene code; FEAGI ignores it",
                                                        lambda v: True))
                if matters(value):
                    self.warn("unknown-gene", path, f"{why} (value {value!r} is lost)", value)
                continue
            prev = genes[aid].get(gene.prop)
            if prev is not None and prev[0] != value:
                self.warn("duplicate-gene", path,
                          f"gene {code!r} also set at {prev[1][1]!r} ({prev[0]!r}); "
                          f"FEAGI keeps this (sorted-last) value")
            genes[aid][gene.prop] = (self.check_gene(gene, value, path), path)

        names = {a: g["name"][0] for a, g in genes.items() if "name" in g}
        dst_keys = [k for g in genes.values() if "cortical_mapping_dst" in g
                    for k in g["cortical_mapping_dst"][0]]
        resolution = resolve_genome_ids(order, version, names, dst_keys=dst_keys)
        # destination keys migrate together with the blueprint IDs (oracle: a destination-only
        # 'i__pro' becomes the proximity unit)
        dst_resolution = resolve_destination_keys(dst_keys, version, order, names)
        by_id: dict[CorticalID, tuple[str, dict]] = {}
        for aid in order:
            res = resolution[aid]
            path = ("blueprint", f"_____10c-{aid}")
            if res.action == "rejected":
                raise self.err(path, aid, f"a cortical ID FEAGI accepts ({res.message})")
            if res.action == "dropped" or res.cortical_id is None:
                self.warn("area-dropped", path, res.message or "FEAGI drops this area", aid)
                continue
            if res.action in ("renamed", "migrated") and res.message:
                self.warn("id-migrated", path, res.message, aid)
            if not names.get(aid):
                raise self.err(("blueprint", f"_____10c-{aid}-cx-__name-t"), names.get(aid),
                               "a non-empty area name (gene '__name-t'; the FEAGI release engine "
                               "rejects genomes with unnamed areas)")
            if res.cortical_id in by_id:
                self.warn("duplicate-area", path,
                          f"{aid!r} and {by_id[res.cortical_id][0]!r} both become "
                          f"{res.cortical_id}; FEAGI keeps one", aid)
            by_id[res.cortical_id] = (aid, genes[aid])

        dst_lookup = {k: r.cortical_id for k, r in dst_resolution.items()}
        known = set(by_id) | set(CORE_AREA_IDS)

        lim = limits.current()
        if len(known) > lim.max_areas:
            raise self.err(("blueprint",), f"{len(known):,} cortical areas",
                           f"at most {lim.max_areas:,} ({limits.hint('max_areas')})")
        areas = []
        for cid in sorted(known):
            if cid in by_id:
                aid, g = by_id[cid]
                areas.append(self.build_area(cid, aid, g, dst_lookup, known, morphologies))
            else:
                areas.append(self.build_area(cid, cid.b64, {}, dst_lookup, known, morphologies,
                                             declared=False))
        total = sum(a.voxel_count * a.neurons_per_voxel if not a.is_core else 1 for a in areas)
        if total > lim.max_neurons:
            raise self.err(("blueprint",), f"{total:,} neurons in all",
                           f"at most {lim.max_neurons:,} neurons ({limits.hint('max_neurons')})")
        return tuple(areas)

    def check_gene(self, gene, value, path):
        k = gene.kind
        if k == "uint":
            if not _is_int(value) or value < 0:
                raise self.err(path, value, f"a non-negative JSON integer ({gene.meaning}); "
                                            "FEAGI fails to load other values")
        elif k == "int":
            if value is None:
                return 0
            if not _is_int(value):
                raise self.err(path, value, f"a JSON integer ({gene.meaning})")
        elif k == "number":
            if not _is_number(value):
                raise self.err(path, value, f"a finite number within ±3.4e38, FEAGI's f32 range "
                                            f"({gene.meaning})")
            value = float(value)
        elif k == "bool":
            if not isinstance(value, bool):
                raise self.err(path, value, f"true or false ({gene.meaning})")
        elif k == "text":
            if not isinstance(value, str):
                raise self.err(path, value, f"a string ({gene.meaning})")
        elif k == "dict":
            if not isinstance(value, dict):
                raise self.err(path, value, f"an object ({gene.meaning})")
        return value

    def suspicious(self, v: dict, exc: float, is_core: bool, path) -> None:
        """Warnings for values FEAGI loads but that almost certainly do not mean what they say."""
        thr = v["firing_threshold"]
        if thr < 0:
            self.warn("threshold-negative", path("firing_threshold"),
                      f"negative firing threshold {thr:g}: FEAGI fires the neuron on any input "
                      "that reaches it (V >= threshold is true for V = 0)", thr)
        if not is_core and exc < 0:
            self.warn("excitability-negative", path("excitability"),
                      f"negative excitability {exc:g}: FEAGI never fires this area's neurons", exc)
        psp = v["postsynaptic_current"]
        if psp < 0:
            self.warn("psp-negative", path("postsynaptic_current"),
                      f"negative PSP {psp:g}: every synapse of this area inverts its sign (an "
                      "excitatory mapping inhibits); use a negative PSC multiplier instead", psp)
        degen = v["degeneration"]
        if degen < 0:
            self.warn("degeneration-negative", path("degeneration"),
                      f"negative degeneration {degen:g}: FEAGI makes the PSP grow without bound "
                      "after every fire; feagi-embed does not model that and keeps the PSP "
                      "constant", degen)
        lim = v["threshold_limit"]
        if lim < 0:
            self.warn("threshold-limit-negative", path("threshold_limit"),
                      f"negative threshold limit {lim:g}: no V >= threshold is <= the limit, so "
                      "FEAGI never fires this area's neurons", lim)

    def check_size(self, dims, npv, path) -> None:
        """Stated limits on one area's size (``docs/limits.md``), before anything is allocated."""
        lim = limits.current()
        for axis, prop, n in zip("xyz", ("dim_x", "dim_y", "dim_z"), dims):
            if n > lim.max_dim:
                raise self.err(path(prop), n, f"an area {axis}-size of at most {lim.max_dim:,} "
                                              f"voxels ({limits.hint('max_dim')})")
        if npv > lim.max_neurons_per_voxel:
            raise self.err(path("neurons_per_voxel"), npv,
                           f"at most {lim.max_neurons_per_voxel:,} neurons per voxel "
                           f"({limits.hint('max_neurons_per_voxel')})")
        total = dims[0] * dims[1] * dims[2] * npv
        if total > lim.max_neurons:
            raise self.err(path("dim_x"), f"{dims[0]}x{dims[1]}x{dims[2]} voxels x {npv} = "
                           f"{total:,} neurons", f"at most {lim.max_neurons:,} neurons "
                           f"({limits.hint('max_neurons')})")

    def build_area(self, cid: CorticalID, aid: str, g: dict, dst_lookup, known, morphologies,
                   declared: bool = True) -> CorticalArea:
        is_core = cid.kind == "core"
        base = CORE_AREA_DEFAULTS if (is_core and not declared) else AREA_DEFAULTS
        v = {k: (g[k][0] if k in g else base[k]) for k in base}
        path = lambda prop: g[prop][1] if prop in g else ("blueprint", f"_____10c-{aid}")  # noqa: E731
        if not declared:
            from .cortical_id import CORE_AREA_NAMES
            v["name"] = CORE_AREA_NAMES.get(cid, cid.b64)
        dims = (v["dim_x"], v["dim_y"], v["dim_z"])
        for axis, prop in zip("xyz", ("dim_x", "dim_y", "dim_z")):
            if v[prop] == 0:
                raise self.err(path(prop), 0, f"an area {axis}-size of at least 1 voxel "
                                              "(FEAGI rejects zero dimensions)")
        npv = v["neurons_per_voxel"]
        if npv == 0:
            self.warn("npv-zero", path("neurons_per_voxel"), "neurons per voxel 0; FEAGI uses 1", 0)
            npv = 1
        if is_core:
            if dims != (1, 1, 1) or npv != 1:
                self.warn("core-area-size", path("dim_x"),
                          f"core area declares {dims[0]}x{dims[1]}x{dims[2]}x{npv} neurons; "
                          "FEAGI gives every core area exactly one neuron", dims)
            dims, npv = (1, 1, 1), 1
        self.check_size(dims, npv, path)
        refr = v["refractory_period"]
        if refr >= _U16:
            self.warn("u16-truncated", path("refractory_period"),
                      f"refractory period {refr} exceeds 65535; FEAGI truncates it to {refr % _U16}", refr)
            refr %= _U16
        cfl = v["consecutive_fire_limit"]
        if cfl >= _U16:
            self.warn("u16-truncated", path("consecutive_fire_limit"),
                      f"consecutive fire limit {cfl} exceeds 65535; FEAGI truncates it to {cfl % _U16}", cfl)
            cfl %= _U16
        snooze = v["snooze_period"]
        if snooze >= _U16:
            self.warn("u16-truncated", path("snooze_period"),
                      f"snooze period {snooze} exceeds 65535; FEAGI truncates it to {snooze % _U16}", snooze)
            snooze %= _U16
        exc = v["excitability"]
        if is_core and not 0.0 <= exc <= 1.0:
            clamped = min(max(exc, 0.0), 1.0)
            self.warn("excitability-clamped", path("excitability"),
                      f"core-area excitability {exc:g} clamped to {clamped:g} by FEAGI", exc)
            exc = clamped
        elif exc > 100.0:
            self.warn("excitability-over-100", path("excitability"),
                      f"excitability {exc:g} is above 100 (%): FEAGI treats any value >= 0.999 "
                      "as 'always fire', so it means the same as 100 but is probably a typo", exc)
        elif 1.0 < exc < 100.0:
            self.warn("excitability-percent", path("excitability"),
                      f"excitability {exc:g} looks like a percentage, but FEAGI treats any value "
                      ">= 0.999 as 'always fire'", exc)
        self.suspicious(v, exc, is_core, path)
        leak = v["leak_coefficient"]
        if leak > 1.0 or leak < 0.0:
            self.warn("leak-range", path("leak_coefficient"),
                      f"leak coefficient {leak:g} outside [0, 1] (a legacy absolute leak?); FEAGI "
                      f"multiplies V by (1 - {leak:g}) = {1 - leak:g} on every leak", leak)
        psc = v["postsynaptic_current"]
        if v["is_memory"]:
            self.warn("memory-area", path("is_memory"),
                      "memory areas (plasticity) are not executed by feagi-embed; its neurons "
                      "behave as plain LIF neurons", True)
        mappings = self.parse_dstmap(aid, v["cortical_mapping_dst"],
                                     path("cortical_mapping_dst"), dst_lookup, known, morphologies)
        return CorticalArea(
            cortical_id=cid, genome_id=aid, name=v["name"], group=str(v["group"]), dims=dims,
            neurons_per_voxel=npv, firing_threshold=float(v["firing_threshold"]),
            threshold_increment=(float(v["threshold_increment_x"]), float(v["threshold_increment_y"]),
                                 float(v["threshold_increment_z"])),
            threshold_limit=float(v["threshold_limit"]), refractory_period=refr,
            leak_coefficient=float(leak), excitability=float(exc),
            postsynaptic_current=float(psc),
            psp_uniform_distribution=v["psp_uniform_distribution"],
            mp_charge_accumulation=v["mp_charge_accumulation"], mp_driven_psp=v["mp_driven_psp"],
            consecutive_fire_limit=cfl, snooze_period=snooze, is_memory=bool(v["is_memory"]),
            degeneration=float(v["degeneration"]),
            mappings=mappings, is_core=is_core, declared_in_genome=declared)

    # -------------------------------------------------------------- mappings
    def parse_dstmap(self, aid, dstmap: dict, path, dst_lookup, known, morphologies):
        by_dst: dict[CorticalID, CorticalMapping] = {}
        for dkey, rules in dstmap.items():
            dp = tuple(path) + (dkey,)
            cid = dst_lookup.get(dkey)
            if cid not in known:
                self.warn("mapping-dropped", dp,
                          f"destination {dkey!r} is not a cortical area FEAGI creates; FEAGI skips "
                          "these rules", dkey)
                continue
            if not isinstance(rules, list):
                raise self.err(dp, rules, "a list of mapping rules")
            parsed = []
            for i, r in enumerate(rules):
                rule = self.parse_rule(r, dp + (i,))
                if rule is None:
                    continue
                if rule.morphology_id not in morphologies:
                    self.warn("unknown-morphology", dp + (i,),
                              f"morphology {rule.morphology_id!r} is not defined; FEAGI stops "
                              f"building the remaining mappings of {aid!r} here", rule.morphology_id)
                parsed.append(rule)
            if cid in by_dst:  # two spellings of one destination: FEAGI merges by key order
                prev = by_dst[cid]
                parsed = list(prev.rules) + parsed
            by_dst[cid] = CorticalMapping(cid, dkey, tuple(parsed))
        # the engine walks destinations in sorted base64 order (a BTreeMap of base64 keys)
        return tuple(by_dst[c] for c in sorted(by_dst, key=lambda c: c.b64))

    def parse_rule(self, r: Any, p: tuple) -> MappingRule | None:
        if isinstance(r, list):
            if len(r) < 4:
                self.warn("rule-dropped", p, f"{len(r)}-element mapping rule; FEAGI needs at least 4 "
                          "([morphology, scalar, psc_multiplier, plasticity_flag]) and drops it", r)
                return None
            keys = ["morphology_id", "morphology_scalar", "postSynapticCurrent_multiplier",
                    "plasticity_flag", "plasticity_constant", "ltp_multiplier", "ltd_multiplier",
                    "plasticity_window"]
            obj = dict(zip(keys, r))
            if len(r) > 8:
                self.warn("rule-extra", p, f"{len(r)}-element mapping rule; elements after the 8th "
                          "are ignored", r)
            return self._rule_from_obj(obj, p, positional=True)
        if isinstance(r, dict):
            need = ("morphology_id", "postSynapticCurrent_multiplier", "plasticity_flag")
            miss = [k for k in need if k not in r]
            if miss:
                self.warn("rule-dropped", p, f"mapping rule object without {miss}; FEAGI drops it", r)
                return None
            return self._rule_from_obj(r, p, positional=False)
        raise self.err(p, r, "a mapping rule: an array [morphology, scalar, psc_multiplier, "
                             "plasticity_flag, ...] or an object with 'morphology_id'")

    def _rule_from_obj(self, o: dict, p: tuple, positional: bool) -> MappingRule:
        def at(key, idx):
            return p + ((idx,) if positional else (key,))
        mid = o["morphology_id"]
        if not isinstance(mid, str):
            raise self.err(at("morphology_id", 0), mid, "a morphology name (string)")
        mid = MORPHOLOGY_RENAMES.get(mid, mid)
        sc = o.get("morphology_scalar", [1, 1, 1])
        if not (isinstance(sc, list) and len(sc) == 3 and all(_is_number(x) for x in sc)):
            raise self.err(at("morphology_scalar", 1), sc, "[sx, sy, sz] numbers")
        m = o["postSynapticCurrent_multiplier"]
        if not _is_number(m):
            raise self.err(at("postSynapticCurrent_multiplier", 2), m, "a number (synapse weight; "
                                                                       "negative = inhibitory)")
        m = float(m)
        if abs(m) >= 2**31:  # the weight is stored as int32 (docs/limits.md)
            raise self.err(at("postSynapticCurrent_multiplier", 2), m,
                           "a PSC multiplier with |m| < 2^31 (the synapse weight is an int32)")
        if m != int(m):
            self.warn("psc-nonint", at("postSynapticCurrent_multiplier", 2),
                      f"non-integer PSC multiplier {m:g}; FEAGI uses weight 1", m)
            weight, inhib = 1, m < 0
        else:  # the release engine keeps weights above 255 (oracle: learning_v1_1b has 300)
            weight, inhib = int(abs(m)), m < 0
        flag = o["plasticity_flag"]
        if not isinstance(flag, bool):
            raise self.err(at("plasticity_flag", 3), flag, "true or false")

        def num(key, idx, default):
            val = o.get(key, default)
            if not _is_number(val):
                raise self.err(at(key, idx), val, "a number")
            return float(val)
        att = o.get("synapse_attractivity", 100)
        if not _is_number(att) or not 0 <= att <= 100:
            raise self.err(p + ("synapse_attractivity",), att, "a number in 0..100")
        if att < 100:
            self.warn("attractivity", p + ("synapse_attractivity",),
                      f"synapse attractivity {att:g} < 100: FEAGI draws synapses from an OS-seeded "
                      "random generator (not reproducible); feagi-embed uses a seeded PRNG", att)
        has_window = "plasticity_window" in o
        if flag and has_window:
            self.warn("plasticity", at("plasticity_flag", 3),
                      "plastic mapping: feagi-embed builds its synapses but does not run STDP", flag)
        window = o.get("plasticity_window", 1)
        return MappingRule(
            morphology_id=mid, morphology_scalar=tuple(float(x) for x in sc), psc_multiplier=m,
            weight=weight, inhibitory=inhib, plasticity_flag=flag,
            plasticity_constant=num("plasticity_constant", 4, 1.0),
            ltp_multiplier=num("ltp_multiplier", 5, 1.0), ltd_multiplier=num("ltd_multiplier", 6, 1.0),
            plasticity_window=int(window) if _is_number(window) else 1,
            synapse_attractivity=float(att), has_plasticity_window=has_window, key_path=tuple(p))


def load_genome(source: str | os.PathLike | dict, *, strict: bool = False,
                name: str | None = None) -> Genome:
    """Load a FEAGI flat genome (2.x or 3.0) the way the FEAGI release engine does.

    Args:
        source: path to a genome JSON file, or an already-decoded JSON object.
        strict: turn every warning (something FEAGI drops or rewrites) into a :class:`GenomeError`.
        name: label used in messages for in-memory input (default ``"<genome>"``).

    Returns:
        :class:`Genome` with areas in canonical order and the warnings collected.

    Raises:
        GenomeError: unreadable file, invalid JSON (through :mod:`feagi_embed.jsonio`: size and
            depth caps, strict UTF-8, duplicate keys, numbers outside int64/double), a structure
            FEAGI cannot load, a stated limit exceeded (``docs/limits.md``), or (strict) any
            warning. The message names file, JSON key path, value and what was expected.
    """
    if isinstance(source, dict):
        label = name or "<genome>"
        check_tree(source, label, error=GenomeError)
        raw = json.dumps(source, sort_keys=True).encode()
        data = source
    else:
        label = os.fspath(source)
        data, raw = load_json(source, error=GenomeError, what="genome file")
    diag = Diagnostics(file=label, strict=strict)
    version, title, areas, morphologies, physiology = _Parser(data, diag).parse()
    return Genome(path=label, sha256=hashlib.sha256(raw).hexdigest(), version=version, title=title,
                  areas=areas, morphologies=MappingProxyType(morphologies), physiology=physiology,
                  warnings=tuple(diag.warnings))
