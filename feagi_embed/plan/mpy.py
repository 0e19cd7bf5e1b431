"""MicroPython strategy: the arrays of ``feagi_model.bin`` (each in the narrowest ``array`` type its
value range allows), the engine's state arrays, and the GC-heap estimate.

Per-area parameters stay per cortical area, per-neuron thresholds only for gradient areas,
contributions shifted right by their common power of two (as the C strategy). The engine keeps V
and the FCL accumulator as int32, flags as bytes, refractory countdown / consecutive count in one
byte where the model's ranges allow, and FCL / refractory lists as 16-bit ids (N < 65536) or 32.
Precision ``"fp32"``: thresholds, limits, leak factors, contributions, PSPs and degenerations are
the f32 values FEAGI computes with (``array("f")``), and so are V, the FCL sums, V at fire and
the PSP state (``FP32 = True`` in ``feagi_model.py``; the engine rounds to f32 after every
operation, docs/model.md §7).

Heap (:func:`estimate_heap`): a 32-bit port's GC heap allocates 16-byte blocks; every ``array`` /
``bytes`` / ``bytearray`` costs a 16-byte object plus its items rounded up to blocks. The estimate
adds the interpreter baseline and the imported code (measured once in the WebAssembly port, a
32-bit build; see docs/benchmarks.md), the model and state arrays, and the largest transient
(loading one array, or two fired-id lists when every neuron fires).
"""

from __future__ import annotations

import numpy as np

from .buffers import CONST, Buffer, Plan
from .procedural import (choose, lin_sentinel, procedural_rules, rule_c_scale, rule_records,
                         table_csr)
from .tables import accumulator_hole, area_offsets, area_thresholds, countdown_areas
from .widths import common_shift, dtype_size, signed_dtype, unsigned_dtype

#: GC block size of a 32-bit port (MICROPY_BYTES_PER_GC_BLOCK = 4 words)
GC_BLOCK = 16
#: object header of array/bytearray/bytes on a 32-bit port (base, typecode/len, len, items)
OBJ_HEADER = 16
#: heap in use after boot before our imports: an assumption with margin (measured 1,120 B in the
#: unix port and 1,840 B in the WebAssembly port; a device's boot.py/REPL/network may take more)
BASELINE_BYTES = 8_000
#: heap taken by importing feagi_model + feagi_engine + feagi_viper from .py source, measured in
#: the unix port (64-bit words, so an upper bound of a 32-bit port): 15.6-16.4 KB before the area
#: names were added to feagi_model.py, 23.3 KB with them for gesture_recognition_12_1 (the
#: bundled genome with the most named areas), 24.8 KB once the engine learnt to expand procedural
#: synapse rules (issue 14); .mpy imports and frozen modules need less.
#: Checked by tests/test_micropython.py.
CODE_BYTES = 26_000
#: the Engine instance: attribute dict (~60 entries), small lists and scalars
ENGINE_BYTES = 2_000
#: default injection/force-fire queue entries per burst (as the C runtime's FEAGI_QUEUE_LEN)
DEFAULT_QUEUE_LEN = 16


def _alloc(nbytes: int) -> int:
    """Heap bytes of one GC allocation of ``nbytes`` (rounded up to blocks; 0 for none)."""
    return -(-nbytes // GC_BLOCK) * GC_BLOCK if nbytes > 0 else 0


def _model_arrays(m, fp32: bool = False,
                  chosen: list[int] | None = None) -> tuple[list[Buffer], int, int]:
    """The arrays of ``feagi_model.bin`` in file order (synapse tables without the ``chosen``
    procedural rules, whose records come last); also the contribution shift and the number of
    per-neuron PSP entries (``fp32``: f32 values, see the module docstring)."""
    out: list[Buffer] = []
    chosen = chosen or []
    table_ptr, keep = table_csr(m, chosen)

    def add(name, dtype, values, doc):
        vt = np.float32 if dtype == "f4" else np.int64
        out.append(Buffer(name, CONST, dtype, np.asarray(values, vt), "model", None, doc))

    dims, npv, n_areas = m.areas.dims_array, m.areas.npv_array, m.n_areas
    degen, mp_driven = _degen_mask(m, fp32), np.asarray(m.area_mp_driven, bool)
    area_thr, thr_base, thr_n = area_thresholds(m, -1, m.threshold_f32 if fp32 else None)
    dim_t = unsigned_dtype(int(max(dims.max(initial=1), npv.max(initial=1))))
    add("area_first", unsigned_dtype(m.n_neurons), m.area_first, "first neuron id per area (+ N)")
    add("area_w", dim_t, dims[:, 0], "dims x")
    add("area_h", dim_t, dims[:, 1], "dims y")
    add("area_d", dim_t, dims[:, 2], "dims z")
    add("area_npv", dim_t, npv, "neurons per voxel")
    pot = "f4" if fp32 else "i4"
    add("area_thr", pot, area_thr, "uniform threshold f32(thr)" if fp32 else
        "uniform threshold ceil(thr*2^F)")
    add("area_thr_base", "i4", thr_base, "offset into thr_n (gradient areas) or -1")
    add("thr_n", pot, thr_n, "per-neuron thresholds of gradient areas")
    if fp32:
        add("area_limit", "f4", m.area_limit_f32, "limit f32(lim) (FLT_MAX: none)")
        add("area_leak_k", "f4", m.area_leak_f32, "leak factor f32(1 - leak)")
    else:
        add("area_limit", "i4", m.area_limit, "limit floor(lim*2^F) (INT32_MAX: none)")
        add("area_leak_k", "i4", m.area_leak_k, "leak factor K (65536: no leak)")
    add("area_exc_mode", "u1", m.area_exc_mode, "excitability 0 always, 1 never, 2 threshold")
    add("area_exc_t", "u4", m.area_exc_t, "excitability threshold T")
    add("area_refr", "u2", m.area_refractory, "refractory period R")
    add("area_snooze", "u2", m.area_snooze, "snooze period S")
    add("area_cfl", "u2", m.area_cfl, "consecutive fire limit L (65535: unlimited)")
    add("area_mp_acc", "u1", np.asarray(m.area_mp_acc, bool), "mp_charge_accumulation")
    add("area_mp_driven", "u1", mp_driven, "mp_driven_psp")
    add("area_output", "u1", m.output_areas, "output (OPU) area: on_fire reports it")
    if fp32:
        add("area_degen", "f4", np.where(degen, m.area_degen_f32, 0), "f32(degeneration)")
        add("area_psp", "f4", np.where(degen, m.area_psp_f32, 0),
            "initial f32(PSP) of degenerating areas")
    else:
        add("area_degen", "i4", np.where(degen, m.area_degen, 0), "q(degeneration)")
        add("area_psp", "i4", np.where(degen, m.area_psp, 0),
            "initial q(PSP) of degenerating areas")
    psp_base, n_psp = area_offsets(degen, m.area_counts, -1)
    add("area_psp_base", "i4", psp_base, "offset into the PSP state (degenerating areas) or -1")
    add("neuron_area", unsigned_dtype(max(n_areas - 1, 0)), m.neuron_area, "area index per neuron")
    add("syn_ptr", unsigned_dtype(int(table_ptr[-1])), table_ptr,
        "CSR offsets of outgoing synapses (N + 1)")
    add("syn_dst", unsigned_dtype(max(m.n_neurons - 1, 0)), np.asarray(m.syn_dst)[keep],
        "synapse targets")
    if fp32:
        shift = 0
        add("syn_c", "f4", np.asarray(m.syn_c_f32)[keep], "contribution f32(w*psp*sign/n)")
    else:
        syn_c = np.asarray(m.syn_c, np.int64)[keep]
        shift = common_shift(syn_c)
        syn_c = syn_c >> shift
        add("syn_c", signed_dtype(int(syn_c.min(initial=0)), int(syn_c.max(initial=0))), syn_c,
            "contribution q(w*psp*sign/n) >> SYN_C_SHIFT")
    if bool((mp_driven | degen).any()):
        w, fan = np.asarray(m.syn_w, np.int64)[keep], np.asarray(m.fanout, np.int64)
        add("syn_w", signed_dtype(int(w.min(initial=0)), int(w.max(initial=0))), w,
            "signed weight (run-time PSP sources)")
        add("fanout", unsigned_dtype(int(fan.max(initial=1))), fan, "fan-out divisor n")
    for name, (dtype, values, doc, _) in rule_records(m, chosen).items():
        add(name, dtype, values, doc)
    return out, shift, n_psp


def _degen_mask(m, fp32: bool) -> np.ndarray:
    """bool ``[A]`` degenerating areas (the f32 degeneration decides in fp32, as in the twin)."""
    return (np.asarray(m.area_degen_f32) != 0) if fp32 else m.degenerating


def _counter_types(m) -> tuple[str, str, int]:
    """Element types of the refractory countdown and consecutive count, and the refractory list
    capacity (neurons of areas that can enter it; a neuron stays in it once)."""
    cfl = np.asarray(m.area_cfl, np.int64)
    refr = np.asarray(m.area_refractory, np.int64)
    snooze = np.asarray(m.area_snooze, np.int64)
    finite = (cfl != 0) & (cfl != 65535)
    cd_max = int(np.where(finite, np.minimum(refr + snooze, 65535), refr).max(initial=0))
    cd_max = max(cd_max, int(refr.max(initial=0)))
    cd_t = "u1" if cd_max <= 255 else "u2"
    cc_t = "u1" if int(cfl.max(initial=0)) <= 255 else "u2"
    return cd_t, cc_t, int(m.area_counts[countdown_areas(m)].sum())


def layout_mpy(model, *, queue_len: int = DEFAULT_QUEUE_LEN, precision: str = "fixed",
               synapses: str = "table") -> Plan:
    """The MicroPython engine's plan of ``model`` (:class:`~feagi_embed.model.Model`).

    Args:
        queue_len: injection/force-fire entries the engine accepts per burst (``inject`` returns
            -2 beyond); with the distinct synapse targets and the power neuron it bounds the
            candidates of a burst, which sizes the FCL lists.
        precision: ``"fixed"`` or ``"fp32"`` (f32 model values and state; module docstring).
        synapses: ``"table"``, ``"procedural"`` or ``"auto"``: mapping rules stored as rule
            records that the engine expands (:func:`~feagi_embed.plan.procedural.choose`);
            table only with fp32 (rule records carry fixed-point contributions).

    Raises:
        ValueError: ``synapses`` other than ``"table"`` with fp32.

    Returns:
        :class:`~feagi_embed.plan.buffers.Plan` with ``target="micropython"``: ``buffers`` in
        ``feagi_model.bin`` order, ``state`` and ``estimate`` (:func:`estimate_heap`).
    """
    if precision == "fp32" and synapses != "table":
        raise ValueError(f"--synapses {synapses} with --precision fp32: procedural rule records "
                         "carry fixed-point contributions only; use --synapses table")
    if synapses == "auto":  # never a larger feagi_model.bin than the all-table package
        auto = layout_mpy(model, queue_len=queue_len, synapses="auto-rules")
        table = layout_mpy(model, queue_len=queue_len)
        return auto if auto.estimate["model"] < table.estimate["model"] else table
    m = model
    n = m.n_neurons
    fp32 = precision == "fp32"
    choices = choose(m, "auto" if synapses == "auto-rules" else synapses)
    chosen = procedural_rules(choices)
    arrays, shift, n_psp = _model_arrays(m, fp32, chosen)
    degen = _degen_mask(m, fp32)
    cd_t, cc_t, n_refl = _counter_types(m)
    ts = float(m.simulation_timestep or 0.0)
    n_targets = int(len(np.unique(np.asarray(m.syn_dst)))) if m.n_synapses else 0
    hole_lo, hole_hi = accumulator_hole(m)
    cand_cap = min(n, n_targets + int(queue_len) + 1)
    has_mpd = bool(np.asarray(m.area_mp_driven, bool).any())
    constants = {
        "n": n, "s": m.n_synapses, "a": m.n_areas, "f": int(m.frac_bits), "power": m.power_neuron,
        "power_in": m.power_input, "forced_v": m.forced_v, "large_brain": bool(m.large_brain),
        "psp_cap": m.psp_cap, "has_mpd": has_mpd, "has_degen": bool(degen.any()),
        "has_runtime_psp": bool(has_mpd or degen.any()), "syn_c_shift": shift, "n_refl": n_refl,
        "n_psp": n_psp, "cd_t": cd_t, "cc_t": cc_t, "timestep": ts,
        "period_ms": max(1, round(ts * 1000)), "queue_len": int(queue_len),
        "n_targets": n_targets, "cand_cap": cand_cap, "hole_lo": hole_lo, "hole_hi": hole_hi,
        "n_acc": n - (hole_hi - hole_lo),
    }
    if fp32:  # FEAGI's power input and forced-fire V; the engine computes in f32
        constants.update(power_in=1.0, forced_v=100.0, fp32=True)
    if chosen:  # only then: table-only packages stay as they were
        constants["n_rules"] = len(chosen)
        constants["lin_none"] = lin_sentinel(rule_records(m, chosen)["rule_lin"][0])
        constants["rule_c_scale"] = rule_c_scale(m, chosen)
    idx = "u2" if n < 65536 else "u4"
    pot = "f4" if fp32 else "i4"
    state = {"V": (pot, n), "acc": (pot, constants["n_acc"]), "side_id": ("u4", queue_len + 1),
             "side_acc": (pot, queue_len + 1), "flag": ("u1", n), "cd": (cd_t, n),
             "cc": (cc_t, n), "cand": (idx, cand_cap + 1), "prev": (idx, cand_cap + 1),
             "refl": (idx, n_refl + 1)}
    if has_mpd:
        state["vfire"] = (pot, n)
    state["psp"] = (pot, n_psp)
    plan = Plan("micropython", arrays, {"idx": idx}, constants, state=state)
    plan.synapse_rules = [c.to_json(m) for c in choices]
    plan.estimate = estimate_heap(plan)
    return plan


def estimate_heap(plan: Plan) -> dict[str, int]:
    """Heap bytes the engine needs on a 32-bit port, by part.

    Returns:
        ``{"baseline", "code", "model", "state", "transient", "total"}``: interpreter baseline,
        imported code, model arrays (one-byte arrays stay ``bytes``), state arrays plus the
        Engine object, the largest transient (loading one array, or the fired-id list of a burst
        in which every candidate and every forced neuron fires: 4-byte items, grown by
        doubling), total.
    """
    model = sum(OBJ_HEADER + _alloc(a.nbytes + (1 if a.dtype == "u1" else 0))
                for a in plan.buffers)
    state = ENGINE_BYTES + sum(OBJ_HEADER + _alloc(n * dtype_size(dt))
                               for dt, n in plan.state.values())
    fired_max = plan.constants["cand_cap"] + plan.constants["queue_len"]
    load = max((a.nbytes for a in plan.buffers), default=0)
    lists = OBJ_HEADER + _alloc(8 * fired_max)
    transient = max(_alloc(load + 1), lists)
    total = BASELINE_BYTES + CODE_BYTES + model + state + transient
    return {"baseline": BASELINE_BYTES, "code": CODE_BYTES, "model": model, "state": state,
            "transient": transient, "total": total}
