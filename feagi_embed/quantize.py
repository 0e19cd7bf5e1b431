"""Quantization: :class:`~feagi_embed.connectome.Connectome` → fixed-point :class:`Model`.

Implements ``docs/model.md`` §2 and §5: the fractional-bit count F with its overflow proof, exact
integer synapse contributions (fan-out division included), thresholds and limits from the f32 values
FEAGI holds, leak factors K, exact integer excitability thresholds T, counters. The :class:`Model` is
the single contract between the compiler and every executor (twin, C, MicroPython), saved as ``.npz``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import __version__
from .connectome import Connectome
from .errors import FeagiEmbedError
from .rules import describe_rules
from .model import (DEFAULT_MAX_SENSORY, EXC_ALWAYS, EXC_NEVER, EXC_THRESHOLD, INT32_MAX,
                    LARGE_BRAIN_NEURONS, AreaTable, Model, Provenance)

__all__ = ["DEFAULT_MAX_SENSORY", "EXC_ALWAYS", "EXC_NEVER", "EXC_THRESHOLD", "INT32_MAX",
           "LARGE_BRAIN_NEURONS", "Model", "QuantizationError", "choose_frac_bits",
           "excitability_threshold", "leak_factor", "limit_fixed", "q", "quantization_report",
           "quantize", "report_rows", "round_half_away", "threshold_fixed"]

#: |values| the overflow proof keeps below (leaves one bit of headroom below 2^31).
RANGE_LIMIT = 2**30
MAX_FRAC_BITS = 16


class QuantizationError(FeagiEmbedError):
    """The model cannot be represented (e.g. ``--frac-bits`` too large for the inputs)."""


def round_half_away(x: np.ndarray | float) -> np.ndarray:
    """Round half away from zero, exactly, for float64 input with |x| < 2^52 (int64 result)."""
    x = np.asarray(x, dtype=np.float64)
    return (np.sign(x) * np.floor(np.abs(x) + 0.5)).astype(np.int64)


def q(x, frac_bits: int) -> np.ndarray:
    """``q(x) = round_half_away(f32(x) · 2^F)`` as int64 (MODEL §2)."""
    x32 = np.asarray(x, dtype=np.float32).astype(np.float64)
    return round_half_away(x32 * float(1 << frac_bits))


def threshold_fixed(thr, frac_bits: int) -> np.ndarray:
    """``ceil(f32(thr) · 2^F)`` as int32: for any V on the fixed-point grid, ``V ≥ thr_fixed`` holds
    exactly when ``V/2^F ≥ thr`` in real arithmetic, so the threshold test stays exact even when the
    threshold itself (e.g. 0.1) is not representable."""
    x = np.asarray(thr, dtype=np.float32).astype(np.float64) * float(1 << frac_bits)
    return np.ceil(x).astype(np.int32)


def limit_fixed(lim: float, frac_bits: int) -> int:
    """``floor(f32(lim) · 2^F)``: ``V ≤ lim_fixed`` exactly when ``V/2^F ≤ lim`` (see
    :func:`threshold_fixed`)."""
    return int(np.floor(float(np.float32(lim)) * float(1 << frac_bits)))


def leak_factor(leak: float) -> int:
    """``K = round_half_away(f32(1 − leak) · 65536)`` (MODEL §2); may be negative or > 65536."""
    one_minus = np.float32(1.0) - np.float32(leak)
    return int(round_half_away(float(one_minus) * 65536.0))


def excitability_threshold(e: float) -> tuple[int, int]:
    """Integer form of FEAGI's excitability test ``f32(h)/2^32 < e`` (``utils.rs::excitability_random``).

    Returns:
        ``(mode, T)``: ``(EXC_ALWAYS, 0)`` for ``e ≥ 0.999``, ``(EXC_NEVER, 0)`` for ``e ≤ 0`` or NaN,
        else ``(EXC_THRESHOLD, T)`` with T the least integer such that ``f32(T) ≥ f32(e)·2^32``, so
        that a neuron fires iff ``pcg(seed) < T``.
    """
    e32 = np.float32(e)
    if not e32 > 0:  # also NaN
        return EXC_NEVER, 0
    if e32 >= np.float32(0.999):
        return EXC_ALWAYS, 0
    target = float(e32) * 2.0**32
    lo, hi = 0, 2**32  # f32(hi) >= target for e < 1
    while lo < hi:
        mid = (lo + hi) // 2
        if float(np.float32(mid)) >= target:
            hi = mid
        else:
            lo = mid + 1
    return EXC_THRESHOLD, lo


def _contributions_real(c: Connectome) -> tuple[np.ndarray, np.ndarray]:
    """f32 contribution per synapse ``(w·psp·sign)/n`` as FEAGI computes it, and n per source."""
    n_out = np.bincount(c.synapse_src, minlength=c.n_neurons).astype(np.int64)
    uniform = c.area_param("psp_uniform_distribution", bool)
    fan = np.where(uniform | (n_out <= 1), 1, n_out).astype(np.int32)
    base = (c.synapse_weight.astype(np.float32) * c.synapse_psp.astype(np.float32))
    base = np.where(c.synapse_inhibitory, -base, base).astype(np.float32)
    contrib = (base / fan[c.synapse_src].astype(np.float32)).astype(np.float32)
    return contrib, fan


def choose_frac_bits(c: Connectome, contrib: np.ndarray, fanout: np.ndarray, max_sensory: float,
                     requested: int | None = None) -> tuple[int, dict[str, float]]:
    """Pick F (MODEL §5): the largest value in [0, 16] for which every neuron's worst-case per-burst
    input and every |threshold|, |limit| stay below 2^30 after scaling.

    Args:
        contrib: f32 ``[S]`` real contributions (mp-driven sources are budgeted at ``mp_psp_max``).
        fanout: int32 ``[N]`` divisor n per source neuron (from :func:`_contributions_real`).
        requested: ``--frac-bits``; checked, not searched.

    Returns:
        ``(F, bounds)`` with the real-valued worst cases used by the proof.

    Raises:
        QuantizationError: requested F out of range or overflowing; no F works.
    """
    src_driven = c.area_param("mp_driven_psp", bool)
    mp_driven = src_driven[c.synapse_src]
    fan = fanout[c.synapse_src]
    fan_in_cnt = np.bincount(c.synapse_dst, minlength=c.n_neurons)

    def fan_in_sum(psp_cap: float) -> np.ndarray:
        worst = np.abs(contrib.astype(np.float64))
        worst = np.where(mp_driven, c.synapse_weight * psp_cap / fan, worst)
        return np.bincount(c.synapse_dst, weights=worst, minlength=c.n_neurons)

    # An mp-driven source sends PSP = round(V at fire) (no upper clamp in the engine). V at fire
    # is bounded by the neuron's threshold (or limit) plus one burst's input; the bound is kept as
    # a run-time cap (meta "mp_psp_max") so the proof holds for any input.
    psp_max = 255
    if src_driven.any():
        per_in = fan_in_sum(255.0) + 1.0 + max_sensory
        lim_n = c.area_param("threshold_limit", np.float64)
        vb = np.maximum(c.threshold.astype(np.float64), 0.0) + per_in
        vb = np.where(lim_n > 0, np.minimum(vb, lim_n), vb)
        psp_max = int(max(255, math.ceil(float(vb[src_driven].max()))))
    sums = fan_in_sum(float(psp_max))
    # q(x) ≤ |x|·2^F + 1/2 per term
    max_in_real = float(sums.max(initial=0.0)) + 1.0 + max_sensory
    max_in_terms = float(fan_in_cnt.max(initial=0)) + 2
    lims = np.array([a.threshold_limit for a in c.areas], np.float32)
    max_thr = float(max(np.abs(c.threshold).max(initial=0.0), np.abs(lims).max(initial=0.0)))
    # every other stored fixed-point field must fit too: q(PSP) and q(degeneration) of every area
    # (int32 arrays, used at run time by degenerating and mp-driven areas) and q(PSPcap)
    fields = [(abs(float(np.float32(a.postsynaptic_current))), i, "pstcr_-f", "PSP")
              for i, a in enumerate(c.areas)]
    fields += [(abs(float(np.float32(a.degeneration))), i, "de_gen-f", "degeneration")
               for i, a in enumerate(c.areas)]
    max_field, field_area, field_gene, field_what = max(fields, default=(0.0, -1, "", ""))
    max_field = max(max_field, float(psp_max) if src_driven.any() else 0.0)
    bounds = {"max_input": max_in_real, "max_threshold": max_thr, "max_input_terms": max_in_terms,
              "mp_psp_max": psp_max, "max_field": max_field}

    def fits(f: int) -> bool:
        s = float(1 << f)
        return (max_in_real * s + 0.5 * max_in_terms < RANGE_LIMIT
                and max_thr * s + 0.5 < RANGE_LIMIT and max_field * s + 0.5 < RANGE_LIMIT)

    def culprit() -> str:
        worst = max((max_in_real, "worst-case per-burst input"), (max_thr, "threshold/limit"),
                    (max_field, f"{field_what} of area "
                     f"{c.areas[field_area].genome_id if field_area >= 0 else '?'} "
                     f"(gene {field_gene})"))
        return f"{worst[1]} {worst[0]:g}"

    if requested is not None:
        if not 0 <= requested <= MAX_FRAC_BITS:
            raise QuantizationError(f"--frac-bits {requested}: expected 0..{MAX_FRAC_BITS}")
        if not fits(requested):
            raise QuantizationError(
                f"{c.genome.path}: --frac-bits {requested} overflows: {culprit()} times 2^{requested} exceeds 2^30 "
                f"(worst-case input {max_in_real:g}, threshold {max_thr:g}, PSP/degeneration "
                f"{max_field:g})")
        return requested, bounds
    for f in range(MAX_FRAC_BITS, -1, -1):
        if fits(f):
            return f, bounds
    raise QuantizationError(f"{c.genome.path}: no fixed-point format fits: {culprit()} exceeds 2^30 even with "
                            f"F = 0; expected magnitudes below {RANGE_LIMIT:,} (docs/model.md §5)")


def quantize(c: Connectome, *, frac_bits: int | None = None,
             max_sensory: float = DEFAULT_MAX_SENSORY) -> Model:
    """Quantize a connectome into the fixed-point model (MODEL §2, §5).

    Args:
        c: developed connectome.
        frac_bits: force F (checked by the overflow proof) instead of choosing it.
        max_sensory: largest sensory injection value the overflow proof budgets for.

    Returns:
        :class:`Model` with its quantization report in ``model.report``.

    Raises:
        QuantizationError: no representable format, or ``frac_bits`` invalid.
    """
    contrib, fan = _contributions_real(c)
    f, bounds = choose_frac_bits(c, contrib, fan, max_sensory, frac_bits)
    order = np.argsort(c.synapse_src, kind="stable")
    syn_src = c.synapse_src[order]
    syn_ptr = np.concatenate(([0], np.cumsum(np.bincount(syn_src, minlength=c.n_neurons))))
    syn_c = q(contrib[order], f).astype(np.int32)
    w = c.synapse_weight[order].astype(np.int32)
    syn_w = np.where(c.synapse_inhibitory[order], -w, w).astype(np.int32)

    areas = c.areas
    for a in areas:  # K = f32(1 - leak)·65536 is stored in int32 (leak(V) is exact in 64 bits)
        k_real = float(np.float32(1.0) - np.float32(a.leak_coefficient)) * 65536.0
        if not abs(k_real) < INT32_MAX:
            raise QuantizationError(
                f"{c.genome.path}: blueprint[\"_____10c-{a.genome_id}-nx-leak_c-f\"]: got "
                f"{a.leak_coefficient:g}; expected a leak coefficient with |1 - leak| < 32768 "
                "(the leak factor K = (1 - leak)·65536 is an int32)")
    exc = [excitability_threshold(a.excitability) for a in areas]
    lim = [INT32_MAX if a.threshold_limit == 0 else limit_fixed(a.threshold_limit, f) for a in areas]
    power = [i for i, a in enumerate(areas) if a.cortical_id.raw == b"___power"]
    g = c.genome
    areas_table = AreaTable(
        ids=tuple(a.cortical_id.b64 for a in areas), genome_ids=tuple(a.genome_id for a in areas),
        names=tuple(a.name for a in areas), dims=tuple(tuple(int(x) for x in a.dims) for a in areas),
        npv=tuple(int(a.neurons_per_voxel) for a in areas),
        kinds=tuple(a.cortical_id.kind for a in areas))
    model = Model(
        frac_bits=f, provenance=Provenance(g.path, g.sha256, g.version, __version__),
        areas=areas_table, power_neuron=int(c.area_first[power[0]]) if power else -1,
        large_brain=c.n_neurons >= LARGE_BRAIN_NEURONS,
        simulation_timestep=float(g.physiology.simulation_timestep or 0.0),
        max_sensory=float(max_sensory), mp_psp_max=int(bounds["mp_psp_max"]),
        degen_psp_max=int(math.ceil(max([a.postsynaptic_current for a in areas
                                         if a.degeneration > 0] or [0.0]))),
        area_first=c.area_first.astype(np.int64),
        neuron_area=c.neuron_area.astype(np.uint16),
        threshold=threshold_fixed(c.threshold, f),
        area_limit=np.array(lim, np.int32),
        area_leak_k=np.array([leak_factor(a.leak_coefficient) for a in areas], np.int32),
        area_exc_mode=np.array([m for m, _ in exc], np.uint8),
        area_exc_t=np.array([t for _, t in exc], np.uint32),
        area_refractory=np.array([a.refractory_period for a in areas], np.uint16),
        area_snooze=np.array([a.snooze_period for a in areas], np.uint16),
        area_cfl=np.array([a.consecutive_fire_limit or 65535 for a in areas], np.uint16),
        area_mp_acc=np.array([a.mp_charge_accumulation for a in areas], bool),
        area_mp_driven=np.array([a.mp_driven_psp for a in areas], bool),
        syn_ptr=syn_ptr.astype(np.int64), syn_dst=c.synapse_dst[order].astype(np.uint32),
        syn_c=syn_c, syn_w=syn_w, fanout=fan.astype(np.int32),
        threshold_f32=c.threshold.astype(np.float32),
        area_limit_f32=np.array([a.threshold_limit or np.finfo(np.float32).max for a in areas],
                                np.float32),
        area_leak_f32=np.array([np.float32(1) - np.float32(a.leak_coefficient) for a in areas],
                               np.float32),
        syn_c_f32=contrib[order].astype(np.float32),
        area_psp=np.array([int(q(a.postsynaptic_current, f)) for a in areas], np.int32),
        # d <= 0: no degeneration (a negative d, which FEAGI lets grow the PSP without bound, is
        # warned about by the parser and kept constant here)
        area_degen=np.array([int(q(max(a.degeneration, 0.0), f)) for a in areas], np.int32),
        area_psp_f32=np.array([a.postsynaptic_current for a in areas], np.float32),
        area_degen_f32=np.array([max(a.degeneration, 0.0) for a in areas], np.float32))
    if c.synapse_rule is not None:
        syn_rule = c.synapse_rule[order].astype(np.int32)
        model = model.evolve(syn_rule=syn_rule,
                             rules=describe_rules(model, c.rules, syn_rule))
    return model.with_report(quantization_report(c, model, contrib[order], syn_src, bounds))


def _rel_err(real: np.ndarray, quant: np.ndarray) -> float:
    real = np.asarray(real, np.float64)
    quant = np.asarray(quant, np.float64)
    den = np.where(real == 0, 1.0, np.abs(real))
    return float(np.max(np.abs(quant - real) / den, initial=0.0))


def quantization_report(c: Connectome, m: Model, contrib_sorted: np.ndarray, syn_src_sorted,
                        bounds: dict) -> dict[str, Any]:
    """Per area: real vs quantized threshold, limit, leak and distinct contributions, relative
    error and a ``lossless`` flag; plus the format and the overflow-proof bounds.

    ``lossless`` covers the genome; whether an input is lossless too is the input grid's
    question (``input_grid``: step ``2^-F`` and range, :func:`feagi_embed.stimulus.input_grid`).

    Returns:
        ``{"frac_bits", "bounds", "lossless", "input_grid",
        "areas": [{"id", "name", "threshold": {...},
        "limit": {...}, "leak": {...}, "contributions": [...], "lossless"}]}``.
    """
    scale = float(1 << m.frac_bits)
    out_areas = []
    src_area = c.neuron_area[syn_src_sorted] if len(syn_src_sorted) else np.empty(0, np.uint16)
    all_lossless = True
    for i, a in enumerate(c.areas):
        sl = slice(int(c.area_first[i]), int(c.area_first[i + 1]))
        thr_real = c.threshold[sl].astype(np.float64)
        thr_q = m.threshold[sl].astype(np.float64) / scale
        k_real = float(np.float32(1.0) - np.float32(a.leak_coefficient))
        k_q = int(m.area_leak_k[i]) / 65536.0
        entry: dict[str, Any] = {
            "id": a.genome_id, "name": a.name,
            "threshold": {"real_min": float(thr_real.min()), "real_max": float(thr_real.max()),
                          "quantized_min": float(thr_q.min()), "quantized_max": float(thr_q.max()),
                          "rel_error": _rel_err(thr_real, thr_q)},
            "leak": {"one_minus_leak": k_real, "quantized": k_q, "K": int(m.area_leak_k[i]),
                     "rel_error": _rel_err([k_real], [k_q])},
        }
        # thresholds and limits are stored as ceil/floor, so the comparison with any on-grid V is
        # exact; a leak is lossless when V·(1 − leak) stays on the grid (K a multiple of 65536)
        k = int(m.area_leak_k[i])
        lossless = entry["leak"]["rel_error"] == 0 and k % 65536 == 0
        if a.threshold_limit:
            lq = int(m.area_limit[i]) / scale
            entry["limit"] = {"real": float(np.float32(a.threshold_limit)), "quantized": lq,
                              "rel_error": _rel_err([np.float32(a.threshold_limit)], [lq])}
        if a.degeneration > 0:
            dq = int(m.area_degen[i]) / scale
            entry["degeneration"] = {"real": float(np.float32(a.degeneration)), "quantized": dq,
                                     "rel_error": _rel_err([np.float32(a.degeneration)], [dq])}
            if (src_area == i).any():  # only matters for an area that has synapses
                lossless &= entry["degeneration"]["rel_error"] == 0
        if a.mp_driven_psp:
            entry["contributions"] = [{"note": "mp-driven PSP: computed at run time"}]
            # w·V/n of a firing V is rounded to the grid when the fan-out divides it (FEAGI keeps
            # the f32 quotient; oracle: tests/fixtures/random rand_0105)
            if (src_area == i).any() and (m.fanout[sl] > 1).any():
                entry["contributions"][0]["note"] += " and divided by the fan-out (rounded)"
                lossless = False
        else:
            sel = src_area == i
            vals = np.unique(contrib_sorted[sel]) if sel.any() else np.empty(0, np.float32)
            rows = []
            for v in vals[:32]:
                qv = float(q(v, m.frac_bits)) / scale
                rows.append({"real": float(v), "quantized": qv, "rel_error": _rel_err([v], [qv])})
            entry["contributions"] = rows
            if sel.any():
                cq = q(vals, m.frac_bits).astype(np.float64) / scale
                entry["contribution_rel_error"] = _rel_err(vals, cq)
                lossless &= entry["contribution_rel_error"] == 0
        entry["lossless"] = bool(lossless)
        all_lossless &= lossless
        out_areas.append(entry)
    from .stimulus import input_grid

    return {"frac_bits": m.frac_bits, "bounds": bounds, "lossless": bool(all_lossless),
            "input_grid": input_grid(m), "areas": out_areas}


def report_rows(report: dict[str, Any]) -> list[tuple[str, ...]]:
    """Table rows (id, name, threshold, limit, leak, contributions, max rel error, lossless)."""
    rows = []
    for a in report["areas"]:
        t = a["threshold"]
        thr = (f"{t['real_min']:g}" if t["real_min"] == t["real_max"]
               else f"{t['real_min']:g}..{t['real_max']:g}")
        lim = f"{a['limit']['real']:g}→{a['limit']['quantized']:g}" if "limit" in a else "-"
        leak = f"{a['leak']['one_minus_leak']:g}→{a['leak']['quantized']:g}"
        contribs = ", ".join(f"{r['real']:g}→{r['quantized']:g}" for r in a["contributions"][:4]
                             if "real" in r)
        errs = [t["rel_error"], a["leak"]["rel_error"], a.get("contribution_rel_error", 0.0),
                a.get("limit", {}).get("rel_error", 0.0)]
        rows.append((a["id"], a["name"], thr, lim, leak, contribs or "-",
                     f"{max(errs):.2e}", "yes" if a["lossless"] else "no"))
    return rows

