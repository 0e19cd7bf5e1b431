"""The 16-bit membrane-potential proof (``docs/model.md`` §3): which areas can store V as
``V >> shift`` in uint16, exactly, for every input the runtime accepts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .widths import common_shift


@dataclass(frozen=True)
class NarrowV:
    """Proof that an area's membrane potential fits 16 bits (see :func:`narrow_v_proof`).

    Attributes:
        shift: V is always a multiple of 2^shift; it is stored as ``V >> shift`` in uint16.
        v_max: largest V that can be stored (fixed point, units 2^-F); ``v_max >> shift <= 65535``.
        input_max: largest positive summed input of one burst (fixed point).
        sensory_step: real value of 2^shift: sensory values injected into the area must be
            multiples of it (and at most the model's ``max_sensory`` in magnitude).
    """

    shift: int
    v_max: int
    input_max: int
    sensory_step: float

    def to_json(self) -> dict[str, Any]:
        return {"shift": self.shift, "v_max": self.v_max, "input_max": self.input_max,
                "sensory_step": self.sensory_step}


def narrow_v_proof(model) -> dict[int, NarrowV]:
    """Areas whose membrane potential provably fits 16 bits (stored as ``V >> shift`` in uint16).

    The proof (``docs/model.md`` §3) holds for an area with charge accumulation (a negative summed
    input is ignored, so ``V >= 0``), leak factor K = 1 or 0 (leak keeps V or zeroes it: V stays a
    sum of inputs), excitability always, a consecutive fire limit >= 1 and no run-time (mp-driven or
    degenerating) input synapses. Then a stored V is 0 (fired), below the threshold (not in the
    window), or an in-window V blocked once by the consecutive limit: ``V <= thr_max - 1 + A``
    with ``A`` the largest summed positive input of one burst (static contributions + power +
    ``q(max_sensory)``); the next input fires it (its transient ``V + A`` must stay within the
    firing window: ``limit >= thr_max - 1 + 2A``). Every input is a multiple of 2^shift when the
    contributions are, and when sensory values are multiples of ``2^(shift - F)``: the runtime and
    the build refuse other injections into such an area. ``A`` budgets ``q(max_sensory)`` of
    sensory input per neuron per burst in total, whatever the queue holds: the build
    (``build.check_stimulus``) and the runtime (``FEAGI_ERR_BUDGET``) refuse positive injections
    into one neuron in one burst that sum above it.

    Args:
        model: :class:`~feagi_embed.model.Model`.

    Returns:
        area index → :class:`NarrowV` (only areas that qualify).
    """
    m = model
    f = int(m.frac_bits)
    first = np.asarray(m.area_first, np.int64)
    n_areas = len(first) - 1
    n = int(m.n_neurons)
    area_of = np.repeat(np.arange(n_areas), np.diff(first))
    ptr = np.asarray(m.syn_ptr, np.int64)
    dst = np.asarray(m.syn_dst, np.int64)
    c = np.asarray(m.syn_c, np.int64)
    src_area = np.repeat(area_of, np.diff(ptr[:n + 1])) if len(dst) else np.zeros(0, np.int64)
    runtime = (np.asarray(m.area_mp_driven, bool) | (np.asarray(m.area_degen) != 0))
    dst_area = area_of[dst] if len(dst) else np.zeros(0, np.int64)
    pos_in = np.zeros(n, np.int64)
    np.add.at(pos_in, dst, np.maximum(c, 0))
    power = m.power_neuron
    q_sensory = m.max_sensory_q
    thr = np.asarray(m.threshold, np.int64)
    out: dict[int, NarrowV] = {}
    for a in range(n_areas):
        lo, hi = int(first[a]), int(first[a + 1])
        if hi == lo or not m.area_mp_acc[a] or int(m.area_exc_mode[a]) != 0:
            continue
        if int(m.area_leak_k[a]) not in (0, 1 << 16) or int(m.area_cfl[a]) < 1:
            continue
        into = dst_area == a
        if runtime[src_area[into]].any():
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
        shift = 0
        while (v_max >> shift) > 65535:
            shift += 1
        if shift > tz:
            continue
        out[a] = NarrowV(shift, v_max, a_max, 2.0 ** (shift - f))
    return out
