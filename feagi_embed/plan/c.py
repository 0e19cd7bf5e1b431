"""C strategy: the buffers ``firmware/feagi_runtime.c`` reads (constants in flash) and allocates
(state in RAM).

Element types follow the value ranges (GeNN style: neuron ids by N, synapse offsets by S,
contributions by their range); per-area parameters stay per area (thresholds per neuron only for
areas with a threshold gradient; refractory countdowns only for areas with a refractory period or
snooze, V-at-fire only for mp-driven areas, PSP only for degenerating areas, synapse weights and
fan-outs only when some area needs run-time PSPs). Bytes are attributed to cortical areas.

Precision ``"fp32"`` (FEAGI's ``--precision`` flag name): the same buffers with the f32 values
FEAGI computes with (``Model.*_f32``) as ``float`` constants — thresholds, limits, leak factors
``f32(1 − leak)``, contributions, PSPs, degenerations — and f32 state (V, FCL sums, V at fire,
PSP: 4 B each, never narrowed to 16 bits); the generated header defines
``FEAGI_PRECISION_FP32 1`` and the runtime computes in IEEE single precision.
"""

from __future__ import annotations

import math

import numpy as np

from .buffers import CONST, IO, STATE, Buffer, Plan
from .narrow import narrow_v_proof
from .procedural import (LIN_NONE, choose, lin_sentinel, owner_bytes, procedural_rules,
                         rule_c_scale, rule_records, table_csr)
from .tables import accumulator_hole, area_offsets, area_thresholds, countdown_areas
from .widths import common_shift, dtype_size, signed_dtype, unsigned_dtype

#: flag bits of ``area_flags`` (must match firmware/feagi_runtime.c)
AF_MP_ACC, AF_MP_DRIVEN, AF_DEGEN, AF_OUTPUT, AF_CC16, AF_V16, AF_CC2, AF_V8 = (
    1, 2, 4, 8, 16, 32, 64, 128)
#: ``area_*_base`` offsets meaning "none"
NO_BASE = 0xFFFFFFFF
DEFAULT_QUEUE_LEN = 16
#: RAM buffers the runtime can take from the heap at boot (STATE_ARRAY in feagi_runtime.c)
HEAP_CAPABLE = frozenset({"v32", "v16", "v8", "cc2", "cc8", "cc16", "cd", "acc", "bits", "vfire", "psp"})
#: ``--precision`` values (FEAGI's engine flag): fixed point (default) or IEEE single precision
PRECISIONS = ("fixed", "fp32")


def check_precision(precision: str) -> str:
    """``precision`` if it is one of :data:`PRECISIONS`.

    Raises:
        ValueError: anything else (the message names the expected values).
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r}: expected one of {', '.join(PRECISIONS)}")
    return precision


def plan_precision(plan) -> str:
    """``"fp32"`` for a plan laid out with ``precision="fp32"``, else ``"fixed"``."""
    return "fp32" if plan.constants.get("precision_fp32") else "fixed"


class _Builder:
    """Collects buffers in order (C has no empty arrays: a length-0 buffer gets one element)."""

    def __init__(self, model, fp32: bool = False):
        self.m = model
        self.fp32 = fp32
        self.buffers: list[Buffer] = []
        #: areas with a degenerating PSP (the f32 degeneration decides in fp32, as in the twin)
        self.degen = (np.asarray(model.area_degen_f32) != 0) if fp32 else model.degenerating

    def real(self, fixed_dtype: str) -> str:
        """``"f4"`` in fp32 plans (the value is an f32 constant), else ``fixed_dtype``."""
        return "f4" if self.fp32 else fixed_dtype

    def const(self, name, dtype, values, doc, per_area=None):
        vt = np.float32 if dtype == "f4" else np.int64
        v = np.asarray(values, vt)
        if len(v) == 0:
            v = np.zeros(1, vt)
        self.buffers.append(Buffer(name, CONST, dtype, v, "flash", per_area, doc))

    def ram(self, name, dtype, length, doc, per_area=None, role=STATE):
        self.buffers.append(Buffer(name, role, dtype, np.zeros(max(length, 1), np.int64), "ram",
                                   per_area, doc))

    def per_neuron(self, size: float, mask=None) -> dict[int, int]:
        counts = self.m.area_counts
        return {a: math.ceil(size * int(c)) for a, c in enumerate(counts)
                if c and (mask is None or mask[a])}


def _state_offsets(m, proofs, degen) -> dict[str, tuple[np.ndarray, int]]:
    """Offsets of each area into the per-area state buffers (``{name: (base [A], length)}``);
    ``degen``: bool ``[A]`` degenerating areas."""
    counts = m.area_counts
    bits = np.array([proofs[a].bits if a in proofs else 32 for a in range(m.n_areas)])
    v16, v8 = bits == 16, bits == 8
    # consecutive fire count: a neuron fires only while cc < L (cc >= L in the window resets it
    # to 0 instead), cc only grows by that +1, other writes set 0, force-fire leaves it alone:
    # cc <= L always. L <= 3 (L = 0 included: cc stays 0) packs 4 counts per byte, L <= 255 takes
    # a byte, unlimited areas (L = 65535) count up to 65535 in 16 bits.
    cfl = np.asarray(m.area_cfl, np.int64)
    cc16, cc2 = cfl > 255, cfl <= 3
    masks = {"mpd": np.asarray(m.area_mp_driven, bool), "cd": countdown_areas(m),
             "degen": degen, "cc2": cc2, "cc8": ~cc16 & ~cc2, "cc16": cc16,
             "v32": bits == 32, "v16": v16, "v8": v8}
    return {k: area_offsets(mask, counts, NO_BASE) for k, mask in masks.items()}


def _area_table(b: _Builder, off, proofs) -> None:
    """Per-area parameter buffers (dims, flags, thresholds, dynamics, state offsets)."""
    m = b.m
    dims, npv = m.areas.dims_array, m.areas.npv_array
    cc16, cc2 = off["cc16"][0] != NO_BASE, off["cc2"][0] != NO_BASE
    v16, v8 = off["v16"][0] != NO_BASE, off["v8"][0] != NO_BASE
    flags = ((np.asarray(m.area_mp_acc, bool) * AF_MP_ACC)
             | (np.asarray(m.area_mp_driven, bool) * AF_MP_DRIVEN) | (b.degen * AF_DEGEN)
             | (m.output_areas * AF_OUTPUT) | (cc16 * AF_CC16) | (v16 * AF_V16)
             | (cc2 * AF_CC2) | (v8 * AF_V8)).astype(np.int64)
    b.const("area_first", unsigned_dtype(m.n_neurons), m.area_first, "first neuron id per area (+ N)")
    dim_t = unsigned_dtype(int(max(dims.max(initial=1), npv.max(initial=1))))
    b.const("area_w", dim_t, dims[:, 0], "dims x")
    b.const("area_h", dim_t, dims[:, 1], "dims y")
    b.const("area_d", dim_t, dims[:, 2], "dims z")
    b.const("area_npv", dim_t, npv, "neurons per voxel")
    b.const("area_flags", "u1", flags,
            "1 mp_acc, 2 mp_driven, 4 degenerating, 8 output, 16 cc uint16, 32 V int16, "
            "64 cc 2-bit, 128 V uint8")
    area_thr, thr_base, _ = area_thresholds(m, NO_BASE, m.threshold_f32 if b.fp32 else None)
    if b.fp32:
        b.const("area_thr", "f4", area_thr, "uniform threshold f32(thr)")
    else:
        b.const("area_thr", "i4", area_thr, "uniform threshold ceil(thr*2^F)")
    b.const("area_thr_base", "u4", thr_base, "offset into thr (gradient areas) or 0xFFFFFFFF")
    if b.fp32:
        b.const("area_limit", "f4", m.area_limit_f32, "limit f32(lim) (FLT_MAX: none)")
        b.const("area_leak_k", "f4", m.area_leak_f32, "leak factor f32(1 - leak)")
    else:
        b.const("area_limit", "i4", m.area_limit, "limit floor(lim*2^F) (INT32_MAX: none)")
        b.const("area_leak_k", "i4", m.area_leak_k, "leak factor K (65536: no leak)")
    b.const("area_exc_mode", "u1", m.area_exc_mode, "0 always, 1 never, 2 threshold")
    b.const("area_exc_t", "u4", m.area_exc_t, "excitability threshold T")
    b.const("area_refr", "u2", m.area_refractory, "refractory period R")
    b.const("area_snooze", "u2", m.area_snooze, "snooze period S")
    b.const("area_cfl", "u2", m.area_cfl, "consecutive fire limit L (65535: unlimited)")
    b.const("area_mpd_base", "u4", off["mpd"][0], "offset into V-at-fire (mp-driven areas)")
    b.const("area_degen_base", "u4", off["degen"][0], "offset into PSP state (degenerating areas)")
    b.const("area_cd_base", "u4", off["cd"][0], "offset into cd (areas with R or a snooze)")
    b.const("area_cc_base", "u4",
            np.where(cc16, off["cc16"][0], np.where(cc2, off["cc2"][0], off["cc8"][0])),
            "offset into cc2 (AF_CC2, 2-bit slots), cc8 (L <= 255) or cc16 (AF_CC16)")
    b.const("area_v_base", "u4",
            np.where(v16, off["v16"][0], np.where(v8, off["v8"][0], off["v32"][0])),
            "offset into v32, or into v16 (AF_V16 areas) or v8 (AF_V8 areas)")
    shift = [proofs[a].shift if a in proofs else 0 for a in range(m.n_areas)]
    b.const("area_v_shift", "u1", shift, "AF_V16 / AF_V8 areas: V = v16 (v8) << shift")
    if b.fp32:
        b.const("area_psp", "f4", np.where(b.degen, m.area_psp_f32, 0),
                "initial f32(PSP) of degenerating areas")
        b.const("area_degen", "f4", np.where(b.degen, m.area_degen_f32, 0), "f32(degeneration)")
    else:
        b.const("area_psp", "i4", np.where(m.degenerating, m.area_psp, 0),
                "initial q(PSP) of degenerating areas")
        b.const("area_degen", "i4", np.where(m.degenerating, m.area_degen, 0), "q(degeneration)")


def _synapse_tables(b: _Builder, chosen: list[int] | None = None) -> dict[str, int]:
    """Gradient thresholds and the CSR synapse buffers (without the synapses of the ``chosen``
    procedural rules, whose records follow); returns their sizing constants."""
    m = b.m
    counts, first = m.area_counts, np.asarray(m.area_first, np.int64)
    chosen = chosen or []
    table_ptr, keep = table_csr(m, chosen)
    n_table = int(table_ptr[-1])
    syn_per_area = (np.bincount(m.area_of_neuron, weights=np.diff(table_ptr),
                                minlength=m.n_areas).astype(np.int64) if chosen
                    else m.synapses_out_per_area)
    _, thr_base, thr_nrn = area_thresholds(m, NO_BASE, m.threshold_f32 if b.fp32 else None)
    b.const("thr", b.real("i4"), thr_nrn, "per-neuron thresholds of gradient areas",
            {a: int(counts[a]) * 4 for a in range(m.n_areas) if thr_base[a] != NO_BASE})
    # CSR offsets only for areas with outgoing synapses: count+1 absolute offsets per such area
    syn_ptr = table_ptr
    sp_base, parts, total = np.full(m.n_areas, NO_BASE, np.int64), [], 0
    for a in range(m.n_areas):
        if syn_per_area[a] > 0:
            sp_base[a] = total
            parts.append(syn_ptr[first[a]:first[a + 1] + 1])
            total += int(counts[a]) + 1
    sp = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    # area_sp_base in the narrowest type: "no table row" is its largest value (> every base)
    base_t = unsigned_dtype(total)
    sp_none = (1 << (8 * dtype_size(base_t))) - 1
    sp_base = np.where(sp_base == NO_BASE, sp_none, sp_base)
    sptr_t, nid_t = unsigned_dtype(n_table), unsigned_dtype(max(m.n_neurons - 1, 0))
    if b.fp32:  # FEAGI's f32 contribution (w*psp*sign)/n, stored as computed
        syn_c, c_shift, c_t = np.asarray(m.syn_c_f32, np.float32)[keep], 0, "f4"
    else:
        syn_c = np.asarray(m.syn_c, np.int64)[keep]
        # contributions are often multiples of 2^k (e.g. q(5.0) with F = 16): store C >> k
        # exactly in a narrower type; the runtime multiplies by FEAGI_SYN_C_SCALE = 2^k
        c_shift = common_shift(syn_c)
        syn_c = syn_c >> c_shift
        c_t = signed_dtype(int(syn_c.min(initial=0)), int(syn_c.max(initial=0)))

    def per_syn(dtype):
        return {a: int(c) * dtype_size(dtype) for a, c in enumerate(syn_per_area) if c}

    b.const("area_sp_base", base_t, sp_base,
            "offset into syn_ptr (areas with table synapses) or FEAGI_SP_NONE")
    b.const("syn_ptr", sptr_t, sp, "CSR offsets of outgoing synapses by source (count+1 per area)",
            {a: (int(counts[a]) + 1) * dtype_size(sptr_t) for a in range(m.n_areas)
             if sp_base[a] != NO_BASE})
    b.const("syn_dst", nid_t, np.asarray(m.syn_dst)[keep], "synapse targets", per_syn(nid_t))
    b.const("syn_c", c_t, syn_c, "contribution f32(w*psp*sign/n)" if b.fp32 else
            "contribution q(w*psp*sign/n) / FEAGI_SYN_C_SCALE", per_syn(c_t))
    if _has_runtime_psp(b):
        w, fan = np.asarray(m.syn_w, np.int64)[keep], np.asarray(m.fanout, np.int64)
        w_t = signed_dtype(int(w.min(initial=0)), int(w.max(initial=0)))
        fan_t = unsigned_dtype(int(fan.max(initial=1)))
        b.const("syn_w", w_t, w, "signed weight (run-time PSP sources)", per_syn(w_t))
        b.const("fanout", fan_t, fan, "fan-out divisor n", b.per_neuron(dtype_size(fan_t)))
    records = rule_records(m, chosen)
    for name, (dtype, values, doc, owner) in records.items():
        b.const(name, dtype, values, doc, owner_bytes(dtype, owner))
    lin_none = lin_sentinel(records["rule_lin"][0]) if records else LIN_NONE
    return {"n_thr": len(thr_nrn), "syn_c_scale": 1 << c_shift, "n_sp": len(sp), "sp_none": sp_none,
            "index_c": c_t, "s_table": n_table,
            "lin_none": lin_none}


def _has_runtime_psp(b: _Builder) -> bool:
    """Whether some source computes its contributions at run time (mp-driven or degenerating)."""
    return bool((np.asarray(b.m.area_mp_driven, bool) | b.degen).any())


def _state(b: _Builder, off, queue_len: int) -> dict[str, int]:
    """RAM state buffers; returns the accumulator / side-list constants."""
    m = b.m
    n, counts = m.n_neurons, m.area_counts

    def state(name, dtype, key, doc, width):
        mask = off[key][0] != NO_BASE
        b.ram(name, dtype, off[key][1], doc,
              {a: int(counts[a]) * width for a in range(m.n_areas) if mask[a] and counts[a]})

    pot = b.real("i4")  # membrane potential, FCL sum, V at fire, PSP: int32 or f32 (4 B)
    state("v32", pot, "v32", "membrane potential (f32)" if b.fp32 else
          "membrane potential (int32 areas)", 4)
    state("v16", "u2", "v16", "membrane potential >> shift (areas proven to fit 16 bits)", 2)
    if off["v8"][1]:  # only plans with 8-bit areas have the array (FEAGI_N_V8 > 0)
        state("v8", "u1", "v8", "membrane potential >> shift (areas proven to fit 8 bits)", 1)
    cc2 = off["cc2"][0] != NO_BASE  # 4 counts per byte: areas get their whole bytes
    b.ram("cc2", "u1", (off["cc2"][1] + 3) // 4, "consecutive fire count, 2 bits (areas with L <= 3)",
          {a: int(counts[a]) // 4 for a in range(m.n_areas) if cc2[a] and counts[a] >= 4})
    state("cc8", "u1", "cc8", "consecutive fire count (areas with 3 < L <= 255)", 1)
    state("cc16", "u2", "cc16", "consecutive fire count (areas with L unlimited)", 2)
    state("cd", "u2", "cd", "refractory countdown (areas with R > 0 or a snooze)", 2)
    # FCL accumulator: dense for every neuron except the longest run [hole_lo, hole_hi) of
    # neurons that no synapse targets. Such a neuron only receives input from the injection
    # queue (at most queue_len entries per burst) and the power neuron (one), so at most
    # queue_len + 1 distinct hole neurons are candidates in a burst; the runtime keeps their
    # sums in a side list of (id, acc) of exactly that capacity (same wrap32 sums, same order).
    hole_lo, hole_hi = accumulator_hole(m)
    in_hole = np.zeros(n, bool)
    in_hole[hole_lo:hole_hi] = True
    acc_counts = np.bincount(m.area_of_neuron[~in_hole], minlength=m.n_areas) if n else counts * 0
    side_len = queue_len + 1
    b.ram("acc", pot, n - (hole_hi - hole_lo), "FCL accumulator (neurons outside the untargeted hole)",
          {a: int(c) * 4 for a, c in enumerate(acc_counts) if c})
    b.ram("side_id", "u4", side_len, "FCL side list ids (hole neurons)")
    b.ram("side_acc", pot, side_len, "FCL side list sums (hole neurons)")
    # open-addressing index id -> side-list slot (load <= 1/2), so finding a hole neuron's sum is
    # O(1) instead of a linear search (a camera frame injects hundreds of hole neurons per burst)
    side_hash_bits = max(int(2 * side_len - 1).bit_length(), 1)
    side_t = unsigned_dtype(side_len)
    b.ram("side_slot", side_t, 1 << side_hash_bits, "FCL side list index: hash(id) -> slot + 1 (0: empty)")
    b.ram("bits", "u4", 4 * ((n + 31) // 32), "bitmaps: candidate, forced, blocked, fired",
          b.per_neuron(0.5))
    state("vfire", pot, "mpd", "V at fire (mp-driven areas)", 4)
    state("psp", pot, "degen", "PSP (degenerating areas)", 4)
    b.ram("queue", "u1", queue_len * 9, "injection/force queue (id u32, value i32, kind u8)", role=IO)
    return {"hole_lo": hole_lo, "hole_hi": hole_hi, "n_acc": n - (hole_hi - hole_lo),
            "side_len": side_len, "side_hash_bits": side_hash_bits, "index_side": side_t}


def _per_area(m, buffers: list[Buffer]) -> dict[str, dict[str, int]]:
    """Area key → bytes per region, neurons and outgoing synapses."""
    keys = m.areas.keys
    per = {keys[a]: {"flash": 0, "ram": 0, "neurons": int(m.area_counts[a]),
                     "synapses_out": int(m.synapses_out_per_area[a])} for a in range(m.n_areas)}
    for buf in buffers:
        for a, nbytes in (buf.per_area or {}).items():
            per[keys[a]][buf.region] += nbytes
    return per


def _tables_won(table: Plan, auto: Plan) -> Plan:
    """The all-table plan, reporting auto's per-rule estimates with the reason it was kept."""
    table.synapse_rules = [dict(r, storage="table" if r["storage"] == "procedural" else
                                r["storage"], reason=r["reason"] or "auto: the all-table plan "
                                "takes less flash") for r in auto.synapse_rules]
    return table


def _packing(m, off, proofs, hole: tuple[int, int], real: str = "int32"
             ) -> dict[str, dict[str, str]]:
    """Area key → how each per-neuron state variable of the area is stored (``report``):
    ``v`` (``int32``, ``uint16 >> s``, ``uint8 >> s``), ``cc`` (``2-bit``, ``uint8``,
    ``uint16``), ``cd`` (``uint16`` or ``none``: no refractory period or snooze), ``acc``
    (``int32``, ``side list`` for neurons no synapse targets, or ``int32 + side list``);
    ``real``: the unnarrowed type (``float32`` in fp32 plans)."""
    first = np.asarray(m.area_first, np.int64)
    out = {}
    for a, key in enumerate(m.areas.keys):
        p = proofs.get(a)
        v = f"uint{p.bits} >> {p.shift}" if p else real
        cc = next((name for k, name in (("cc2", "2-bit"), ("cc8", "uint8"), ("cc16", "uint16"))
                   if off[k][0][a] != NO_BASE), "none")
        cd = "uint16" if off["cd"][0][a] != NO_BASE else "none"
        inside = max(0, min(int(first[a + 1]), hole[1]) - max(int(first[a]), hole[0]))
        n = int(first[a + 1] - first[a])
        acc = "side list" if n and inside == n else f"{real} + side list" if inside else real
        out[key] = {"v": v, "cc": cc, "cd": cd, "acc": acc}
    return out


def layout_c(model, *, queue_len: int = DEFAULT_QUEUE_LEN, narrow_v: bool = False,
             v8: bool = False, injections: int = 1, nonneg: bool = False,
             precision: str = "fixed", synapses: str = "table") -> Plan:
    """The C runtime's plan of ``model`` (:class:`~feagi_embed.model.Model`).

    Args:
        queue_len: capacity of the runtime's injection/force-fire queue (entries per burst).
        narrow_v: store the membrane potential of every area that
            :func:`~feagi_embed.plan.narrow.narrow_v_proof` admits in 16 bits (``V >> shift``);
            sensory values injected there must then be multiples of the area's ``sensory_step``.
        nonneg: with ``narrow_v``, also narrow areas without charge accumulation whose static
            input is non-negative (their sensory values must then be >= 0).
        v8: with ``narrow_v``, also store areas proven to fit 8 bits in uint8 (sensory step at
            most 1.0; :func:`~feagi_embed.plan.narrow.narrow_v_proof` with widths (16, 8)).
            ``narrow_v``, ``nonneg`` and ``v8`` together: every packing the proofs allow.
        injections: with ``narrow_v``, the max-sensory injections per neuron per burst the proof
            budgets (constant ``sensory_budget_q`` = injections × q(max_sensory), the sum of
            positive values one neuron of a narrow area accepts in one burst).
        precision: ``"fixed"`` (the fixed-point model) or ``"fp32"`` (f32 constants and state;
            ``constants["precision_fp32"] = 1``, see the module docstring). ``narrow_v``,
            ``nonneg``, ``v8`` and ``injections`` are ignored with ``"fp32"`` (f32 state is never
            narrowed).
        synapses: ``"table"``, ``"procedural"`` or ``"auto"``: which mapping rules are stored
            as rule records expanded by the runtime (:func:`~feagi_embed.plan.procedural.choose`).
            Rule records carry fixed-point contributions, so fp32 plans are table-only.

    Raises:
        ValueError: an unknown precision, or ``synapses`` other than ``"table"`` with fp32.

    Returns:
        :class:`~feagi_embed.plan.buffers.Plan` with ``target="c"`` (no heap placement yet:
        :func:`~feagi_embed.plan.fit.place_state`).
    """
    fp32 = check_precision(precision) == "fp32"
    if fp32 and synapses != "table":
        raise ValueError(f"--synapses {synapses} with --precision fp32: procedural rule records "
                         "carry fixed-point contributions only; use --synapses table")
    if synapses in ("auto", "auto-fit"):  # never more flash than the all-table plan
        kw = dict(queue_len=queue_len, narrow_v=narrow_v, v8=v8, injections=injections,
                  nonneg=nonneg)
        auto = layout_c(model, synapses=synapses + "-rules", **kw)
        table = layout_c(model, **kw)
        return auto if auto.flash_bytes < table.flash_bytes else _tables_won(table, auto)
    m = model
    proofs = (narrow_v_proof(m, (16, 8) if v8 else (16,), injections, nonneg)
              if narrow_v and not fp32 else {})
    b = _Builder(m, fp32)
    off = _state_offsets(m, proofs, b.degen)
    _area_table(b, off, proofs)
    choices = choose(m, synapses[:-len("-rules")] if synapses.endswith("-rules") else synapses)
    chosen = procedural_rules(choices)
    syn = _synapse_tables(b, chosen)
    acc = _state(b, off, queue_len)
    constants = {
        "n": m.n_neurons, "s": syn["s_table"], "a": m.n_areas, "f": int(m.frac_bits),
        "power_neuron": m.power_neuron, "power_in": m.power_input, "forced_v": m.forced_v,
        "large_brain": int(m.large_brain), "psp_cap": m.psp_cap,
        "has_runtime_psp": int(_has_runtime_psp(b)), "n_mpd": off["mpd"][1],
        "n_degen": off["degen"][1], "n_thr": syn["n_thr"], "n_cd": off["cd"][1],
        "n_cc2": off["cc2"][1], "n_cc8": off["cc8"][1], "n_cc16": off["cc16"][1],
        "syn_c_scale": syn["syn_c_scale"],
        "n_sp": syn["n_sp"], "sp_none": syn["sp_none"], "queue_len": int(queue_len), "hole_lo": acc["hole_lo"],
        "hole_hi": acc["hole_hi"], "n_acc": acc["n_acc"], "side_len": acc["side_len"],
        "side_hash_bits": acc["side_hash_bits"], "n_v32": off["v32"][1], "n_v16": off["v16"][1],
        "n_v8": off["v8"][1],
        "max_sensory_q": m.max_sensory_q,
        "sensory_budget_q": int(injections) * m.max_sensory_q,
    }
    if fp32:  # FEAGI's power input 1.0 and forced-fire V 100.0, exact in f32
        constants.update(power_in=1, forced_v=100, precision_fp32=1)
    if chosen:  # only then: table-only models emit exactly what they did before
        constants["n_rules"] = len(chosen)
        constants["s_procedural"] = m.n_synapses - syn["s_table"]
        constants["lin_none"] = syn["lin_none"]
        constants["rule_c_scale"] = rule_c_scale(m, chosen)
    index_types = {"nid": unsigned_dtype(max(m.n_neurons - 1, 0)),
                   "sptr": unsigned_dtype(syn["s_table"]),
                   "area": unsigned_dtype(max(m.n_areas - 1, 0)), "c": syn["index_c"],
                   "side": acc["index_side"]}
    keys = m.areas.keys
    per_area = _per_area(m, b.buffers)
    for key, pk in _packing(m, off, proofs, (acc["hole_lo"], acc["hole_hi"]),
                            "float32" if fp32 else "int32").items():
        per_area[key]["packing"] = pk
    plan = Plan("c", b.buffers, index_types, constants, per_area,
                {keys[a]: p for a, p in proofs.items()})
    plan.synapse_rules = [c.to_json(m) for c in choices]
    return plan
