# feagi_engine.py - burst engine (pure Python)
# Part of the feagi-embed runtime (firmware/micropython/): copied unchanged into every generated
# MicroPython package; only feagi_model.py/.bin, feagi_viper.py and main.py are generated.
"""FEAGI burst engine for MicroPython (pure Python; docs/model.md sections 2-4).

One burst of the fixed-point model with explicit int32 semantics: MicroPython ints are arbitrary
precision on bytecode, so every int32 result is saturated (sat32) or wrapped (the FCL sum) exactly
as the model says. State is compact: ``array`` objects of the narrowest types, per-area parameters
per cortical area. When the ``feagi_viper`` module imports (native ports with viper), its
``@micropython.viper`` kernels run the hot loops; otherwise (e.g. the WebAssembly port, which
rejects viper) everything runs here. An fp32 package (``feagi_model.FP32``, ``--precision
fp32``) runs the same rules in IEEE single precision here in Python (docs/model.md section 7).

API (mirrors firmware/feagi_runtime.h)::

    e = Engine()                # loads feagi_model.bin
    e.inject(area, x, y, z, q)  # sensory input q(value) for the next burst
    e.force_fire(area, x, y, z) # manual stimulation for the next burst
    e.on_fire = fn              # fn(area, x, y, z, k) per fired neuron of an output area
    n = e.burst()               # run one burst; returns the number of fired neurons
    e.burst_digest(), e.state_digest(), e.final_digest()
"""

import array

import feagi_model as M

try:
    from typing import Any  # for type checkers; MicroPython has no typing module
except ImportError:
    pass

_crc32_native: "Any"
try:
    import binascii

    _crc32_native = binascii.crc32
except (ImportError, AttributeError):  # ports built without binascii.crc32
    _crc32_native = None

#: --precision fp32 package (feagi_model.FP32): model values and state are array("f")
FP32 = getattr(M, "FP32", False)
#: procedural rule records: rule_c holds C / RULE_C_SCALE; rule_lin's "no destination" value
RULE_C_SCALE = getattr(M, "RULE_C_SCALE", 1)
LIN_NONE = getattr(M, "LIN_NONE", 0xFFFFFFFF)

_vp: "Any"
try:
    import feagi_viper

    _vp = feagi_viper
except (ImportError, SyntaxError):  # the WebAssembly port rejects @micropython.viper
    _vp = None
if FP32:
    _vp = None  # the viper kernels are integer kernels

#: FCL flag bits (one byte per neuron)
CAND = 1
FORCED = 2
BLOCKED = 4
FIRED = 8
PREV = 16
I32_MAX = 2147483647
I32_MIN = -2147483648
#: excitability modes (feagi_embed.quantize)
EXC_ALWAYS = 0
EXC_NEVER = 1

_TABLE = None


def _crc32_soft(data, crc=0):
    """zlib CRC-32 of a buffer (bytes-like), table driven; used only without binascii.crc32."""
    global _TABLE
    if _TABLE is None:
        t = array.array("I", [0] * 256)
        for n in range(256):
            c = n
            for _ in range(8):
                c = (0xEDB88320 ^ (c >> 1)) if c & 1 else (c >> 1)
            t[n] = c
        _TABLE = t
    tab = _TABLE
    c = crc ^ 0xFFFFFFFF
    for byte in bytes(data):
        c = tab[(c ^ byte) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def crc32(data, crc=0):
    """zlib-compatible CRC-32 of ``data`` (any buffer: bytes, bytearray, array, memoryview),
    continuing from ``crc``; an int in 0 ... 2**32 - 1."""
    if _crc32_native is not None:
        return _crc32_native(data, crc) & 0xFFFFFFFF
    return _crc32_soft(data, crc)


def _array(tc, raw):
    """array of typecode ``tc`` holding the little-endian bytes ``raw`` (one copy).

    MicroPython builds an array from bytes by copying them raw; CPython (used for host-side tests of
    the same module) needs frombytes."""
    try:
        a = array.array(tc, raw)
        if len(raw) and len(a) == len(raw) and tc not in "bB":
            raise TypeError  # an interpreter that iterated the bytes instead
        return a
    except TypeError:
        a = array.array(tc)
        a.frombytes(raw)
        return a


def zeros(tc, n):
    """A zero-filled array of ``n`` items of typecode ``tc`` (``bytearray`` for "B")."""
    if tc == "B":
        return bytearray(n)
    size = {"b": 1, "h": 2, "H": 2, "i": 4, "I": 4, "f": 4}[tc]
    return _array(tc, bytes(n * size))


def sat32(v):
    """Clamp an int to the int32 range [-2**31, 2**31 - 1]."""
    if v > I32_MAX:
        return I32_MAX
    if v < I32_MIN:
        return I32_MIN
    return v


def wrap32(v):
    """Two's-complement int32 wrap of an int (the FCL sum wraps; the compiler proves it never
    does)."""
    if I32_MIN <= v <= I32_MAX:
        return v
    return ((v + 2147483648) & 0xFFFFFFFF) - 2147483648


def pcg_hash(s):
    """PCG-RXS-M-XS 32-bit output hash of ``s`` (0 ... 2**32 - 1), docs/model.md section 2."""
    s = (s * 747796405 + 2891336453) & 0xFFFFFFFF
    w = (((s >> ((s >> 28) + 4)) ^ s) * 277803737) & 0xFFFFFFFF
    return (w >> 22) ^ w


def leak(v, k):
    """``sat32(floor((V*K + 2**15) / 2**16))`` (exact: Python ints do not overflow)."""
    return sat32((v * k + 32768) >> 16)


def runtime_contribution(w, p, n):
    """Contribution of a run-time PSP ``p`` (V at fire of an mp-driven source, or a degenerating
    PSP): ``sign(w) * floor((2*|w|*clamp(p, 0, PSP_CAP) + n) / (2n))``."""
    if p < 0:
        p = 0
    if p > M.PSP_CAP:
        p = M.PSP_CAP
    if w >= 0:
        return (2 * w * p + n) // (2 * n)
    return -((2 * (-w) * p + n) // (2 * n))


# ---------------------------------------------------------------- fp32 (docs/model.md section 7)
# The same rules in IEEE single precision. Every result is rounded to f32 once: stores into the
# array("f") state round, and _r32 rounds intermediate values. On single-precision ports (ESP32,
# RP2040) Python floats are f32 already; on double ports (unix, WebAssembly) each operation of
# two f32 values is exact or rounded to 53 bits and then to 24, which equals one f32 rounding
# (double has more than 2*24 + 2 bits), so the results are FEAGI's f32 results on every port.
_R32 = zeros("f", 1)


def _r32(x):
    """``x`` rounded to the nearest f32."""
    _R32[0] = x
    return _R32[0]


def _f32_sum(v):
    """The f32 FCL sum needs no wrap: the array("f") store rounds it."""
    return v


def _f32_leak(v, k):
    """``V * f32(1 - leak)`` (rounded by the store into V)."""
    return v * k


def _f32_runtime_contribution(w, p, n):
    """FEAGI's ``f32(w) * max(p, 0) / f32(n)``, each step rounded (no division when n = 1)."""
    base = _r32(_r32(w) * (p if p > 0 else 0.0))
    return _r32(base / n) if n > 1 else base


if FP32:
    wrap32 = _f32_sum  # noqa: F811
    sat32 = _r32  # noqa: F811
    leak = _f32_leak  # noqa: F811
    runtime_contribution = _f32_runtime_contribution  # noqa: F811
#: element type of V, the FCL sums, V at fire and PSP state
POT_T = "f" if FP32 else "i"


class Engine:
    """State and burst loop of one brain (the model in ``feagi_model.bin``).

    Attributes:
        V: array("i") [N] membrane potentials (fixed point, F = feagi_model.F fractional bits).
        cd, cc: refractory countdowns / consecutive fire counts [N] ("B" or "H" as the model's
            ranges allow; digests hash them as u16).
        fired: sorted list of the neuron ids fired by the last burst.
        burst_number: number of the last burst run (0 before the first).
        on_fire: None or ``fn(area, x, y, z, k)`` called per fired neuron of an output area.
    """

    # model arrays (read from feagi_model.bin in feagi_model.ARRAYS order; one-byte arrays stay
    # bytes, wider ones depend on the model's value ranges)
    area_first: "bytes | array.array[int]"
    area_w: "bytes | array.array[int]"
    area_h: "bytes | array.array[int]"
    area_d: "bytes | array.array[int]"
    area_npv: "bytes | array.array[int]"
    area_thr: "array.array[int]"
    area_thr_base: "array.array[int]"
    thr_n: "array.array[int]"
    area_limit: "array.array[int]"
    area_leak_k: "array.array[int]"
    area_exc_mode: bytes
    area_exc_t: "array.array[int]"
    area_refr: "array.array[int]"
    area_snooze: "array.array[int]"
    area_cfl: "array.array[int]"
    area_mp_acc: bytes
    area_mp_driven: bytes
    area_output: bytes
    area_degen: "array.array[int]"
    area_psp: "array.array[int]"
    area_psp_base: "array.array[int]"
    neuron_area: "bytes | array.array[int]"
    syn_ptr: "bytes | array.array[int]"
    syn_dst: "bytes | array.array[int]"
    syn_c: "bytes | array.array[int]"
    syn_w: "bytes | array.array[int]"  # only with run-time PSPs (HAS_RUNTIME_PSP)
    fanout: "bytes | array.array[int]"  # only with run-time PSPs (HAS_RUNTIME_PSP)
    # procedural synapse rule records (only with N_RULES; docs/model.md section 7)
    area_rule_first: "bytes | array.array[int]"
    area_rule_split: "bytes | array.array[int]"
    rule_flags: bytes
    rule_dst: "bytes | array.array[int]"
    rule_c: "array.array[int]"
    rule_w: "bytes | array.array[int]"  # with run-time PSPs
    rule_arg: "bytes | array.array[int]"
    rule_axp: "bytes | array.array[int]"
    rule_axv: "bytes | array.array[int]"
    rule_vec: "bytes | array.array[int]"
    rule_lin: "array.array[int]"

    def __init__(self, path=None):
        self._load(path or M.MODEL_FILE)
        n = M.N
        idx = "H" if n < 65536 else "I"
        self.V = zeros(POT_T, n)
        # FCL accumulator: dense for neurons outside [HOLE_LO, HOLE_HI), the longest run of
        # neurons no synapse targets (at index i, or i - HOLE for i >= HOLE_HI); those only get
        # queued injections and the power input, summed in the side list (ids, sums, count)
        self.acc = zeros(POT_T, M.N_ACC)
        self.side_id = zeros("I", M.QUEUE_LEN + 1)
        self.side_acc = zeros(POT_T, M.QUEUE_LEN + 1)
        self.n_side = 0
        self.flag = bytearray(n)
        self.cd = zeros(M.CD_T, n)
        self.cc = zeros(M.CC_T, n)
        # candidates of a burst: synapse targets, queued injections and the power neuron
        self.cand = zeros(idx, M.CAND_CAP + 1)
        self.prev = zeros(idx, M.CAND_CAP + 1)
        self.n_prev = 0
        self.refl = zeros(idx, M.N_REFL + 1)
        self.n_refl = 0
        self.fired = []
        self.fired_crc = 0
        # V at fire (mp-driven areas; empty when unused) and the PSP of each neuron of a
        # degenerating area (at area_psp_base[area] + offset in the area)
        self.vfire = zeros(POT_T, n if M.HAS_MPD else 0)
        self.psp = zeros(POT_T, M.N_PSP)
        first, pbase, psp0 = self.area_first, self.area_psp_base, self.area_psp
        for a in range(M.A):
            if pbase[a] >= 0:
                for j in range(first[a + 1] - first[a]):
                    self.psp[pbase[a] + j] = psp0[a]
        self._inj = []
        self._force = []
        self._ctr = zeros("i", 1)
        self.burst_number = 0
        self._final = 0
        self.on_fire = None

    def _load(self, path):
        """Read every model array of ``feagi_model.ARRAYS`` from the binary model file, in order;
        one-byte read-only arrays stay ``bytes`` (no copy)."""
        with open(path, "rb") as f:
            for name, tc, count in M.ARRAYS:
                size = {"b": 1, "B": 1, "h": 2, "H": 2, "i": 4, "I": 4, "f": 4}[tc]
                raw = f.read(count * size)
                if len(raw) != count * size:
                    raise ValueError("feagi_model.bin: truncated at " + name)
                setattr(self, name, raw if tc == "B" else _array(tc, raw))

    @staticmethod
    def kernels():
        """Which code runs the hot loops: "viper" (propagation and dynamics), "viper dynamics"
        (run-time PSP propagation in Python) or "python"."""
        if _vp is None:
            return "python"
        return "viper dynamics" if M.HAS_RUNTIME_PSP else "viper"

    # ------------------------------------------------------------------ stimulus API
    def neuron_id(self, area, x, y, z):
        """Id of the last neuron of voxel (x, y, z) of area index ``area`` (FEAGI's sensory
        target), or -1 when the area or voxel does not exist."""
        if not 0 <= area < M.A:
            return -1
        w, h, d = self.area_w[area], self.area_h[area], self.area_d[area]
        if not (0 <= x < w and 0 <= y < h and 0 <= z < d):
            return -1
        npv = self.area_npv[area]
        return self.area_first[area] + ((x * h + y) * d + z) * npv + npv - 1

    def inject_id(self, i, value_q):
        """Add ``value_q`` (fixed point; the real value in an fp32 package) to neuron ``i``'s
        input in the next burst (queued as given). Returns 0, or -2 when the queue (``feagi_model.QUEUE_LEN`` entries per burst, which
        the candidate lists are sized for) is full."""
        if len(self._inj) + len(self._force) >= M.QUEUE_LEN:
            return -2
        self._inj.append((i, value_q))
        return 0

    def force_fire_id(self, i):
        """Put neuron ``i`` into the next burst's fired set (changes no other state). Returns 0,
        or -2 when the queue is full."""
        if len(self._inj) + len(self._force) >= M.QUEUE_LEN:
            return -2
        self._force.append(i)
        return 0

    def inject(self, area, x, y, z, value_q):
        """Sensory input q(value) to voxel (x, y, z) of ``area`` for the next burst; 0 is dropped
        (FEAGI drops p = 0). Returns 0, -1 for a bad area/voxel, -2 when the queue is full."""
        i = self.neuron_id(area, x, y, z)
        if i < 0:
            return -1
        if value_q == 0:
            return 0
        return self.inject_id(i, value_q)

    def force_fire(self, area, x, y, z):
        """Force-fire voxel (x, y, z) of ``area`` in the next burst. Returns 0, -1 (bad
        area/voxel) or -2 (queue full)."""
        i = self.neuron_id(area, x, y, z)
        if i < 0:
            return -1
        return self.force_fire_id(i)

    def coords(self, i):
        """``(area, x, y, z, k)`` of neuron id ``i``."""
        first = self.area_first
        a = 0
        while first[a + 1] <= i:
            a += 1
        npv, h, d = self.area_npv[a], self.area_h[a], self.area_d[a]
        off = i - first[a]
        vox = off // npv
        return a, vox // (d * h), (vox // d) % h, vox % d, off % npv

    # ------------------------------------------------------------------ one burst
    def threshold(self, i, a):
        """Fixed-point threshold of neuron ``i`` (area ``a``)."""
        base = self.area_thr_base[a]
        if base < 0:
            return self.area_thr[a]
        return self.thr_n[base + i - self.area_first[a]]

    def burst(self):
        """Run one burst (docs/model.md section 3); returns the number of fired neurons."""
        b = self.burst_number + 1
        flag = self.flag
        acc = self.acc
        cand = self.cand
        V = self.V
        cd = self.cd
        cc = self.cc
        na = self.neuron_area
        mp_acc = self.area_mp_acc
        nc = 0
        forced = []
        # 2. force-fire stimuli (the injections join the FCL after step 5)
        for i in self._force:
            if not flag[i] & FORCED:
                flag[i] |= FORCED
                forced.append(i)
        self._force = []
        # 3. power
        p = M.POWER
        if p >= 0:
            if not flag[p] & CAND:
                flag[p] |= CAND
                cand[nc] = p
                nc += 1
            self._add_input(p, M.POWER_IN)
        # 4. membrane reset of mp_charge_accumulation = false neurons (only last burst's
        #    candidates can hold a non-zero V); last burst's fired set keeps its V
        fq = self.fired
        prev = self.prev
        if M.LARGE_BRAIN:
            for i in fq:
                if not mp_acc[na[i]]:
                    V[i] = 0
        else:
            for i in fq:
                flag[i] |= PREV
            for j in range(self.n_prev):
                i = prev[j]
                if not flag[i] & PREV and not mp_acc[na[i]]:
                    V[i] = 0
            for i in fq:
                flag[i] &= ~PREV
        # 5. propagation from the previous burst's fired set
        if fq:
            nc = self._propagate(fq, nc)
        # 5b. sensory injections, after power and propagation: the release engine's f32 sum
        #     order, (1 + 6) + 1.89 (docs/model.md section 7; fixed-point sums are order-free)
        for i, qv in self._inj:
            if not flag[i] & CAND:
                flag[i] |= CAND
                cand[nc] = i
                nc += 1
            self._add_input(i, qv)
        self._inj = []
        del fq  # free the previous fired list before the new one grows (heap peak)
        self.fired = []
        # 6a. refractory countdowns (every burst, every neuron with a running countdown)
        refl = self.refl
        cfl = self.area_cfl
        w_i = 0
        for j in range(self.n_refl):
            i = refl[j]
            f = flag[i]
            if f & CAND:
                flag[i] = f | BLOCKED
            if f & FORCED:  # a force-fired neuron's countdown pauses that burst
                refl[w_i] = i
                w_i += 1
                continue
            c = cd[i] - 1
            cd[i] = c
            if c == 0:
                lim = cfl[na[i]]
                if lim != 0 and lim != 65535 and cc[i] >= lim:
                    cc[i] = 0
            else:
                refl[w_i] = i
                w_i += 1
        self.n_refl = w_i
        # 6b-g. dynamics of the candidates
        if _vp is not None:
            fired = self._dynamics_viper(b, nc)
        else:
            fired = self._dynamics(b, nc)
        # 7. forced fires join the fired set (V at fire reported as 100)
        vfire = self.vfire
        for i in forced:
            if not flag[i] & FIRED:
                fired.append(i)
                if M.HAS_MPD:
                    vfire[i] = M.FORCED_V
            flag[i] = 0
        fired.sort()
        # clear the FCL; this burst's candidates are the next membrane reset's candidates
        lo, hi, hole = M.HOLE_LO, M.HOLE_HI, M.HOLE_HI - M.HOLE_LO
        for j in range(nc):
            i = cand[j]
            if i >= hi:
                acc[i - hole] = 0
            elif i < lo:
                acc[i] = 0
            flag[i] = 0
        self.n_side = 0
        self.cand, self.prev, self.n_prev = prev, cand, nc
        self.fired = fired
        self.burst_number = b
        crc = crc32(array.array("I", (b, len(fired))))
        if fired:
            crc = crc32(array.array("I", fired), crc)
        self.fired_crc = crc
        self._final = crc32(array.array("I", (crc,)), self._final)
        cb = self.on_fire
        if cb is not None:
            out = self.area_output
            for i in fired:
                if out[na[i]]:
                    cb(*self.coords(i))
        return len(fired)

    def _add_input(self, i, q):
        """FCL sum of an injection or the power input: ``acc`` (int32 wrap), or the side list
        for neurons in the untargeted hole."""
        if i >= M.HOLE_HI:
            j = i - (M.HOLE_HI - M.HOLE_LO)
            self.acc[j] = wrap32(self.acc[j] + q)
        elif i < M.HOLE_LO:
            self.acc[i] = wrap32(self.acc[i] + q)
        else:
            ids, sums = self.side_id, self.side_acc
            for j in range(self.n_side):
                if ids[j] == i:
                    sums[j] = wrap32(sums[j] + q)
                    return
            ids[self.n_side] = i
            sums[self.n_side] = q
            self.n_side += 1

    def _input(self, i):
        """The FCL sum of neuron ``i`` (see :meth:`_add_input`)."""
        if i >= M.HOLE_HI:
            return self.acc[i - (M.HOLE_HI - M.HOLE_LO)]
        if i < M.HOLE_LO:
            return self.acc[i]
        for j in range(self.n_side):
            if self.side_id[j] == i:
                return self.side_acc[j]
        return 0

    def _propagate(self, fq, nc):
        """Step 5: add every synapse's contribution of the fired neurons ``fq`` to the FCL; returns
        the new candidate count."""
        if getattr(M, "N_RULES", 0):
            nc = self._propagate_rules(fq, nc)
        flag = self.flag
        acc = self.acc
        cand = self.cand
        ptr = self.syn_ptr
        dst = self.syn_dst
        sc = self.syn_c
        shift = M.SYN_C_SHIFT
        scale = 1 << shift  # C = syn_c * 2^shift (an int shift; 1 for fp32 contributions)
        hi, hole = M.HOLE_HI, M.HOLE_HI - M.HOLE_LO  # synapse targets are never in the hole
        if not M.HAS_RUNTIME_PSP:
            if _vp is not None:
                return _vp.propagate(fq, len(fq), ptr, dst, sc, shift, acc, flag, cand, nc,
                                     M.HOLE_HI, M.HOLE_HI - M.HOLE_LO)
            for src in fq:
                for k in range(ptr[src], ptr[src + 1]):
                    t = dst[k]
                    if not flag[t] & CAND:
                        flag[t] |= CAND
                        cand[nc] = t
                        nc += 1
                    if t >= hi:
                        t -= hole
                    acc[t] = wrap32(acc[t] + sc[k] * scale)
            return nc
        na = self.neuron_area
        mpd = self.area_mp_driven
        degen = self.area_degen
        sw = self.syn_w
        fan = self.fanout
        psp = self.psp
        pbase = self.area_psp_base
        first = self.area_first
        vfire = self.vfire
        for src in fq:
            a = na[src]
            driven = mpd[a]
            dg = degen[a]
            p = pbase[a] + src - first[a]
            for k in range(ptr[src], ptr[src + 1]):
                t = dst[k]
                if driven:
                    c = runtime_contribution(sw[k], vfire[src], fan[src])
                elif dg:
                    c = runtime_contribution(sw[k], psp[p], fan[src])
                else:
                    c = sc[k] * scale
                if not flag[t] & CAND:
                    flag[t] |= CAND
                    cand[nc] = t
                    nc += 1
                if t >= hi:
                    t -= hole
                acc[t] = wrap32(acc[t] + c)
            if dg:  # each fire lowers the neuron's PSP by the degeneration, floor 0
                pn = psp[p] - dg
                psp[p] = pn if pn > 0 else 0
        return nc

    def _propagate_rules(self, fq, nc):
        """Step 5 for procedural synapses: expand the rule records (``rule_*`` arrays;
        docs/model.md section 7) of every fired source in ``fq`` and add their contributions.
        Runs before the table rows and before degenerating PSPs drop (fixed-point sums are order
        independent, so the result equals the row order of the C runtime). Returns the new
        candidate count."""
        flag, acc, cand = self.flag, self.acc, self.cand
        na, first, rf = self.neuron_area, self.area_first, self.area_rule_first
        aw, ah, ad, anpv = self.area_w, self.area_h, self.area_d, self.area_npv
        rflags, rdst, rc, arg = self.rule_flags, self.rule_dst, self.rule_c, self.rule_arg
        axp, axv, vec = self.rule_axp, self.rule_axv, self.rule_vec
        hi, hole = M.HOLE_HI, M.HOLE_HI - M.HOLE_LO  # synapse targets are never in the hole
        for src in fq:
            a = na[src]
            r0, r1 = rf[a], rf[a + 1]
            if r0 == r1:
                continue
            h, d = ah[a], ad[a]
            vox = (src - first[a]) // anpv[a]
            x, y, z = vox // (h * d), (vox // d) % h, vox % d
            p = n = -1
            if M.HAS_RUNTIME_PSP and (self.area_mp_driven[a] or self.area_degen[a]):
                n = self.fanout[src]
                p = (self.vfire[src] if self.area_mp_driven[a]
                     else self.psp[self.area_psp_base[a] + src - first[a]])
            for r in range(r0, r1):
                c = (rc[r] * RULE_C_SCALE if n < 0
                     else runtime_contribution(self.rule_w[r], p, n))
                da = rdst[r]
                nd = anpv[da]
                wd, hd, dd = aw[da], ah[da], ad[da]
                base = first[da] + nd - 1
                if rflags[r] & 8:  # single target: the sum of the x, y, z partial offsets
                    lin = self.rule_lin
                    tx, ty, tz = lin[arg[3 * r] + x], lin[arg[3 * r + 1] + y], lin[arg[3 * r + 2] + z]
                    targets = [] if LIN_NONE in (tx, ty, tz) else [tx + ty + tz]
                elif rflags[r] & 1:  # vectors: offsets in list order, inside the area
                    k = 3 * arg[3 * r]
                    targets = []
                    for j in range(k, k + 3 * arg[3 * r + 1], 3):
                        u, v, w = x + vec[j], y + vec[j + 1], z + vec[j + 2]
                        if 0 <= u < wd and 0 <= v < hd and 0 <= w < dd:
                            targets.append(base + ((u * hd + v) * dd + w) * nd)
                else:  # axis lists: u outermost, w innermost
                    ox, oy, oz = arg[3 * r] + x, arg[3 * r + 1] + y, arg[3 * r + 2] + z
                    zs = [axv[k] * nd for k in range(axp[oz], axp[oz + 1])]
                    targets = [base + (axv[ku] * hd + axv[kv]) * dd * nd + tz
                               for ku in range(axp[ox], axp[ox + 1])
                               for kv in range(axp[oy], axp[oy + 1]) for tz in zs]
                for t in targets:
                    if not flag[t] & CAND:
                        flag[t] |= CAND
                        cand[nc] = t
                        nc += 1
                    if t >= hi:
                        t -= hole
                    acc[t] = wrap32(acc[t] + c)
        return nc

    def _dynamics(self, b, nc):
        """Steps 6b-g for the ``nc`` candidates; returns the list of naturally fired ids."""
        flag = self.flag
        acc = self.acc
        cand = self.cand
        V = self.V
        cd = self.cd
        cc = self.cc
        na = self.neuron_area
        mp_acc = self.area_mp_acc
        cfl = self.area_cfl
        lim_a = self.area_limit
        k_a = self.area_leak_k
        exc_mode = self.area_exc_mode
        exc_t = self.area_exc_t
        refr = self.area_refr
        snooze = self.area_snooze
        thr_base = self.area_thr_base
        thr_a = self.area_thr
        vfire = self.vfire
        refl = self.refl
        fired = []
        bseed = ((b & 0xFFFFFFFF) * 1597334677) & 0xFFFFFFFF
        lo, hi, hole = M.HOLE_LO, M.HOLE_HI, M.HOLE_HI - M.HOLE_LO
        for j in range(nc):
            i = cand[j]
            if flag[i] & BLOCKED:
                continue
            a = na[i]
            if i >= hi:
                x = acc[i - hole]
            elif i < lo:
                x = acc[i]
            else:
                x = self._input(i)
            if mp_acc[a] and x < 0:
                v = V[i]  # negative input ignored (fp32: V + 0 would turn -0.0 into +0.0)
            else:
                v = sat32(V[i] + x)
            L = cfl[a]
            base = thr_base[a]
            thr = thr_a[a] if base < 0 else self.thr_n[base + i - self.area_first[a]]
            if thr <= v <= lim_a[a]:
                if cc[i] >= L:
                    cc[i] = 0
                    V[i] = v
                    continue
                mode = exc_mode[a]
                if mode == EXC_ALWAYS:
                    ok = True
                elif mode == EXC_NEVER:
                    ok = False
                else:
                    ok = pcg_hash((i * 2654435761 + bseed) & 0xFFFFFFFF) < exc_t[a]
                if ok:
                    V[i] = 0
                    c = cc[i]
                    if c < 65535:
                        c += 1
                        cc[i] = c
                    if L != 0 and L != 65535 and c >= L:
                        r = refr[a] + snooze[a]
                        r = 65535 if r > 65535 else r
                    else:
                        r = refr[a]
                    cd[i] = r
                    if r > 0:
                        refl[self.n_refl] = i
                        self.n_refl += 1
                    flag[i] |= FIRED
                    fired.append(i)
                    if M.HAS_MPD:
                        vfire[i] = v
                    continue
            if L != 0 and L != 65535:
                cc[i] = 0
            V[i] = leak(v, k_a[a])
        return fired

    def _dynamics_viper(self, b, nc):
        """Steps 6b-g in the viper kernel ``feagi_viper.dynamics``; returns the list of naturally
        fired ids."""
        out = self.prev  # free from step 5 until the swap at the end of the burst
        ctr = self._ctr
        ctr[0] = self.n_refl
        n_fired = _vp.dynamics(self.cand, nc, self.flag, self.acc, self.V, self.cd, self.cc,
                               self.neuron_area, self.area_mp_acc, self.area_cfl,
                               self.area_thr, self.area_limit, self.area_leak_k,
                               self.area_exc_mode, self.area_refr, self.area_snooze,
                               self.refl, ctr, out, self.area_thr_base, self.thr_n,
                               self.area_first, self.area_exc_t, self.vfire, M.HAS_MPD,
                               ((b & 0xFFFFFFFF) * 1597334677) & 0xFFFFFFFF, M.HOLE_LO,
                               M.HOLE_HI, self.side_id, self.side_acc, self.n_side)
        self.n_refl = ctr[0]
        return [out[j] for j in range(n_fired)]

    # ------------------------------------------------------------------ digests
    def burst_digest(self):
        """CRC-32 of ``[b, count, ids...]`` (u32 LE) of the last burst."""
        return self.fired_crc

    def final_digest(self):
        """CRC-32 chained over all burst digests so far (u32 LE)."""
        return self._final

    def state_digest(self):
        """CRC-32 over V (int32 LE), then cd (u16 LE), then cc (u16 LE) of all neurons."""
        crc = crc32(self.V)
        crc = self._crc_u16(self.cd, crc)
        return self._crc_u16(self.cc, crc)

    @staticmethod
    def _crc_u16(a, crc):
        if not isinstance(a, (bytearray, bytes)):
            return crc32(a, crc)
        buf = array.array("H", [0] * 64)
        n = len(a)
        for s in range(0, n, 64):
            m = min(64, n - s)
            for j in range(m):
                buf[j] = a[s + j]
            crc = crc32(memoryview(buf)[:m] if m < 64 else buf, crc)
        return crc

    # ------------------------------------------------------------------ device protocol
    def trace_burst(self):
        """Print ``B <b> <count> <crc>`` for the last burst."""
        print("B %d %d %08x" % (self.burst_number, len(self.fired), self.fired_crc))

    def trace_state(self):
        """Print ``S <b> <crc>`` (state digest after the last burst)."""
        print("S %d %08x" % (self.burst_number, self.state_digest()))

    def trace_end(self):
        """Print ``E <bursts> <final crc>``."""
        print("E %d %08x" % (self.burst_number, self._final))
