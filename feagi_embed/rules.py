"""Procedural synapses, model stage: the mapping rules whose synapses a compact rule reproduces.

FEAGI defines most synapses by rules: a projector, block_to_block or a single-pair pattern relates
each source coordinate to a set of destination coordinates independently per axis; a vectors
morphology adds a list of offsets. For every rule the connectome applied
(:class:`~feagi_embed.connectome.model.DevelopedRule`) :func:`describe_rules` builds a
:class:`SynapseRule` and proves it: expanding it for every source neuron must give exactly the
synapses the rule made, element for element, in the order of the neuron's CSR row. A rule that
fails (attractivity thinning with its seeded PRNG, vectors the engine de-duplicated against earlier
synapses, multi-pair patterns whose union is not a per-axis product, composite morphologies …)
stays a table (``kind = "table"`` with the reason).

Rule kinds (``docs/model.md`` §8):

* ``"axis"``: per axis ``a`` and source coordinate ``s``, an ascending list ``L_a(s)`` of
  destination coordinates (``axes[a] = (ptr, values)``: ``L_a(s) = values[ptr[s]:ptr[s+1]]``).
  The synapses of a neuron in source voxel ``(x, y, z)`` go to every voxel ``(u, v, w)`` with
  ``u ∈ L_x(x), v ∈ L_y(y), w ∈ L_z(z)``, ``u`` outermost, ``w`` innermost (ascending linear
  index, the projector's order ``morphology._product``).
* ``"vectors"``: for each offset ``(dx, dy, dz)`` in list order, voxel ``(x+dx, y+dy, z+dz)`` when
  inside the destination (``morphology.vectors``; duplicate offsets removed, first kept, which is
  the engine's de-duplication within the rule). (The plan may store a single-offset rule as a
  single-target axis record: it is separable, ``s → s + d`` per axis when inside.)

Destination voxel → neuron: the voxel's last neuron (``first + lin·npv + npv − 1``); every neuron
of a source voxel makes the same list (``develop._neuron_pairs``). Rows of a neuron are the
concatenation of its rules' segments in rule order (``quantize`` sorts synapses stably by source).

Contribution: a rule's synapses share the weight ``w`` (signed) and the PSP of the source area;
their fixed-point contribution ``c`` is one value unless the area divides by a fan-out that varies
between its neurons (``c = None``; then the rule is procedural only for run-time PSP areas, which
compute ``C`` from ``w`` and the neuron's fan-out anyway).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .connectome import morphology as morph

KINDS = ("axis", "vectors", "table")


@dataclass(frozen=True)
class SynapseRule:
    """One applied mapping rule of the model and how it can be stored.

    Attributes:
        src_area, dst_area: area indices.
        morphology: the morphology's id (``"projector"``, ``"block_to_block"`` …).
        kind: ``"axis"``, ``"vectors"`` (a rule reproduces the synapses exactly) or ``"table"``.
        n_synapses: synapses the rule made.
        w: signed weight (``−w`` for inhibitory rules), as ``Model.syn_w``.
        c: the fixed-point contribution of all its synapses, None when it varies (fan-out
            division) or the rule made none.
        c_f32: the f32 contribution (FEAGI's value), None when it varies.
        axes: ``"axis"``: three ``(ptr, values)`` tuples of ints (source dim + 1 offsets, ascending
            destination coordinates).
        vectors: ``"vectors"``: ``(dx, dy, dz)`` offsets in expansion order.
        reason: why a ``"table"`` rule is not procedural ("" otherwise).
        key_path: the rule's genome key path.
    """

    src_area: int
    dst_area: int
    morphology: str
    kind: str
    n_synapses: int
    w: int
    c: int | None = None
    c_f32: float | None = None
    axes: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...] = ()
    vectors: tuple[tuple[int, int, int], ...] = ()
    reason: str = ""
    key_path: str = ""

    @property
    def procedural(self) -> bool:
        """Whether a rule record reproduces this rule's synapses exactly."""
        return self.kind != "table"

    def to_json(self) -> dict[str, Any]:
        """JSON form (model ``.npz`` metadata)."""
        return {"src_area": self.src_area, "dst_area": self.dst_area,
                "morphology": self.morphology, "kind": self.kind, "n_synapses": self.n_synapses,
                "w": self.w, "c": self.c, "c_f32": self.c_f32,
                "axes": [[list(p), list(v)] for p, v in self.axes],
                "vectors": [list(v) for v in self.vectors], "reason": self.reason,
                "key_path": self.key_path}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "SynapseRule":
        """Inverse of :meth:`to_json`."""
        return cls(int(d["src_area"]), int(d["dst_area"]), str(d["morphology"]), str(d["kind"]),
                   int(d["n_synapses"]), int(d["w"]), None if d.get("c") is None else int(d["c"]),
                   None if d.get("c_f32") is None else float(d["c_f32"]),
                   tuple((tuple(int(x) for x in p), tuple(int(x) for x in v))
                         for p, v in d.get("axes", ())),
                   tuple(tuple(int(x) for x in v) for v in d.get("vectors", ())),  # type: ignore
                   str(d.get("reason", "")), str(d.get("key_path", "")))


# ---------------------------------------------------------------------------- axis relations
def _lists(pairs: tuple[np.ndarray, np.ndarray], s: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Per-source-coordinate destination lists ``(ptr, values)`` of an axis relation given as
    (source, destination) pairs sorted by source then destination."""
    src, dst = (np.asarray(x, np.int64) for x in pairs)
    ptr = np.concatenate(([0], np.cumsum(np.bincount(src, minlength=s)[:s])))
    return tuple(int(x) for x in ptr), tuple(int(x) for x in dst)


def _axis_relations(m, sdims, ddims):
    """The three per-axis relations of an axis-product morphology, or a reason string."""
    if m.type == "functions" and m.id in ("projector", "associative_memory"):
        return [morph.projector_axis(s, d) for s, d in zip(sdims, ddims)]
    if m.type == "functions" and m.id == "block_to_block":
        return [(np.arange(s), np.minimum(np.arange(s), d - 1)) for s, d in zip(sdims, ddims)]
    if m.type == "patterns" and len(m.patterns) == 1:
        sp, dp = m.patterns[0]
        return [morph._pattern_axis(sp[a], dp[a], sdims[a], ddims[a]) for a in range(3)]
    if m.type == "patterns":
        return f"patterns with {len(m.patterns)} pairs (a union, not one per-axis product)"
    return f"{m.type} morphology {m.id!r} has no rule form"


def _dedupe_vectors(vecs) -> tuple[tuple[int, int, int], ...]:
    out: list[tuple[int, int, int]] = []
    for v in vecs:
        t = (int(v[0]), int(v[1]), int(v[2]))
        if t not in out:
            out.append(t)
    return tuple(out)


# ---------------------------------------------------------------------------- expansion
def _voxels_to_neurons(model, rule: SynapseRule, sv: np.ndarray, dv: np.ndarray):
    """Voxel pairs (source voxel ascending, morphology order) → neuron pairs in CSR order."""
    first = np.asarray(model.area_first, np.int64)
    ns, nd = model.areas.npv[rule.src_area], model.areas.npv[rule.dst_area]
    if ns > 1:
        s_all = np.concatenate([sv * ns + k for k in range(ns)])
        order = np.argsort(s_all, kind="stable")
        s_neu, d_vox = s_all[order], np.tile(dv, ns)[order]
    else:
        s_neu, d_vox = sv, dv
    return first[rule.src_area] + s_neu, first[rule.dst_area] + d_vox * nd + (nd - 1)


def expand(model, rule: SynapseRule) -> tuple[np.ndarray, np.ndarray]:
    """All synapses of a procedural rule as int64 ``(source ids, target ids)``, ordered by source
    neuron, then the rule's order (vectorised; :func:`expand_row` is the per-neuron form).

    Raises:
        ValueError: a ``"table"`` rule.
    """
    sd, dd = model.areas.dims[rule.src_area], model.areas.dims[rule.dst_area]
    if rule.kind == "axis":
        rel = []
        for (ptr, vals), s in zip(rule.axes, sd):
            cnt = np.diff(np.asarray(ptr, np.int64))
            rel.append((np.repeat(np.arange(s, dtype=np.int64), cnt), np.asarray(vals, np.int64)))
        sv, dv = morph._product(rel, sd, dd)
    elif rule.kind == "vectors":
        sv, dv = morph.vectors(rule.vectors, sd, dd)
    else:
        raise ValueError(f"rule {rule.key_path}: a table rule has no expansion")
    return _voxels_to_neurons(model, rule, sv, dv)


def expand_row(model, rule: SynapseRule, i: int) -> list[int]:
    """Targets of source neuron ``i`` under ``rule``, in order: the loop the C runtime and the
    MicroPython engine run (reference for the tests; slow)."""
    a_s, a_d = rule.src_area, rule.dst_area
    _, h, d = model.areas.dims[a_s]
    wd, hd, dd = model.areas.dims[a_d]
    ns, nd = model.areas.npv[a_s], model.areas.npv[a_d]
    vox = (i - int(model.area_first[a_s])) // ns
    x, y, z = vox // (h * d), (vox // d) % h, vox % d
    base = int(model.area_first[a_d]) + nd - 1
    out: list[int] = []
    if rule.kind == "axis":
        (px, vx), (py, vy), (pz, vz) = rule.axes
        for u in vx[px[x]:px[x + 1]]:
            for v in vy[py[y]:py[y + 1]]:
                for w in vz[pz[z]:pz[z + 1]]:
                    out.append(base + ((u * hd + v) * dd + w) * nd)
    elif rule.kind == "vectors":
        for dx, dy, dz in rule.vectors:
            u, v, w = x + dx, y + dy, z + dz
            if 0 <= u < wd and 0 <= v < hd and 0 <= w < dd:
                out.append(base + ((u * hd + v) * dd + w) * nd)
    return out


# ---------------------------------------------------------------------------- recognition
def _constant(values: np.ndarray):
    return values[0].item() if len(values) and (values == values[0]).all() else None


def _candidate(model, r, sdims, ddims, n_syn: int, w: int, c, c32) -> SynapseRule:
    """The rule form of developed rule ``r`` before the proof (``kind`` "table" with a reason
    when there is none)."""
    base = dict(src_area=r.src_area, dst_area=r.dst_area, morphology=r.morphology.id,
                n_synapses=n_syn, w=w, c=c, c_f32=c32, key_path=r.key_path)
    if r.attractivity < 100:
        return SynapseRule(kind="table", reason=f"synapse attractivity {r.attractivity} "
                           "(seeded PRNG thinning)", **base)
    m = r.morphology
    if m.type == "vectors":
        return SynapseRule(kind="vectors", vectors=_dedupe_vectors(m.vectors), **base)
    rel = _axis_relations(m, sdims, ddims)
    if isinstance(rel, str):
        return SynapseRule(kind="table", reason=rel, **base)
    axes = tuple(_lists(pr, s) for pr, s in zip(rel, sdims))
    return SynapseRule(kind="axis", axes=axes, **base)


def describe_rules(model, developed, syn_rule: np.ndarray) -> tuple[SynapseRule, ...]:
    """One :class:`SynapseRule` per developed rule, each procedural one proven exact.

    Args:
        model: the :class:`~feagi_embed.model.Model` (CSR arrays in their final order).
        developed: ``Connectome.rules``.
        syn_rule: int ``[S]`` rule index of every synapse in CSR order.

    Returns:
        tuple of rules, index = developed rule index. A rule whose expansion differs from its
        synapses (element for element, in row order) is ``"table"`` with the reason.
    """
    syn_rule = np.asarray(syn_rule, np.int64)
    src_of = np.repeat(np.arange(model.n_neurons, dtype=np.int64),
                       np.diff(np.asarray(model.syn_ptr, np.int64)))
    order = np.argsort(syn_rule, kind="stable")  # per rule: CSR order kept
    bounds = np.searchsorted(syn_rule[order], np.arange(len(developed) + 1))
    out = []
    for ri, r in enumerate(developed):
        idx = order[bounds[ri]:bounds[ri + 1]]
        sdims, ddims = model.areas.dims[r.src_area], model.areas.dims[r.dst_area]
        w = -int(r.weight) if r.inhibitory else int(r.weight)
        c = _constant(np.asarray(model.syn_c)[idx])
        c32 = _constant(np.asarray(model.syn_c_f32)[idx]) if model.syn_c_f32 is not None else None
        cand = _candidate(model, r, sdims, ddims, len(idx), w, c, c32)
        if cand.procedural:
            s_exp, d_exp = expand(model, cand)
            if not (np.array_equal(s_exp, src_of[idx]) and
                    np.array_equal(d_exp, np.asarray(model.syn_dst, np.int64)[idx])):
                why = ("the engine's de-duplication removed synapses" if r.deduped
                       else "expansion differs from the developed synapses")
                cand = SynapseRule(**{**cand.__dict__, "kind": "table", "axes": (),
                                      "vectors": (), "reason": why})
        out.append(cand)
    return tuple(out)


def rows_from_rules(model, rules, syn_rule, procedural: set[int]):
    """Reassemble CSR rows from procedural rules and the remaining table synapses (the proof
    the tests run: must equal the model's rows element for element).

    Returns:
        ``(syn_ptr, syn_dst)`` int64.
    """
    syn_rule = np.asarray(syn_rule, np.int64)
    ptr = np.asarray(model.syn_ptr, np.int64)
    dst = np.asarray(model.syn_dst, np.int64)
    rows: list[list[int]] = []
    by_area: dict[int, list[int]] = {}
    for ri, r in enumerate(rules):
        by_area.setdefault(r.src_area, []).append(ri)
    area_of = model.area_of_neuron
    for i in range(model.n_neurons):
        row: list[int] = []
        seg_r = syn_rule[ptr[i]:ptr[i + 1]]
        seg_d = dst[ptr[i]:ptr[i + 1]]
        for ri in by_area.get(int(area_of[i]), ()):  # the area's rules, in creation order
            if ri in procedural:
                row += expand_row(model, rules[ri], i)
            else:
                row += seg_d[seg_r == ri].tolist()
        rows.append(row)
    out_ptr = np.concatenate(([0], np.cumsum([len(r) for r in rows]))).astype(np.int64)
    return out_ptr, np.asarray([t for r in rows for t in r], np.int64)
