"""Memory layout of a :class:`~feagi_embed.quantize.Model` for the C runtime, and capacity checks.

:func:`layout` chooses the C type of every array from its value range (GeNN style: neuron ids by N,
synapse offsets by S, contributions by their range), keeps per-area parameters per area (thresholds
per neuron only for areas with a threshold gradient; refractory countdowns only for areas with a
refractory period or snooze, V-at-fire only for mp-driven areas, PSP only for degenerating areas, synapse weights and fan-outs only when some area needs run-time PSPs), places
constants in flash and state in RAM, and attributes bytes to cortical areas. :func:`check_fit`
refuses a plan that does not fit a board with requested / available / missing bytes per region and
the biggest areas. ``firmware/feagi_runtime.c`` allocates exactly the RAM arrays listed here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import FeagiEmbedError

#: flag bits of ``area_flags`` (must match firmware/feagi_runtime.c)
AF_MP_ACC, AF_MP_DRIVEN, AF_DEGEN, AF_OUTPUT, AF_CC16, AF_V16 = 1, 2, 4, 8, 16, 32
#: ``area_thr_base`` / base offsets meaning "none"
NO_BASE = 0xFFFFFFFF
DEFAULT_QUEUE_LEN = 16
#: RAM arrays the runtime can take from the heap at boot (STATE_ARRAY in feagi_runtime.c)
HEAP_CAPABLE = frozenset({"v32", "v16", "cc8", "cc16", "cd", "acc", "bits", "vfire", "psp"})

_SIZES = {"uint8_t": 1, "int8_t": 1, "uint16_t": 2, "int16_t": 2, "uint32_t": 4, "int32_t": 4}
_UNSIGNED = [("uint8_t", 2**8 - 1), ("uint16_t", 2**16 - 1), ("uint32_t", 2**32 - 1)]
_SIGNED = [("int8_t", 2**7), ("int16_t", 2**15), ("int32_t", 2**31)]


class CapacityError(FeagiEmbedError):
    """The model does not fit the board (or a width cannot hold a value)."""


def unsigned_type(max_value: int) -> str:
    """Narrowest unsigned C type holding 0…max_value."""
    for name, top in _UNSIGNED:
        if max_value <= top:
            return name
    raise CapacityError(f"value {max_value} does not fit uint32_t")


def signed_type(lo: int, hi: int) -> str:
    """Narrowest signed C type holding lo…hi."""
    for name, half in _SIGNED:
        if -half <= lo and hi <= half - 1:
            return name
    raise CapacityError(f"range [{lo}, {hi}] does not fit int32_t")


def ctype_size(ctype: str) -> int:
    """Bytes of a fixed-width C type."""
    return _SIZES[ctype]


@dataclass
class ArraySpec:
    """One C array.

    Attributes:
        name: C identifier suffix (the array is ``feagi_<name>``; RAM arrays live in the runtime).
        ctype: fixed-width C type.
        values: the data (flash arrays) or a zero array of the right length (RAM state).
        region: ``"flash"`` or ``"ram"``.
        per_area: bytes attributed to each area (index → bytes), or None (shared).
        doc: one-line description for the generated code.
    """

    name: str
    ctype: str
    values: np.ndarray
    region: str
    per_area: dict[int, int] | None = None
    doc: str = ""

    @property
    def length(self) -> int:
        return len(self.values)

    @property
    def nbytes(self) -> int:
        return self.length * ctype_size(self.ctype)


@dataclass
class MemoryPlan:
    """Layout of a model for the C runtime.

    Attributes:
        arrays: every array, flash constants first.
        typedefs: C typedef name → C type (``feagi_nid_t`` …).
        constants: ``FEAGI_*`` macro name → int value.
        flash_bytes, ram_bytes: totals per region.
        per_area: area name → ``{"flash": bytes, "ram": bytes, "neurons": n, "synapses_out": s}``.
        narrow_v: area name → :class:`NarrowV` for areas whose membrane potential is stored in
            16 bits (empty unless laid out with ``narrow_v=True``).
        heap: names of RAM arrays taken from the board's heap once at boot (see
            :func:`place_state`; empty: all RAM state is static).
    """

    arrays: list[ArraySpec]
    typedefs: dict[str, str]
    constants: dict[str, int]
    flash_bytes: int
    ram_bytes: int
    per_area: dict[str, dict[str, int]] = field(default_factory=dict)
    narrow_v: dict[str, "NarrowV"] = field(default_factory=dict)
    heap: set[str] = field(default_factory=set)

    @property
    def heap_bytes(self) -> int:
        """RAM bytes allocated from the heap at boot."""
        return sum(a.nbytes for a in self.arrays if a.region == "ram" and a.name in self.heap)

    @property
    def static_bytes(self) -> int:
        """RAM bytes allocated statically (``.bss``)."""
        return self.ram_bytes - self.heap_bytes

    def array(self, name: str) -> ArraySpec:
        for a in self.arrays:
            if a.name == name:
                return a
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        return {"flash_bytes": self.flash_bytes, "ram_bytes": self.ram_bytes,
                "static_bytes": self.static_bytes, "heap_bytes": self.heap_bytes,
                "typedefs": dict(self.typedefs),
                "arrays": [{"name": a.name, "ctype": a.ctype, "length": a.length,
                            "region": ("heap" if a.name in self.heap else a.region),
                            "bytes": a.nbytes} for a in self.arrays],
                "areas": self.per_area,
                "narrow_v": {k: v.to_json() for k, v in self.narrow_v.items()}}


def common_shift(values: np.ndarray, cap: int = 30, empty: int = 0) -> int:
    """Largest k <= ``cap`` such that every value (int64 array) is a multiple of 2^k (``empty``
    when there is no non-zero value): ``values >> k`` is then exact."""
    nz = np.asarray(values, np.int64)
    nz = nz[nz != 0]
    if not len(nz):
        return empty
    low = np.bitwise_and(np.abs(nz), -np.abs(nz))  # lowest set bit of each value
    return min(int(np.log2(int(low.min()))), cap)


def area_thresholds(model, none: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-area thresholds: uniform areas keep one value, gradient areas their neurons' values.

    Returns:
        ``(area_thr, thr_base, thr_nrn)``: int64 ``[A]`` uniform threshold (0 for gradient areas),
        int64 ``[A]`` offset of a gradient area's first neuron in ``thr_nrn`` (``none`` for
        uniform areas), int64 per-neuron thresholds of the gradient areas, concatenated.
    """
    thr = np.asarray(model.threshold, np.int64)
    first = np.asarray(model.area_first, np.int64)
    n_areas = len(first) - 1
    area_thr = np.zeros(n_areas, np.int64)
    thr_base = np.full(n_areas, none, np.int64)
    parts, pos = [], 0
    for a in range(n_areas):
        seg = thr[first[a]:first[a + 1]]
        if len(seg) == 0:
            continue
        if (seg == seg[0]).all():
            area_thr[a] = seg[0]
        else:
            thr_base[a] = pos
            parts.append(seg)
            pos += len(seg)
    return area_thr, thr_base, (np.concatenate(parts) if parts else np.zeros(0, np.int64))


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
        model: :class:`~feagi_embed.quantize.Model`.

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
    power = m.meta.get("power_neuron")
    power = -1 if power is None else int(power)
    q_sensory = int(np.round(float(m.meta.get("max_sensory", 255.0)) * (1 << f)))
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


def _area_counts(model, per_neuron_bytes: float, counts: np.ndarray) -> dict[int, int]:
    return {a: math.ceil(per_neuron_bytes * int(c)) for a, c in enumerate(counts) if c}


def layout(model, *, queue_len: int = DEFAULT_QUEUE_LEN, narrow_v: bool = False) -> MemoryPlan:
    """Choose C types and regions for every array of ``model``.

    Args:
        model: :class:`~feagi_embed.quantize.Model`.
        queue_len: capacity of the runtime's injection/force-fire queue (entries per burst).
        narrow_v: store the membrane potential of every area that :func:`narrow_v_proof` admits
            in 16 bits (``V >> shift``, uint16); sensory values injected into those areas are then
            restricted to multiples of the area's ``sensory_step``.

    Returns:
        :class:`MemoryPlan`.
    """
    m = model
    n, s = m.n_neurons, m.n_synapses
    n_areas = len(m.area_first) - 1
    first = np.asarray(m.area_first, np.int64)
    counts = np.diff(first)
    area_of_neuron = np.repeat(np.arange(n_areas), counts)
    syn_ptr = np.asarray(m.syn_ptr, np.int64)
    syn_out = np.diff(syn_ptr)
    syn_per_area = np.bincount(area_of_neuron, weights=syn_out, minlength=n_areas).astype(np.int64)

    mp_driven = np.asarray(m.area_mp_driven, bool)
    degen = np.asarray(m.area_degen) != 0
    runtime_psp = bool((mp_driven | degen).any())
    kinds = m.meta.get("kinds", ["custom"] * n_areas)
    dims = np.asarray(m.meta["dims"], np.int64).reshape(n_areas, 3)
    npv = np.asarray(m.meta["npv"], np.int64)

    area_thr, thr_base, thr_nrn = area_thresholds(m, NO_BASE)

    def bases(mask):
        base = np.full(n_areas, NO_BASE, np.int64)
        total = 0
        for a in range(n_areas):
            if mask[a]:
                base[a] = total
                total += int(counts[a])
        return base, total

    mpd_base, n_mpd = bases(mp_driven)
    cfl = np.asarray(m.area_cfl, np.int64)
    need_cd = (np.asarray(m.area_refractory) > 0) | ((np.asarray(m.area_snooze) > 0)
                                                      & (cfl != 0) & (cfl != 65535))
    cd_base, n_cd = bases(need_cd)
    degen_base, n_degen = bases(degen)
    # consecutive fire count: a neuron fires only while cc < L (cc >= L in the window resets it
    # to 0 instead) and cc only grows by that +1, other writes set 0, force-fire leaves it alone:
    # cc <= L always, so areas with L <= 255 (L = 0 included: cc stays 0) keep cc in uint8_t.
    # Unlimited areas (L = 65535) count up to 65535 and keep uint16_t.
    cc16 = cfl > 255
    cc8_base, n_cc8 = bases(~cc16)
    cc16_base, n_cc16 = bases(cc16)
    cc_base = np.where(cc16, cc16_base, cc8_base)
    proofs = narrow_v_proof(m) if narrow_v else {}
    v16 = np.array([a in proofs for a in range(n_areas)], bool)
    v_shift = np.array([proofs[a].shift if a in proofs else 0 for a in range(n_areas)], np.int64)
    v32_base, n_v32 = bases(~v16)
    v16_base, n_v16 = bases(v16)
    v_base = np.where(v16, v16_base, v32_base)
    flags = ((np.asarray(m.area_mp_acc, bool) * AF_MP_ACC) | (mp_driven * AF_MP_DRIVEN)
             | (degen * AF_DEGEN)
             | (np.array([k == "opu" for k in kinds], bool) * AF_OUTPUT)
             | (cc16 * AF_CC16) | (v16 * AF_V16)).astype(np.int64)

    nid_t = unsigned_type(max(n - 1, 0))
    first_t = unsigned_type(n)
    sptr_t = unsigned_type(s)
    area_t = unsigned_type(max(n_areas - 1, 0))
    syn_c = np.asarray(m.syn_c, np.int64)
    # contributions are often multiples of 2^k (e.g. q(5.0) with F = 16): store C >> k exactly in
    # a narrower type; the runtime multiplies by FEAGI_SYN_C_SCALE = 2^k
    c_shift = common_shift(syn_c)
    syn_c = syn_c >> c_shift  # exact: every value is a multiple of 2^c_shift
    c_t = signed_type(int(syn_c.min()) if s else 0, int(syn_c.max()) if s else 0)

    arrays: list[ArraySpec] = []

    def flash(name, ctype, values, doc, per_area=None):
        v = np.asarray(values, np.int64)
        if len(v) == 0:
            v = np.zeros(1, np.int64)  # C has no empty arrays
        arrays.append(ArraySpec(name, ctype, v, "flash", per_area, doc))

    def ram(name, ctype, length, doc, per_area=None):
        arrays.append(ArraySpec(name, ctype, np.zeros(max(length, 1), np.int64), "ram", per_area,
                                doc))

    def per_neuron(size):
        return _area_counts(m, size, counts)

    flash("area_first", first_t, first, "first neuron id per area (+ N)")
    dim_t = unsigned_type(int(max(dims.max(initial=1), npv.max(initial=1))))
    flash("area_w", dim_t, dims[:, 0], "dims x")
    flash("area_h", dim_t, dims[:, 1], "dims y")
    flash("area_d", dim_t, dims[:, 2], "dims z")
    flash("area_npv", dim_t, npv, "neurons per voxel")
    flash("area_flags", "uint8_t", flags,
          "1 mp_acc, 2 mp_driven, 4 degenerating, 8 output, 16 cc uint16, 32 V int16")
    flash("area_thr", "int32_t", area_thr, "uniform threshold ceil(thr*2^F)")
    flash("area_thr_base", "uint32_t", thr_base, "offset into thr (gradient areas) or 0xFFFFFFFF")
    flash("area_limit", "int32_t", m.area_limit, "limit floor(lim*2^F) (INT32_MAX: none)")
    flash("area_leak_k", "int32_t", m.area_leak_k, "leak factor K (65536: no leak)")
    flash("area_exc_mode", "uint8_t", m.area_exc_mode, "0 always, 1 never, 2 threshold")
    flash("area_exc_t", "uint32_t", m.area_exc_t, "excitability threshold T")
    flash("area_refr", "uint16_t", m.area_refractory, "refractory period R")
    flash("area_snooze", "uint16_t", m.area_snooze, "snooze period S")
    flash("area_cfl", "uint16_t", m.area_cfl, "consecutive fire limit L (65535: unlimited)")
    flash("area_mpd_base", "uint32_t", mpd_base, "offset into V-at-fire (mp-driven areas)")
    flash("area_degen_base", "uint32_t", degen_base, "offset into PSP state (degenerating areas)")
    flash("area_cd_base", "uint32_t", cd_base, "offset into cd (areas with R or a snooze)")
    flash("area_cc_base", "uint32_t", cc_base, "offset into cc8 (L <= 255) or cc16 (AF_CC16)")
    flash("area_v_base", "uint32_t", v_base, "offset into v32, or into v16 (AF_V16 areas)")
    flash("area_v_shift", "uint8_t", v_shift, "AF_V16 areas: V = v16 << shift")
    flash("area_psp", "int32_t", np.where(degen, m.area_psp, 0), "initial q(PSP) of degenerating areas")
    flash("area_degen", "int32_t", np.where(degen, m.area_degen, 0), "q(degeneration)")
    thr_t = "int32_t"
    thr_attr = {a: int(counts[a]) * 4 for a in range(n_areas) if thr_base[a] != NO_BASE}
    flash("thr", thr_t, thr_nrn, "per-neuron thresholds of gradient areas", thr_attr)
    # CSR offsets only for areas with outgoing synapses: count+1 absolute offsets per such area
    sp_base = np.full(n_areas, NO_BASE, np.int64)
    sp_parts = []
    total = 0
    for a in range(n_areas):
        if syn_per_area[a] > 0:
            sp_base[a] = total
            sp_parts.append(syn_ptr[first[a]:first[a + 1] + 1])
            total += int(counts[a]) + 1
    sp = np.concatenate(sp_parts) if sp_parts else np.zeros(0, np.int64)
    flash("area_sp_base", "uint32_t", sp_base, "offset into syn_ptr (areas with synapses) or 0xFFFFFFFF")
    flash("syn_ptr", sptr_t, sp, "CSR offsets of outgoing synapses by source (count+1 per area)",
          {a: (int(counts[a]) + 1) * ctype_size(sptr_t) for a in range(n_areas)
           if sp_base[a] != NO_BASE})
    flash("syn_dst", nid_t, m.syn_dst, "synapse targets",
          {a: int(c) * ctype_size(nid_t) for a, c in enumerate(syn_per_area) if c})
    flash("syn_c", c_t, syn_c, "contribution q(w*psp*sign/n) / FEAGI_SYN_C_SCALE",
          {a: int(c) * ctype_size(c_t) for a, c in enumerate(syn_per_area) if c})
    if runtime_psp:
        w = np.asarray(m.syn_w, np.int64)
        w_t = signed_type(int(w.min()) if s else 0, int(w.max()) if s else 0)
        fan = np.asarray(m.fanout, np.int64)
        fan_t = unsigned_type(int(fan.max(initial=1)))
        flash("syn_w", w_t, w, "signed weight (run-time PSP sources)",
              {a: int(c) * ctype_size(w_t) for a, c in enumerate(syn_per_area) if c})
        flash("fanout", fan_t, fan, "fan-out divisor n", per_neuron(ctype_size(fan_t)))

    words = (n + 31) // 32
    ram("v32", "int32_t", n_v32, "membrane potential (int32 areas)",
        {a: int(counts[a]) * 4 for a in range(n_areas) if not v16[a] and counts[a]})
    ram("v16", "uint16_t", n_v16, "membrane potential >> shift (areas proven to fit 16 bits)",
        {a: int(counts[a]) * 2 for a in range(n_areas) if v16[a] and counts[a]})
    ram("cc8", "uint8_t", n_cc8, "consecutive fire count (areas with L <= 255)",
        {a: int(counts[a]) for a in range(n_areas) if not cc16[a] and counts[a]})
    ram("cc16", "uint16_t", n_cc16, "consecutive fire count (areas with L unlimited)",
        {a: int(counts[a]) * 2 for a in range(n_areas) if cc16[a] and counts[a]})
    ram("cd", "uint16_t", n_cd, "refractory countdown (areas with R > 0 or a snooze)",
        {a: int(counts[a]) * 2 for a in range(n_areas) if need_cd[a]})
    # FCL accumulator: dense for every neuron except the longest run [hole_lo, hole_hi) of
    # neurons that no synapse targets. Such a neuron only receives input from the injection
    # queue (at most queue_len entries per burst) and the power neuron (one), so at most
    # queue_len + 1 distinct hole neurons are candidates in a burst; the runtime keeps their
    # sums in a side list of (id, acc) of exactly that capacity (same wrap32 sums, same order).
    hole_lo = hole_hi = 0
    if n:
        targeted = np.zeros(n, bool)
        targeted[np.asarray(m.syn_dst, np.int64)] = True
        edges = np.flatnonzero(np.diff(np.concatenate(([1], targeted.astype(np.int8), [1]))))
        runs = edges.reshape(-1, 2)  # [start, end) of untargeted runs
        if len(runs):
            best = int(np.argmax(runs[:, 1] - runs[:, 0]))
            hole_lo, hole_hi = int(runs[best, 0]), int(runs[best, 1])
    n_acc = n - (hole_hi - hole_lo)
    side_len = queue_len + 1
    in_hole = np.zeros(n, bool)
    in_hole[hole_lo:hole_hi] = True
    acc_counts = np.bincount(area_of_neuron[~in_hole], minlength=n_areas) if n else counts * 0
    ram("acc", "int32_t", n_acc, "FCL accumulator (neurons outside the untargeted hole)",
        {a: int(c) * 4 for a, c in enumerate(acc_counts) if c})
    ram("side_id", "uint32_t", side_len, "FCL side list ids (hole neurons)")
    ram("side_acc", "int32_t", side_len, "FCL side list sums (hole neurons)")
    # open-addressing index id -> side-list slot (load <= 1/2), so finding a hole neuron's sum is
    # O(1) instead of a linear search (a camera frame injects hundreds of hole neurons per burst)
    side_hash_bits = max(int(2 * side_len - 1).bit_length(), 1)
    side_hash = 1 << side_hash_bits
    side_t = unsigned_type(side_len)
    ram("side_slot", side_t, side_hash, "FCL side list index: hash(id) -> slot + 1 (0: empty)")
    ram("bits", "uint32_t", 4 * words, "bitmaps: candidate, forced, blocked, fired",
        per_neuron(0.5))
    ram("vfire", "int32_t", n_mpd, "V at fire (mp-driven areas)",
        {a: int(counts[a]) * 4 for a in range(n_areas) if mp_driven[a]})
    ram("psp", "int32_t", n_degen, "PSP (degenerating areas)",
        {a: int(counts[a]) * 4 for a in range(n_areas) if degen[a]})
    ram("queue", "uint8_t", queue_len * 9, "injection/force queue (id u32, value i32, kind u8)")

    cap = max(int(m.meta.get("mp_psp_max", 0)), int(m.meta.get("degen_psp_max", 0))) << m.frac_bits
    power = m.meta.get("power_neuron", -1)
    power = -1 if power is None else int(power)
    constants = {
        "FEAGI_N": n, "FEAGI_S": s, "FEAGI_A": n_areas, "FEAGI_F": int(m.frac_bits),
        "FEAGI_POWER_NEURON": power if power is not None and power >= 0 else -1,
        "FEAGI_POWER_IN": 1 << m.frac_bits, "FEAGI_FORCED_V": 100 << m.frac_bits,
        "FEAGI_LARGE_BRAIN": int(bool(m.meta.get("large_brain", False))),
        "FEAGI_PSP_CAP": cap, "FEAGI_HAS_RUNTIME_PSP": int(runtime_psp),
        "FEAGI_N_MPD": n_mpd, "FEAGI_N_DEGEN": n_degen, "FEAGI_N_THR": len(thr_nrn),
        "FEAGI_N_CD": n_cd, "FEAGI_N_CC8": n_cc8, "FEAGI_N_CC16": n_cc16, "FEAGI_SYN_C_SCALE": 1 << c_shift, "FEAGI_N_SP": len(sp), "FEAGI_QUEUE_LEN": int(queue_len),
        "FEAGI_HOLE_LO": hole_lo, "FEAGI_HOLE_HI": hole_hi, "FEAGI_N_ACC": n_acc,
        "FEAGI_SIDE_LEN": side_len, "FEAGI_SIDE_HASH_BITS": side_hash_bits,
        "FEAGI_N_V32": n_v32, "FEAGI_N_V16": n_v16,
        "FEAGI_MAX_SENSORY_Q": int(np.round(float(m.meta.get("max_sensory", 255.0))
                                            * (1 << m.frac_bits))),
    }
    typedefs = {"feagi_nid_t": nid_t, "feagi_sptr_t": sptr_t, "feagi_area_t": area_t,
                "feagi_c_t": c_t, "feagi_side_t": side_t}
    flash_bytes = sum(a.nbytes for a in arrays if a.region == "flash")
    ram_bytes = sum(a.nbytes for a in arrays if a.region == "ram")
    names = m.meta.get("names") or [str(i) for i in range(n_areas)]
    per_area: dict[str, dict[str, int]] = {}
    for a in range(n_areas):
        key = names[a] if names.count(names[a]) == 1 else f"{names[a]}#{a}"
        per_area[key] = {"flash": 0, "ram": 0, "neurons": int(counts[a]),
                         "synapses_out": int(syn_per_area[a])}
    keys = list(per_area)
    for arr in arrays:
        for a, b in (arr.per_area or {}).items():
            per_area[keys[a]][arr.region] += b
    narrow = {keys[a]: p for a, p in proofs.items()}
    return MemoryPlan(arrays, typedefs, constants, flash_bytes, ram_bytes, per_area, narrow)


def place_state(plan: MemoryPlan, static_avail: int, heap_avail: int = 0,
                heap_block: int = 0) -> None:
    """Decide which RAM arrays are taken from the heap once at boot (sets ``plan.heap``).

    All state stays static when it fits ``static_avail`` or the board has no heap budget.
    Otherwise the arrays are placed largest first: into static RAM while they fit, else onto the
    heap (an array larger than ``heap_block`` stays static, so :func:`check_fit` reports it).

    Args:
        plan: the memory plan (modified in place).
        static_avail: bytes of statically allocatable RAM the model may use.
        heap_avail: bytes of boot-time heap the model may use (0: none).
        heap_block: largest single heap allocation (0: no limit beyond ``heap_avail``).
    """
    plan.heap = set()
    if plan.ram_bytes <= static_avail or heap_avail <= 0:
        return
    left = static_avail
    for a in sorted((a for a in plan.arrays if a.region == "ram"), key=lambda a: -a.nbytes):
        if (a.nbytes <= left or a.name not in HEAP_CAPABLE
                or (heap_block and a.nbytes > heap_block)):
            left -= a.nbytes
        else:
            plan.heap.add(a.name)


def check_fit(plan: MemoryPlan, ram_budget: int, flash_budget: int, board_name: str = "board",
              *, heap_budget: int = 0, heap_block: int = 0, flash_data_limit: int = 0,
              flash_array_max: int = 0, top: int = 5) -> None:
    """Refuse a plan that exceeds the board's RAM, heap or flash budget.

    Args:
        plan: the memory plan (``plan.heap`` from :func:`place_state`).
        ram_budget: static RAM the model may use (bytes).
        flash_budget: flash the model may use (bytes).
        heap_budget, heap_block: boot-time heap the model may use and its largest block.
        flash_data_limit: bytes of model constants the runtime can address (AVR near
            ``pgm_read_*``: 64 KB); 0: no limit beyond ``flash_budget``.
        flash_array_max: largest single constant array (avr-gcc: 32,767 B); 0: no limit.

    Raises:
        CapacityError: message with requested / available / missing bytes per region that does
            not fit, and the ``top`` biggest cortical areas of that region.
    """
    lines = []
    checks = [("ram", "ram", plan.static_bytes, ram_budget)]
    if plan.heap:
        checks.append(("heap", "ram", plan.heap_bytes, heap_budget))
    checks.append(("flash", "flash", plan.flash_bytes, flash_budget))
    if flash_data_limit and flash_data_limit < flash_budget:
        checks.append(("flash (addressable data)", "flash", plan.flash_bytes, flash_data_limit))
    for region, attr, used, avail in checks:
        if used > avail:
            lines.append(f"  {region}: requested {used} B, available {avail} B, "
                         f"missing {used - avail} B")
            biggest = sorted(plan.per_area.items(), key=lambda kv: -kv[1][attr])[:top]
            lines.append("    biggest areas: " + ", ".join(
                f"{k} ({v[attr]} B, {v['neurons']} neurons)" for k, v in biggest))
    for a in plan.arrays:
        if a.region == "flash" and flash_array_max and a.nbytes > flash_array_max:
            lines.append(f"  flash array: {a.name} requested {a.nbytes} B in one object, "
                         f"available {flash_array_max} B, missing {a.nbytes - flash_array_max} B")
        if a.name in plan.heap and heap_block and a.nbytes > heap_block:
            lines.append(f"  heap block: {a.name} requested {a.nbytes} B in one block, "
                         f"available {heap_block} B, missing {a.nbytes - heap_block} B")
    if lines:
        raise CapacityError(f"model does not fit {board_name}:\n" + "\n".join(lines))
