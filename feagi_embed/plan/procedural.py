"""Table or procedural storage per mapping rule (cost model) and the rule-record buffers.

A procedural rule (:class:`~feagi_embed.rules.SynapseRule`, proven exact by the model stage) is
stored as a small record in flash and expanded by the runtime during propagation
(``firmware/feagi_procedural.h``, the MicroPython engine's ``_propagate_rules``) instead of one
target and one contribution per synapse. :func:`choose` decides per rule:

* ``table``: every rule stays a table (the default; the twin and GPU always use tables);
* ``procedural``: every rule that has a record form;
* ``auto``: a rule becomes procedural when it saves flash and its estimated cost per synaptic
  event is at most :data:`MAX_CYCLE_RATIO` times the table path's (:func:`estimate`); for a
  board (``plan_for``), when that plan does not fit, ``auto-fit``: every rule whose record is
  smaller (slower, but it fits), so a user gets tables and fast rules where they fit and the
  compact records where memory requires them.

A source neuron's row is expanded in order: the area's procedural rules that come before its first
table rule, then the table row, then the procedural rules after its last table rule; a procedural
rule between two table rules of the same area would change the order of the row and stays a table.
Rules whose contribution varies between source neurons (fan-out division) stay tables unless the
area computes contributions at run time.

Record layout (C and MicroPython; ``docs/model.md`` §8): per area ``area_rule_first[A + 1]`` and
``area_rule_split[A]`` (its first rule after the table row); per
rule ``rule_flags`` (1: vectors, 2: after the table row, 4: axis lists are all ranges of consecutive
coordinates, 8: every list has at most one coordinate), ``rule_dst`` (destination area),
``rule_c`` (contribution ``C >> k`` exactly, :func:`rule_c_scale`), ``rule_w`` (signed weight,
run-time PSP models), ``rule_arg[3R]``
(axis: offsets of the x, y, z lists in ``rule_axp``, or for single-target rules in ``rule_lin``;
vectors: first offset in ``rule_vec`` and count); ``rule_lin`` (single-target rules: per source
coordinate the destination's partial neuron offset, x: ``first + npv − 1 + u·H·D·npv``, y:
``v·D·npv``, z: ``w·npv``, the type's largest value for none: target = the sum); ``rule_axp`` (per list ``dim + 1`` offsets into ``rule_axv``), ``rule_axv`` (destination
coordinates), ``rule_vec`` (``dx, dy, dz`` triples).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .widths import common_shift, dtype_size, signed_dtype, unsigned_dtype

MODES = ("table", "procedural", "auto")
#: rule_flags bits (must match firmware/feagi_procedural.h and feagi_engine.py)
RF_VECTORS, RF_AFTER, RF_RANGES, RF_SINGLE = 1, 2, 4, 8
#: rule_lin entry of a source coordinate with no destination (as built by :func:`_lin`; stored
#: as the largest value of ``rule_lin``'s type, :func:`lin_sentinel`)
LIN_NONE = 0xFFFFFFFF
#: auto: a procedural rule may cost at most this many times the table path per synaptic event
MAX_CYCLE_RATIO = 1.5
#: Cortex-M4 instructions (QEMU, ``bench/bench_procedural.py``'s least-squares fit over the cost
#: probe and three bundled genomes, procedural and auto builds against the table build, burst by
#: burst; docs/benchmarks.md "Procedural synapses"): a table event (``propagate_table``, the
#: probe's per-event cost); a procedural event inside a run of consecutive targets; per run; per
#: rule and fired source (voxel decode, record loads, the call, and the per-source dispatch of a
#: build with rules; paid also when the rule sends that source nowhere); per fired source of a
#: single-target rule. The event of a rule whose lists are not ranges and the vector tried are not
#: exercised by the measured genomes and keep the first measurement's values (2026-12-03,
#: against a 32-instruction table event).
COST = {"table_event": 17.8, "rule_event": 10.1, "rule_list_event": 24.0, "rule_run": 61.5,
        "rule_vector": 15.0, "rule_row": 81.0, "rule_single": 97.0}
#: internal storage modes of the plan (not CLI values): ``auto-fit`` is ``auto`` without the
#: cycle limit (every rule whose record is smaller), the fallback of ``plan_for`` when the
#: ``auto`` plan does not fit the board
INTERNAL_MODES = ("auto-fit",)


@dataclass(frozen=True)
class Choice:
    """The storage decision for one mapping rule.

    Attributes:
        rule: index into ``model.rules``.
        storage: ``"table"``, ``"procedural"`` or ``"empty"`` (the rule made no synapses).
        table_bytes: flash bytes of its synapses as a table (targets, contributions, weights).
        rule_bytes: flash bytes of its record (header + lists or vectors; 0 without a form).
        cycles_table, cycles_rule: estimated instructions per synaptic event of either path
            (``cycles_rule`` 0 without a form).
        reason: why it is a table ("" when procedural, except a rule over the cycle limit made
            procedural to fit the board: ``auto-fit``).
    """

    rule: int
    storage: str
    table_bytes: int
    rule_bytes: int
    cycles_table: float
    cycles_rule: float
    reason: str = ""

    def to_json(self, model) -> dict:
        """Report row: source/destination area keys, morphology, kind, storage, bytes, cycles."""
        r = model.rules[self.rule]
        keys = model.areas.keys
        return {"rule": self.rule, "src": keys[r.src_area], "dst": keys[r.dst_area],
                "morphology": r.morphology, "kind": r.kind, "storage": self.storage,
                "synapses": r.n_synapses, "table_bytes": self.table_bytes,
                "rule_bytes": self.rule_bytes, "cycles_table": round(self.cycles_table, 1),
                "cycles_rule": round(self.cycles_rule, 1), "reason": self.reason}


def _table_bytes(model, r) -> int:
    nid = dtype_size(unsigned_dtype(max(model.n_neurons - 1, 0)))
    c = np.asarray(model.syn_c, np.int64)
    per = nid + dtype_size(signed_dtype(int(c.min(initial=0)), int(c.max(initial=0))))
    if model.has_runtime_psp:
        w = np.asarray(model.syn_w, np.int64)
        per += dtype_size(signed_dtype(int(w.min(initial=0)), int(w.max(initial=0))))
    return r.n_synapses * per


def _rule_bytes(model, r) -> int:
    head = 1 + 2 + 4 + 3 * 4 + (4 if model.has_runtime_psp else 0)
    if _single(r, model):
        return head + 4 * sum(model.areas.dims[r.src_area])
    if r.kind == "axis":
        return head + sum(2 * len(p) + 2 * len(v) for p, v in r.axes)
    if r.kind == "vectors":
        return head + 6 * len(r.vectors)
    return 0


def runs_per_source(model, r) -> np.ndarray:
    """Runs of consecutive targets an RF_RANGES axis rule ``r`` walks for every neuron of its
    source area (``firmware/feagi_procedural.h::proc_axis``): int64 array, one entry per source
    neuron (voxel-major, ``npv`` neurons per voxel)."""
    cx, cy, cz = (np.diff(np.asarray(p, np.int64)) for p, _ in r.axes)
    _, hd, dd = model.areas.dims[r.dst_area]
    full_z, full_y = (cz == dd), (cy == hd)
    # per (x, y, z): 0 if empty; 1 if z and y span the area; cx if z spans it; else cx * cy
    per = np.where(full_z[None, None, :] & full_y[None, :, None], 1,
                   np.where(full_z[None, None, :], cx[:, None, None],
                            (cx[:, None] * cy[None, :])[:, :, None]))
    nonempty = (cx[:, None, None] > 0) & (cy[None, :, None] > 0) & (cz[None, None, :] > 0)
    return np.repeat((per * nonempty).reshape(-1), int(model.areas.npv[r.src_area]))


def _runs(model, r) -> int:
    """Runs of consecutive targets an RF_RANGES axis rule walks over all its source neurons."""
    return int(runs_per_source(model, r).sum())


def estimate(model, r) -> float:
    """Estimated Cortex-M4 instructions per synaptic event of procedural rule ``r``
    (:data:`COST`): the events plus the per-rule-and-source, per-run and per-vector overheads,
    spread over the rule's events."""
    n_src = int(model.area_counts[r.src_area])
    if not r.n_synapses or not n_src:
        return 0.0
    events = r.n_synapses
    if _single(r, model):  # one flash-table sum per fired source, hit or not
        return COST["rule_single"] * n_src / events
    over = COST["rule_row"] * n_src
    if r.kind == "axis" and _ranges(r):
        per_event = COST["rule_event"]
        over += COST["rule_run"] * _runs(model, r)
    elif r.kind == "axis":
        per_event = COST["rule_list_event"]
    else:
        per_event = COST["rule_event"]
        over += COST["rule_vector"] * len(r.vectors) * n_src
    return per_event + over / events


def _candidate(model, ri: int, mode: str) -> Choice:
    r = model.rules[ri]
    tb, rb = _table_bytes(model, r), _rule_bytes(model, r)
    ct = COST["table_event"]
    cr = estimate(model, r) if r.procedural else 0.0
    if r.n_synapses == 0:
        return Choice(ri, "empty", 0, 0, ct, cr)
    if not r.procedural:
        return Choice(ri, "table", tb, 0, ct, 0.0, r.reason)
    if r.c is None and not model.runtime_psp_areas[r.src_area]:
        return Choice(ri, "table", tb, rb, ct, cr, "contribution varies with the fan-out")
    if mode == "table":
        return Choice(ri, "table", tb, rb, ct, cr, "--synapses table")
    if mode in ("auto", "auto-fit") and rb >= tb:
        return Choice(ri, "table", tb, rb, ct, cr, "the record is not smaller")
    over = f"estimated {cr:.0f} > {MAX_CYCLE_RATIO} x {ct:.0f} instructions per event"
    if mode == "auto" and cr > MAX_CYCLE_RATIO * ct:
        return Choice(ri, "table", tb, rb, ct, cr, over)
    if mode == "auto-fit" and cr > MAX_CYCLE_RATIO * ct:
        return Choice(ri, "procedural", tb, rb, ct, cr, over + ": procedural to fit the board")
    return Choice(ri, "procedural", tb, rb, ct, cr)


def choose(model, mode: str = "table") -> list[Choice]:
    """One :class:`Choice` per rule of ``model.rules`` (index order).

    Raises:
        ValueError: unknown mode.
    """
    if mode not in MODES + INTERNAL_MODES:
        raise ValueError(f"--synapses {mode!r}: expected one of {', '.join(MODES)}")
    out = [_candidate(model, ri, mode) for ri in range(len(model.rules))]
    by_area: dict[int, list[int]] = {}
    for ri, r in enumerate(model.rules):
        by_area.setdefault(r.src_area, []).append(ri)
    for rules in by_area.values():  # keep row order: procedural only before/after the table part
        tables = [ri for ri in rules if out[ri].storage == "table"]
        if not tables:
            continue
        for ri in rules:
            if tables[0] < ri < tables[-1] and out[ri].storage == "procedural":
                c = out[ri]
                out[ri] = Choice(ri, "table", c.table_bytes, c.rule_bytes, c.cycles_table,
                                 c.cycles_rule, "between table rules of its area (row order)")
    return out


def procedural_rules(choices: list[Choice]) -> list[int]:
    """Indices of the rules stored procedurally."""
    return [c.rule for c in choices if c.storage == "procedural"]


def table_csr(model, chosen: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The table part: ``(syn_ptr [N+1], keep [S] bool)`` without the synapses of ``chosen``
    rules (``model.syn_ptr`` when none)."""
    ptr = np.asarray(model.syn_ptr, np.int64)
    if not chosen:
        return ptr, np.ones(model.n_synapses, bool)
    keep = ~np.isin(np.asarray(model.syn_rule, np.int64), np.asarray(chosen, np.int64))
    counts = np.bincount(np.repeat(np.arange(model.n_neurons), np.diff(ptr))[keep],
                         minlength=model.n_neurons)
    return np.concatenate(([0], np.cumsum(counts))).astype(np.int64), keep


def _ranges(r) -> bool:
    """Whether every destination list of axis rule ``r`` is a range of consecutive coordinates."""
    for ptr, vals in r.axes:
        for s in range(len(ptr) - 1):
            seg = vals[ptr[s]:ptr[s + 1]]
            if len(seg) and seg[-1] - seg[0] != len(seg) - 1:
                return False
    return True


#: a one-offset vectors rule becomes a single-target record when its partial-offset tables
#: (4 B per source coordinate) take at most this many bytes
SINGLE_VECTOR_MAX_BYTES = 1024


def _single_axes(model, r):
    """The per-axis lists of ``r`` as a single-target record (RF_SINGLE), or None: an axis rule
    whose lists all have at most one coordinate, or a one-offset vectors rule (separable:
    ``s → s + d`` per axis when inside the destination) with small tables."""
    if r.kind == "axis":
        ok = all(max(np.diff(np.asarray(p, np.int64)), default=0) <= 1 for p, _ in r.axes)
        return r.axes if ok else None
    sdims, ddims = model.areas.dims[r.src_area], model.areas.dims[r.dst_area]
    if r.kind != "vectors" or len(r.vectors) != 1 or 4 * sum(sdims) > SINGLE_VECTOR_MAX_BYTES:
        return None
    axes = []
    for a, s in enumerate(sdims):
        ptr, vals = [0], []
        for x in range(s):
            t = x + r.vectors[0][a]
            if 0 <= t < ddims[a]:
                vals.append(t)
            ptr.append(len(vals))
        axes.append((tuple(ptr), tuple(vals)))
    return tuple(axes)


def _single(r, model=None) -> bool:
    """Whether ``r`` is stored as a single-target record (:func:`_single_axes`)."""
    if model is None:
        return r.kind == "axis" and all(max(np.diff(np.asarray(p, np.int64)), default=0) <= 1
                                        for p, _ in r.axes)
    return _single_axes(model, r) is not None


def _lin(model, r) -> list[int]:
    """``rule_lin`` entries of a single-target rule (x, y, z tables, module docstring)."""
    _, hd, dd = model.areas.dims[r.dst_area]
    nd = int(model.areas.npv[r.dst_area])
    base = int(model.area_first[r.dst_area]) + nd - 1
    scale = (hd * dd * nd, dd * nd, nd)
    out = []
    for a, (ptr, vals) in enumerate(_single_axes(model, r)):
        for s in range(len(ptr) - 1):
            out.append(LIN_NONE if ptr[s + 1] == ptr[s] else
                       vals[ptr[s]] * scale[a] + (base if a == 0 else 0))
    return out


def lin_sentinel(dtype: str) -> int:
    """The "no destination" value of ``rule_lin`` stored as ``dtype``: its largest value
    (``FEAGI_LIN_NONE`` / ``M.LIN_NONE``; :data:`LIN_NONE` for ``u4``)."""
    return (1 << (8 * dtype_size(dtype))) - 1


def rule_c_scale(model, chosen: list[int]) -> int:
    """``2^k`` with ``k`` the largest shift that keeps every contribution of the ``chosen``
    rules exact (``rule_c`` stores ``C >> k``, a narrower type: ``FEAGI_RULE_C_SCALE``,
    ``M.RULE_C_SCALE``)."""
    return 1 << common_shift(np.array([model.rules[ri].c or 0 for ri in chosen], np.int64))


def rule_records(model, chosen: list[int]) -> dict[str, tuple[str, np.ndarray, str, np.ndarray]]:
    """The record arrays of the ``chosen`` rules: ``{name: (dtype, int64 values, doc, owner)}``
    with ``owner`` the source area of every element (-1: shared), in the module docstring's
    layout; empty when none is chosen."""
    if not chosen:
        return {}
    rules = [model.rules[ri] for ri in chosen]
    first = np.zeros(model.n_areas + 1, np.int64)
    for r in rules:
        first[r.src_area + 1] += 1
    first = np.cumsum(first)
    after: list[bool] = []
    for ri in chosen:  # after the table row iff some table rule of the area precedes it
        r = model.rules[ri]
        after.append(any(model.rules[j].src_area == r.src_area and j not in chosen
                         and model.rules[j].n_synapses for j in range(ri)))
    flags, arg, axp, axv, vec, lin = [], [], [], [], [], []
    own_lin: list[int] = []
    own_axp: list[int] = []
    own_axv: list[int] = []
    own_vec: list[int] = []
    for r, aft in zip(rules, after):
        single = _single(r, model)
        flags.append((RF_VECTORS if r.kind == "vectors" and not single else 0)
                     | (RF_AFTER if aft else 0)
                     | (RF_RANGES if r.kind == "axis" and _ranges(r) else 0)
                     | (RF_SINGLE if single else 0))
        if single:  # x, y, z tables of (source dim) entries each, back to back
            k = len(lin)
            for p, _ in _single_axes(model, r):
                arg.append(k)
                k += len(p) - 1
            table = _lin(model, r)
            lin.extend(table)
            own_lin += [r.src_area] * len(table)
        elif r.kind == "axis":
            for p, v in r.axes:
                arg.append(len(axp))
                axp.extend(len(axv) + x for x in p)
                axv.extend(v)
                own_axp += [r.src_area] * len(p)
                own_axv += [r.src_area] * len(v)
        else:
            arg += [len(vec) // 3, len(r.vectors), 0]
            vec.extend(x for t in r.vectors for x in t)
            own_vec += [r.src_area] * (3 * len(r.vectors))
    real = [x for x in lin if x != LIN_NONE]
    lin_t = unsigned_dtype(max(real, default=0) + 1)  # its largest value: none (> every entry)
    lin = [lin_sentinel(lin_t) if x == LIN_NONE else x for x in lin]
    c_full = np.array([r.c if r.c is not None else 0 for r in rules], np.int64)
    c_shift = rule_c_scale(model, chosen).bit_length() - 1
    c = [int(x) for x in c_full >> c_shift]  # exact: C = rule_c * FEAGI_RULE_C_SCALE
    w = [r.w for r in rules]
    own = np.array([r.src_area for r in rules], np.int64)
    split = first[1:].copy()  # the area's first rule after its table row (its end: none)
    for k in range(len(rules) - 1, -1, -1):
        if after[k]:
            split[rules[k].src_area] = k
    out = {
        "area_rule_first": (unsigned_dtype(len(rules)), first,
                            "procedural rules of area a: [first[a], first[a+1])",
                            np.full(len(first), -1)),
        "area_rule_split": (unsigned_dtype(len(rules)), split,
                            "first rule of area a after its table row", np.full(len(split), -1)),
        "rule_flags": ("u1", np.array(flags), "1 vectors (else axis lists), 2 after the table row, 4 axis ranges",
                       own),
        "rule_dst": (unsigned_dtype(max(model.n_areas - 1, 0)),
                     np.array([r.dst_area for r in rules]), "destination area", own),
        "rule_c": (signed_dtype(min(c), max(c)), np.array(c),
                   f"contribution C of every synapse of the rule / {1 << c_shift} "
                   "(FEAGI_RULE_C_SCALE)", own),
        "rule_arg": (unsigned_dtype(max(arg, default=0)), np.array(arg),
                     "axis: x, y, z list offsets in rule_axp; vectors: first, count, 0",
                     np.repeat(own, 3)),
        "rule_axp": (unsigned_dtype(max(len(axv), 1)), np.array(axp, np.int64),
                     "per axis list: dim+1 offsets into rule_axv", np.array(own_axp, np.int64)),
        "rule_axv": (unsigned_dtype(max(axv, default=1)), np.array(axv, np.int64),
                     "destination coordinates (ascending per source coordinate)",
                     np.array(own_axv, np.int64)),
        "rule_vec": (signed_dtype(min(vec, default=0), max(vec, default=0)),
                     np.array(vec, np.int64), "vector offsets dx, dy, dz",
                     np.array(own_vec, np.int64)),
        "rule_lin": (lin_t, np.array(lin, np.int64),
                     "single-target rules: partial target offsets per source coordinate "
                     "(the type's largest value, FEAGI_LIN_NONE: none)",
                     np.array(own_lin, np.int64)),
    }
    if model.has_runtime_psp:
        out["rule_w"] = (signed_dtype(min(w), max(w)), np.array(w),
                         "signed weight (run-time PSP)", own)
    return out


def owner_bytes(dtype: str, owner: np.ndarray) -> dict[int, int]:
    """Bytes per source area of a record array (``owner`` from :func:`rule_records`)."""
    size = dtype_size(dtype)
    own = np.asarray(owner, np.int64)
    return {int(a): int(n) * size for a, n in zip(*np.unique(own[own >= 0], return_counts=True))}
