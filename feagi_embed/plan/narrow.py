"""The narrow membrane-potential proof (``docs/model.md`` §2): which areas can store V as
``V >> shift`` in uint16 or uint8, exactly, for every input the runtime accepts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .widths import common_shift

#: storage widths of a proven membrane potential, narrowest last
V_WIDTHS = (16, 8)


@dataclass(frozen=True)
class NarrowV:
    """Proof that an area's membrane potential fits ``bits`` bits (see :func:`narrow_v_proof`).

    Attributes:
        shift: V is always a multiple of 2^shift; it is stored as ``V >> shift`` in ``bits`` bits.
        v_max: largest V that can be stored (fixed point, units 2^-F);
            ``v_max >> shift <= 2^bits - 1``.
        input_max: largest positive summed input of one burst (fixed point).
        sensory_step: real value of 2^shift: sensory values injected into the area must be
            multiples of it (and at most the model's ``max_sensory`` in magnitude).
        bits: 16 (uint16) or 8 (uint8).
        nonneg_sensory: the area has no charge accumulation, so a negative input is not ignored:
            the proof holds because every input is >= 0 (static contributions are, and the runtime
            and the build refuse negative sensory values there).
    """

    shift: int
    v_max: int
    input_max: int
    sensory_step: float
    bits: int = 16
    nonneg_sensory: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"shift": self.shift, "v_max": self.v_max, "input_max": self.input_max,
                "sensory_step": self.sensory_step, "bits": self.bits,
                "nonneg_sensory": self.nonneg_sensory}


def nonneg_areas(plan) -> list[int]:
    """Indices (model area order) of the areas whose narrow membrane potential in ``plan`` holds
    only for inputs >= 0 (:attr:`NarrowV.nonneg_sensory`): a stimulus must inject values >= 0
    there. ``plan``: a C :class:`~feagi_embed.plan.Plan` (its ``per_area`` keys are the areas in
    model order)."""
    keys = list(plan.per_area)
    return sorted(keys.index(k) for k, v in plan.narrow_v.items() if v.nonneg_sensory)


def _input_bounds(m) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-neuron summed positive static input ``pos_in`` [N], per-synapse source and target
    areas [S], contributions [S] and the run-time-PSP flag of each area [A]."""
    first = np.asarray(m.area_first, np.int64)
    n_areas, n = len(first) - 1, int(m.n_neurons)
    area_of = np.repeat(np.arange(n_areas), np.diff(first))
    ptr = np.asarray(m.syn_ptr, np.int64)
    dst = np.asarray(m.syn_dst, np.int64)
    c = np.asarray(m.syn_c, np.int64)
    src_area = np.repeat(area_of, np.diff(ptr[:n + 1])) if len(dst) else np.zeros(0, np.int64)
    dst_area = area_of[dst] if len(dst) else np.zeros(0, np.int64)
    runtime = (np.asarray(m.area_mp_driven, bool) | (np.asarray(m.area_degen) != 0))
    pos_in = np.zeros(n, np.int64)
    np.add.at(pos_in, dst, np.maximum(c, 0))
    return pos_in, src_area, dst_area, c, runtime


def _width(v_max: int, tz: int, f: int, widths: tuple[int, ...]) -> tuple[int, int] | None:
    """``(bits, shift)`` of the narrowest width in ``widths`` that holds ``v_max >> shift`` with
    ``shift <= tz`` (8 bits also ``shift <= f``: sensory step at most 1.0), or None."""
    best = None
    for bits in sorted(widths, reverse=True):
        shift = max(0, int(v_max).bit_length() - bits)
        if shift > tz or (bits < 16 and shift > f):
            continue
        best = (bits, shift)
    return best


def narrow_v_proof(model, widths: tuple[int, ...] = (16,), injections: int = 1,
                   nonneg: bool = False) -> dict[int, NarrowV]:
    """Areas whose membrane potential provably fits ``widths`` bits (``V >> shift`` stored in the
    narrowest of them that holds it: 16 → uint16, 8 → uint8).

    The proof (``docs/model.md`` §2) holds for an area whose every input is >= 0 — charge
    accumulation (a negative summed input is ignored), or (``nonneg``) no charge accumulation with
    only non-negative static contributions into it and non-negative sensory values (the runtime
    and the build refuse others there) — with leak factor K = 1 or 0 (leak keeps V or zeroes it: V
    stays a sum of inputs), excitability always, a consecutive fire limit >= 1 and no run-time
    (mp-driven or degenerating) input synapses. Then a stored V is 0 (fired or reset), below the
    threshold (not in the window), or an in-window V blocked once by the consecutive limit:
    ``V <= thr_max - 1 + A`` with ``A`` the largest summed positive input of one burst (static
    contributions + power + ``injections × q(max_sensory)``); the next input fires it (its transient ``V + A``
    must stay within the firing window: ``limit >= thr_max - 1 + 2A``). The membrane reset of an
    area without charge accumulation (V = 0, or kept for a force-fired neuron) stays in the
    range. Every input is a multiple of 2^shift when the contributions are, and when sensory
    values are multiples of ``2^(shift - F)``: the runtime and the build refuse other injections
    into such an area. ``A`` budgets ``injections × q(max_sensory)`` of sensory input per neuron
    per burst in total, however many injections the queue holds: the build
    (``build.check_stimulus``) and the runtime (``FEAGI_ERR_BUDGET``, ``FEAGI_SENSORY_BUDGET_Q``)
    refuse positive injections into one neuron in one burst that sum above it. 8-bit storage also needs a sensory step of at most 1.0 (``shift <= F``).

    Args:
        model: :class:`~feagi_embed.model.Model`.
        widths: storage widths to try (subset of :data:`V_WIDTHS`).
        injections: max-sensory injections budgeted per neuron per burst (>= 1): several values
            into one voxel in one burst are accepted up to ``injections × max_sensory`` in sum,
            at the price of a larger bound (a larger shift, or no proof).
        nonneg: also prove areas without charge accumulation (their sensory values must then be
            >= 0; :attr:`NarrowV.nonneg_sensory`).

    Returns:
        area index → :class:`NarrowV` (only areas that qualify).
    """
    m = model
    f = int(m.frac_bits)
    first = np.asarray(m.area_first, np.int64)
    pos_in, src_area, dst_area, c, runtime = _input_bounds(m)
    if int(injections) < 1:
        raise ValueError(f"injections {injections!r}: expected an integer >= 1")
    power, q_sensory = m.power_neuron, int(injections) * m.max_sensory_q
    thr = np.asarray(m.threshold, np.int64)
    out: dict[int, NarrowV] = {}
    for a in range(len(first) - 1):
        lo, hi = int(first[a]), int(first[a + 1])
        if hi == lo or int(m.area_exc_mode[a]) != 0:
            continue
        if int(m.area_leak_k[a]) not in (0, 1 << 16) or int(m.area_cfl[a]) < 1:
            continue
        into = dst_area == a
        if runtime[src_area[into]].any():
            continue
        needs_nonneg = not m.area_mp_acc[a]
        if needs_nonneg and (not nonneg or (c[into] < 0).any()):
            continue
        # the common power of two of every input (contributions, power, sensory 2^shift)
        tz = common_shift(c[into], empty=30)
        has_power = lo <= power < hi
        if has_power:
            tz = min(tz, f)
        a_max = int(pos_in[lo:hi].max()) + (1 << f if has_power else 0) + q_sensory
        thr_max = int(thr[lo:hi].max())
        v_max = max(thr_max - 1, 0) + a_max
        if thr_max - 1 + 2 * a_max >= 2**31 - 1:
            continue
        if int(m.area_limit[a]) < thr_max - 1 + 2 * a_max:
            continue
        w = _width(v_max, tz, f, widths)
        if w is None:
            continue
        bits, shift = w
        out[a] = NarrowV(shift, v_max, a_max, 2.0 ** (shift - f), bits, needs_nonneg)
    return out
