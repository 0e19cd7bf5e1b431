"""Shared host side of the GPU twins (CUDA through cupy, WGPU through wgpu-py).

Both backends run the same algorithm (``kernels.cu`` / ``kernels.wgsl``), one burst of
``docs/model.md`` §3 in fixed point as three kernels over persistent device buffers:

* ``k_in``: sensory injections and force-fires of the burst, the power neuron, the membrane reset
  (over the previous burst's candidates, or its fire queue in a large brain), and the propagation
  of the previous fire queue (one 32-lane group per source neuron, int32 wrapping atomic adds into
  the accumulator; a target's first input appends it to the fire candidate list (FCL));
* ``k_dyn``: refractory countdown of the neurons on the refractory list and the dynamics of every
  candidate (integrate, window, consecutive fire limit, excitability, fire or leak), degeneration;
  above n/8 candidates a dense, coalesced pass over all neurons instead of the lists;
* ``k_scan3``: the fired bitmap (natural ∪ forced) is compacted into the ascending fired ids (the
  next fire queue and the trace; each block's place from the per-block fired counts of
  ``k_in``/``k_dyn``), the FCL cleared, and the burst CRC-32 computed on the device: each
  invocation hashes its run of ids with the table-driven raw CRC and moves it to the end of the
  message with GF(2) shift matrices (CRC-32 is affine in the message), XOR-reduced with
  ``atomicXor``.

Backend differences (same results): WGSL marks candidates with an ``atomicOr`` on a flag word next
to an ``atomic<i32>`` accumulator and emulates the 64-bit products with 32-bit pieces; CUDA keeps
a 64-bit accumulator whose high word counts inputs (one atomic per synaptic event marks the
candidate too) and appends with warp-aggregated atomics. Both skip the FCL list in large brains
when the burst's candidates are bounded above n/8 (``docs/gpu.md``).

All work is sparse (fire queue, candidates, refractory list) except two passes over the fired
bitmap (N/32 words) and the dense mode above. Counters live on the device (``ctl``); a batch of
bursts is one submission (WGPU) or one CUDA graph launch, and the host reads back only the
per-burst counts and digests and, when recording, the fired ids and V at fire.

Precision ``"float"`` (the numba twin's f32 mode, FEAGI's arithmetic; CUDA only): the same
buffers hold f32 bits; the power input is the neuron's first input, the candidates' synaptic
inputs are summed in the twin's order by a gather over the incoming synapses (:func:`incoming`),
not by atomics, and the same gather then adds the neuron's sensory values in schedule order (the
host sorts each burst's injections by neuron, :func:`fold_f32`) — see ``kernels.cu``.

Layout of the device buffers: :data:`BUFFERS` (binding numbers of the WGSL kernels).
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

from ...errors import FeagiEmbedError
from ...model import Model
from ...stimulus import KIND_FORCE, Stimulus
from ...streaming import StepResult, step_arrays
from ...trace import Trace

HERE = Path(__file__).resolve().parent

#: binding number → buffer name (the WGSL kernels use these numbers; CUDA passes pointers)
BUFFERS = {
    0: "prm", 1: "ctl", 2: "thr", 3: "narea", 4: "apar", 5: "syn_ptr", 6: "syn_dst", 7: "syn_c",
    8: "syn_w", 9: "fanout", 10: "V", 11: "cd", 12: "cc", 13: "psp", 14: "acc", 15: "flag",
    16: "vfire", 17: "cand", 18: "forced", 19: "refl", 20: "fq", 21: "fqv", 22: "nat", 23: "frc",
    24: "fqbits", 25: "loc", 26: "blk", 27: "stim", 28: "out_ids", 29: "out_v", 30: "out_sums",
    31: "crctab", 32: "in_ptr", 33: "in_src", 34: "in_c", 35: "in_w",
}
#: control word indices (see kernels.wgsl)
C_BURST, C_BI, C_FQ, C_NCAND, C_NFORCED, C_NREFL, C_OUTPOS, C_SCRC = 0, 1, 2, 3, 5, 6, 8, 13
N_CTL = 24  # CUDA and WGPU use words up to 20 (kernels.cu, kernels.wgsl)
#: columns of the per-area parameter table ``apar`` (int32, 16 per area)
A_COLS = ("limit", "leak_k", "exc_mode", "exc_t", "refractory", "snooze", "cfl", "mp_acc",
          "mp_driven", "degen")
WG = 256
#: fired ids (and V at fire) a recording batch may hold on the device
OUT_CAP = 1 << 25


class GpuUnavailable(FeagiEmbedError):
    """The requested GPU backend cannot run here (library, driver or device missing)."""


# ----------------------------------------------------------------------------- CRC-32 tables
def crc_tables() -> np.ndarray:
    """uint32 ``[256 + 32·1024]``: zlib's CRC-32 table, then for k = 0…31 the GF(2) matrix that
    advances a raw CRC register (init 0, no final xor) over 2^k zero bytes, as 4 byte tables of 256
    entries (``M·r = T0[r & 255] ^ T1[r >> 8 & 255] ^ T2[r >> 16 & 255] ^ T3[r >> 24]``: four
    independent loads instead of 32 dependent ones).

    With ``L(M)`` the raw register after message M (linear in M), zlib's
    ``crc32(M) = L(M) ^ shift(0xFFFFFFFF, len(M)) ^ 0xFFFFFFFF`` and
    ``L(A || B) = shift(L(A), len(B)) ^ L(B)``; the kernels use this to hash in parallel."""
    t = np.zeros(256, np.uint32)
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
        t[i] = c
    cols = np.zeros((32, 32), np.uint64)  # cols[k, i] = M_k · (1 << i)
    for i in range(32):
        r = 1 << i
        cols[0, i] = int(t[r & 0xFF]) ^ (r >> 8)
    for k in range(1, 32):
        for i in range(32):
            cols[k, i] = _matvec(cols[k - 1], int(cols[k - 1, i]))
    v = np.arange(256, dtype=np.uint64)
    bytes_tab = np.zeros((32, 4, 256), np.uint64)
    for k in range(32):
        for b in range(4):
            for bit in range(8):
                bytes_tab[k, b] ^= np.where((v >> np.uint64(bit)) & np.uint64(1), cols[k, 8 * b + bit],
                                            np.uint64(0))
    return np.concatenate([t, bytes_tab.astype(np.uint32).ravel()])


def _matvec(cols: np.ndarray, r: int) -> int:
    o = 0
    i = 0
    while r:
        if r & 1:
            o ^= int(cols[i])
        r >>= 1
        i += 1
    return o


def crc_shift(tables: np.ndarray, r: int, nbytes: int) -> int:
    """Host version of the kernels' ``crc_shift`` (raw register over ``nbytes`` zero bytes)."""
    k = 0
    while nbytes and r:
        if nbytes & 1:
            b = 256 + 1024 * k
            r = int(tables[b + (r & 0xFF)] ^ tables[b + 256 + ((r >> 8) & 0xFF)]
                    ^ tables[b + 512 + ((r >> 16) & 0xFF)] ^ tables[b + 768 + (r >> 24)])
        nbytes >>= 1
        k += 1
    return r


def raw_crc(data: bytes) -> int:
    """Raw CRC register (init 0, no final xor) of ``data``: ``L(M)``."""
    return zlib.crc32(data) ^ zlib.crc32(bytes(len(data)))


# ----------------------------------------------------------------------------- model packing
def f32_bits(a) -> np.ndarray:
    """float32 values as their int32 bit patterns (−0.0 kept as is)."""
    return np.ascontiguousarray(np.asarray(a, np.float32)).view(np.int32)


def require_f32(model: Model) -> None:
    """Raise ``ValueError`` when the model lacks the f32 arrays of precision ``"float"``."""
    missing = [k for k in ("threshold_f32", "area_limit_f32", "area_leak_f32", "syn_c_f32",
                           "area_degen_f32", "area_psp_f32") if getattr(model, k) is None]
    if missing:
        raise ValueError(f"mode 'float': the model has no {', '.join(missing)} (build it with "
                         "feagi_embed.quantize.quantize, which records FEAGI's f32 values)")


def pack_model(model: Model, floating: bool = False,
               syn_ptr_dtype=np.uint32) -> dict[str, np.ndarray]:
    """Device arrays of a model (names of :data:`BUFFERS`), 32-bit values; the synapse offsets
    ``syn_ptr`` in ``syn_ptr_dtype`` (CUDA: uint64, so that models above 2^32 synapses run).

    ``floating``: precision ``"float"`` — thresholds, the limit and leak columns of ``apar``,
    degeneration and PSPs as f32 bits (from the model's ``*_f32`` arrays); ``syn_c`` is not
    uploaded (the gather reads :func:`incoming`'s copy).

    Raises:
        GpuUnavailable: the model exceeds the indices of the kernels (≥ 2^30 neurons, or
            ≥ 2^32 synapses with 32-bit offsets).
        ValueError: ``floating`` without the model's f32 arrays.
    """
    m = model
    n, s = m.n_neurons, m.n_synapses
    s_lim = 2**32 if np.dtype(syn_ptr_dtype).itemsize == 4 else 2**63
    if n >= 2**30 or s >= s_lim:
        raise GpuUnavailable(f"model too large for this GPU twin: {n} neurons, {s} synapses "
                             f"(limits 2^30 neurons, {'2^32' if s_lim == 2**32 else '2^63'} "
                             "synapses)")
    if floating:
        require_f32(m)
    a = len(m.area_limit)
    apar = np.zeros((a, 16), np.int64)
    apar[:, 0] = m.area_limit
    apar[:, 1] = m.area_leak_k
    apar[:, 2] = m.area_exc_mode
    apar[:, 3] = m.area_exc_t.astype(np.int64)
    apar[:, 4] = m.area_refractory
    apar[:, 5] = m.area_snooze
    apar[:, 6] = m.area_cfl
    apar[:, 7] = m.area_mp_acc
    apar[:, 8] = m.area_mp_driven
    apar[:, 9] = m.area_degen
    if floating:
        degen = np.asarray(m.area_degen_f32, np.float32)
        apar[:, 0] = f32_bits(m.area_limit_f32)
        apar[:, 1] = f32_bits(m.area_leak_f32)
        apar[:, 9] = np.where(degen != 0, f32_bits(degen), 0)  # −0.0: not degenerating
    # np.asarray: no copy of the (large) synapse arrays when their dtype already fits
    return {
        "thr": f32_bits(m.threshold_f32) if floating else np.asarray(m.threshold, np.int32),
        "narea": m.neuron_area.astype(np.uint32),
        "apar": (apar & 0xFFFFFFFF).astype(np.uint32).view(np.int32).ravel(),
        "syn_ptr": np.asarray(m.syn_ptr, syn_ptr_dtype),
        "syn_dst": np.asarray(m.syn_dst, np.uint32),
        "syn_c": np.zeros(1, np.int32) if floating else np.asarray(m.syn_c, np.int32),
        # read only by run-time contributions (mp-driven or degenerating sources)
        "syn_w": np.asarray(m.syn_w, np.int32) if needs_syn_w(m) else np.zeros(1, np.int32),
        "fanout": np.asarray(m.fanout, np.int32),
        "psp": f32_bits(m.initial_psp(True)) if floating else m.initial_psp(),
    }


def incoming(model: Model, xp=np) -> dict:
    """The incoming synapses of every neuron (CSC) for the f32 gather, in the numba twin's
    summation order: per target, ascending synapse index (= ascending source id, then CSR order).

    Returns arrays of module ``xp`` (numpy, or cupy to sort on the device): ``in_ptr`` uint64
    ``[N+1]``, ``in_src`` uint32 ``[S]``, ``in_c`` int32 ``[S]`` (f32 bits of ``syn_c_f32``),
    ``in_w`` int32 ``[S]`` (``syn_w``, or ``[1]`` when no source computes run-time PSPs).
    """
    m = model
    n, s = m.n_neurons, m.n_synapses
    dst = xp.asarray(np.asarray(m.syn_dst, np.uint32))
    if xp is not np and s < 2**32:
        # unique keys (target, synapse index): any sort is the stable one
        key = (dst.astype(xp.uint64) << 32) | xp.arange(s, dtype=xp.uint64)
        order = xp.argsort(key)
        del key
    else:
        order = xp.argsort(dst, kind="stable")
    counts = xp.bincount(dst, minlength=n) if s else xp.zeros(n, xp.int64)
    del dst
    in_ptr = xp.zeros(n + 1, xp.uint64)
    in_ptr[1:] = xp.cumsum(counts)
    src = xp.repeat(xp.arange(n, dtype=xp.uint32),
                    xp.asarray(np.diff(np.asarray(m.syn_ptr, np.int64))))
    out = {"in_ptr": in_ptr, "in_src": src[order]}
    del src
    out["in_c"] = xp.asarray(f32_bits(m.syn_c_f32))[order]
    out["in_w"] = (xp.asarray(np.asarray(m.syn_w, np.int32))[order] if needs_syn_w(m)
                   else xp.zeros(1, xp.int32))
    return out


def fold_f32(ptr, nrn, val, kind):
    """Precision ``"float"``: a compiled stimulus (``Stimulus.compile(..., real=True)``) with each
    burst's injections sorted by neuron (stably: schedule order within a neuron) and its
    force-fire entries after them, so that a burst's entry words (neuron id, bit 31 for a
    force-fire) ascend and the kernels' gather finds a neuron's injections by binary search. It
    adds them after the power and synaptic input, one f32 rounding each: the release engine's
    order *(oracle 2026-12-03, agent path: (1 + 6) + 1.89 = 8.89f)*. Values are unchanged.

    Returns:
        ``(ptr int64 [B+1], nrn uint32, val float32, kind uint8)`` in the input's format.
    """
    ptr = np.asarray(ptr, np.int64)
    nb = len(ptr) - 1
    bur = np.repeat(np.arange(nb, dtype=np.int64), np.diff(ptr))
    nrn = np.asarray(nrn, np.int64)
    force = np.asarray(kind, np.uint8) == KIND_FORCE
    order = np.lexsort((np.arange(len(bur)), nrn, force, bur))  # stable within a neuron
    return (ptr.copy(), nrn[order].astype(np.uint32), np.asarray(val, np.float32)[order],
            np.asarray(kind, np.uint8)[order])


def needs_syn_w(model: Model) -> bool:
    """Whether any source computes its contributions at run time (mp-driven or degenerating)."""
    return model.has_runtime_psp


def prm_words(model: Model, record: bool, floating: bool = False) -> np.ndarray:
    """The ``Prm`` block (12 u32, see kernels.wgsl). ``floating``: the power input and the forced
    V at fire as f32 bits (1.0, 100.0)."""
    m = model
    n = m.n_neurons
    words = (n + 31) // 32
    nblk = max(1, (words + WG - 1) // WG)
    psp_cap = min(m.psp_cap, 2**31 - 1)  # a PSP is an int32: a larger cap never clamps
    p = np.array([n, words, nblk, m.power_neuron if m.has_power else 0xFFFFFFFF,
                  m.power_input, m.forced_v, psp_cap, int(m.large_brain), int(record),
                  int(np.any(m.area_degen != 0)), 0, 0], np.int64)
    if floating:
        p[4] = int(np.float32(1.0).view(np.int32))
        p[5] = int(np.float32(100.0).view(np.int32))
        p[9] = int(np.any(np.asarray(m.area_degen_f32) != 0))
    return (p & 0xFFFFFFFF).astype(np.uint32)


def initial_ctl() -> np.ndarray:
    """Control words of a fresh twin: everything 0, the next burst number 1."""
    ctl = np.zeros(N_CTL, np.uint32)
    ctl[C_BURST] = 1
    return ctl


def pack_entries(st_nrn, st_kind, st_val) -> np.ndarray:
    """Compiled stimulus entries as the kernels read them: u32 ``[E, 2]`` of
    ``(neuron | force << 31, value bits)``."""
    ent = np.empty((len(st_nrn), 2), np.uint32)
    np.bitwise_or(st_nrn.astype(np.uint32, copy=False),
                  (st_kind == KIND_FORCE).astype(np.uint32) << np.uint32(31), out=ent[:, 0])
    v = np.asarray(st_val)
    ent[:, 1] = (v if v.dtype == np.float32 else v.astype(np.int32, copy=False)).view(np.uint32)
    return ent


def stim_block(st_ptr, packed: np.ndarray, b0: int, step: int,
               bi0: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Stimulus of bursts ``b0 … b0+step-1`` as the kernels read it (u32): the header
    ``[off, 0 × bi0, ptr_0 … ptr_step]`` (``off = bi0 + step + 2``, ``ptr`` relative; the kernels
    index it by the burst's place ``bi`` in the batch, which starts at ``bi0`` for a batch
    chained to the previous one) and the entries that follow it (a view of
    :func:`pack_entries`' array, no copy)."""
    lo, hi = int(st_ptr[b0 - 1]), int(st_ptr[b0 - 1 + step])
    head = np.zeros(bi0 + step + 2, np.uint32)
    head[0] = bi0 + step + 2
    head[1 + bi0:] = st_ptr[b0 - 1:b0 + step] - lo
    return head, packed[lo:hi].reshape(-1)


#: a batch whose stimulus holds more u32 words than this runs as chained parts of 1, 2, 4, …
#: bursts, so that each part's upload overlaps the previous part on the device
CHAIN_WORDS = 1 << 21  # 8 MiB: ~0.4 ms of PCIe; below it the parts' host work costs more


def chain_parts(st_ptr, b0: int, step: int) -> list[int]:
    """Sizes of the chained parts of the batch ``b0 … b0+step-1`` (one part when its stimulus is
    small: :data:`CHAIN_WORDS`)."""
    if 2 * (int(st_ptr[b0 - 1 + step]) - int(st_ptr[b0 - 1])) <= CHAIN_WORDS or step < 4:
        return [step]
    parts, k = [], 1
    while sum(parts) < step:
        parts.append(min(k, step - sum(parts)))
        k *= 2
    return parts


# ----------------------------------------------------------------------------- twin base
class GpuTwin:
    """Stateful GPU executor of a fixed-point :class:`~feagi_embed.model.Model`; the same
    interface and :class:`~feagi_embed.trace.Trace` as the numba
    :class:`~feagi_embed.host.twin.Twin`, bit for bit.

    Subclasses implement the device side (``_alloc``, ``_set_stim``, ``_launch``, ``_read_out``,
    ``_state_crc``, ``_read_state``).

    Args:
        model: the quantized model.
        mode: ``"fixed"`` or, on backends listing it in :attr:`modes`, ``"float"`` (the numba
            twin's f32 mode, bit for bit; V and V at fire are then float32).
        batch: most bursts per device submission.

    Raises:
        ValueError: a ``mode`` the backend does not run, or ``"float"`` on a model without f32
            arrays.
        GpuUnavailable: backend missing or model too large for it.
    """

    backend = "gpu"
    #: precisions this backend runs
    modes = ("fixed",)
    #: dtype of the CSR offsets on the device (CUDA: uint64, models above 2^32 synapses)
    syn_ptr_dtype = np.uint32
    #: whether ``_set_stim`` may upload the next batch while the current one runs (the backend
    #: double-buffers the stimulus and ``_launch`` uses the most recent upload)
    prefetch = False
    #: whether a batch with a large stimulus runs as chained parts (:func:`chain_parts`: each
    #: part's upload overlaps the previous part; one read-back per batch)
    chain = False

    def __init__(self, model: Model, mode: str = "fixed", *, batch: int = 64):
        if mode not in self.modes:
            raise ValueError(f"mode {mode!r}: the {self.backend} twin runs "
                             f"{' and '.join(map(repr, self.modes))} only"
                             + ("" if "float" in self.modes else
                                " (use the numba Twin or CUDA for 'float')"))
        if mode == "float":
            require_f32(model)
        self.model = model
        self.mode = mode
        self.batch = max(1, int(batch))
        self.burst = 0
        self._sched = None
        n = model.n_neurons
        self._out_cap = max(n, min(OUT_CAP, self.batch * n))
        self._tables = crc_tables()
        self._alloc(pack_model(model, mode == "float", self.syn_ptr_dtype))

    # -- backend interface
    def _alloc(self, arrays: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    def _set_stim(self, head: np.ndarray, entries: np.ndarray) -> None:
        """Upload ``head`` then ``entries`` (u32) to the start of the stimulus buffer."""
        raise NotImplementedError

    def _launch(self, step: int, record: bool, begin: bool = True) -> None:
        """Queue ``step`` bursts; ``begin=False`` continues the batch of the previous launch
        (its output positions, no read-back in between)."""
        raise NotImplementedError

    def _read_out(self, step: int, record: bool):
        """→ ``(counts u32[step], crcs u32[step], ids u32[total] | None, v i32[total] | None)``."""
        raise NotImplementedError

    def _state_crc(self) -> int:
        raise NotImplementedError

    def _read_state(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        raise NotImplementedError

    # -- public
    @property
    def V(self) -> np.ndarray:
        """Membrane potentials (int32 ``[N]``, float32 in ``"float"`` mode; copied from the
        device)."""
        return self._v_view(self._read_state()[0])

    def _v_view(self, a: np.ndarray) -> np.ndarray:
        """int32 device words as the mode's V type (float32 bits in ``"float"`` mode)."""
        return a.view(np.float32) if self.mode == "float" else a

    def _fold(self, ptr, nrn, val, kind):
        """``"float"`` mode: each burst's injections sorted by neuron (:func:`fold_f32`)."""
        if self.mode != "float":
            return ptr, nrn, val, kind
        return fold_f32(ptr, nrn, val, kind)

    @property
    def cd(self) -> np.ndarray:
        """Refractory countdowns (uint16 ``[N]``, copied from the device)."""
        return self._read_state()[1]

    @property
    def cc(self) -> np.ndarray:
        """Consecutive fire counts (uint16 ``[N]``, copied from the device)."""
        return self._read_state()[2]

    def state_digest(self) -> int:
        """CRC-32 of the current state (``docs/model.md`` §4), computed on the device."""
        return self._state_crc()

    def _schedule(self, stim: Stimulus, end: int):
        cached = self._sched
        if cached is not None and cached[0] is stim and cached[1] >= end:
            return cached[2]
        horizon = max(end, stim.last_burst())
        ptr, nrn, val, kind = self._fold(*stim.compile(self.model, horizon,
                                                       real=self.mode == "float"))
        arrays = (ptr, pack_entries(nrn, kind, val))
        self._sched = (stim, horizon, arrays)
        return arrays

    def run(self, bursts: int, stimulus: Stimulus | None = None, *, state_every: int = 0,
            batch: int | None = None, watch: np.ndarray | None = None,
            record: bool = True, final_state: bool = True) -> Trace:
        """Run ``bursts`` bursts (continuing from the current state); see
        :meth:`feagi_embed.host.twin.Twin.run`.

        Args:
            record: copy the fired ids and V at fire of every burst back (``trace.fired``,
                ``trace.fired_v``); ``False`` keeps only the device-computed digests (the
                ``fired`` lists then hold no arrays) — the fast path for benchmarks.
            final_state: also record the state digest after the last burst (once).
        """
        stim = stimulus or Stimulus()
        end = self.burst + bursts
        st = self._schedule(stim, end)
        trace = Trace()
        n = self.model.n_neurons
        limit = min(batch or self.batch, self.batch)
        if record:
            limit = min(limit, max(1, self._out_cap // max(n, 1)))
        if watch is not None:
            watch = np.asarray(watch, np.int64)
            limit = 1
        done = 0

        def size(burst, done):
            step = min(limit, bursts - done)
            if state_every:
                step = min(step, state_every - (burst % state_every))
            return step

        def parts(b0, step):
            return chain_parts(st[0], b0, step) if self.chain and watch is None else [step]

        uploaded = None
        while done < bursts:
            step = size(self.burst, done)
            b0 = self.burst + 1
            plan = parts(b0, step)
            if uploaded != (b0, plan[0]):
                self._set_stim(*stim_block(*st, b0, plan[0]))
            bi = 0
            for k, part in enumerate(plan):
                self._launch(part, record, begin=k == 0)
                bi += part
                if k + 1 < len(plan):  # the next part's stimulus travels while this one runs
                    self._set_stim(*stim_block(*st, b0 + bi, plan[k + 1], bi))
            uploaded = None
            if self.prefetch and done + step < bursts:
                # the next batch's (first part's) stimulus travels while this batch runs
                b1 = b0 + step
                nxt = (b1, parts(b1, size(self.burst + step, done + step))[0])
                self._set_stim(*stim_block(*st, *nxt))
                uploaded = nxt
            counts, crcs, ids, vs = self._read_out(step, record)
            pos = 0
            for i in range(step):
                c = int(counts[i])
                trace.burst_crc.append(int(crcs[i]))
                if record:
                    trace.fired.append(ids[pos:pos + c].copy())
                    trace.fired_v.append(self._v_view(vs[pos:pos + c].copy()))
                pos += c
            self.burst += step
            done += step
            if watch is not None:
                V, cd, cc = self._read_state()
                trace.watch.append(np.stack([self._v_view(V)[watch].astype(np.float64),
                                             cd[watch], cc[watch]],
                                            axis=1))
            if state_every and self.burst % state_every == 0:
                trace.state_crc[self.burst] = self.state_digest()
        if final_state and self.burst not in trace.state_crc:
            trace.state_crc[self.burst] = self.state_digest()
        return trace

    def step(self, ids=None, values=None, kinds=None, *, digest: bool = True,
             state: bool = False, record: bool = True) -> StepResult:
        """Run one burst with these inputs; see :meth:`feagi_embed.host.twin.Twin.step` (same
        semantics, bit for bit). The burst digest is computed on the device and always returned.

        Args:
            ids, values, kinds: the burst's inputs (q-values, :mod:`feagi_embed.streaming`).
            digest: accepted for interface parity (the digest costs nothing extra here).
            state: also compute the state digest after the burst (on the device).
            record: copy the fired ids and V at fire back (``False``: empty arrays).

        Raises:
            StimulusError: invalid inputs.
        """
        floating = self.mode == "float"
        nrn, val, kind = step_arrays(self.model.n_neurons, ids, values, kinds, real=floating)
        if floating:
            _, nrn, val, kind = self._fold(np.array([0, nrn.shape[0]], np.int64), nrn, val, kind)
        head = np.array([3, 0, nrn.shape[0]], np.uint32)
        c, crc, fired, fired_v = self._step_burst(head, pack_entries(nrn, kind, val).reshape(-1),
                                                  record)
        self.burst += 1
        if not record:
            fired, fired_v = np.empty(0, np.uint32), np.empty(0, np.int32)
        return StepResult(self.burst, fired, self._v_view(fired_v), crc,
                          self.state_digest() if state else None)

    def _step_burst(self, head, entries, record):
        """One burst of :meth:`step` from its stimulus words (``head``: ``[3, 0, m]``,
        ``entries``: m packed entries): upload, launch, read back. Returns ``(fired count,
        burst digest, fired ids or None, V at fire as int32 words or None)``."""
        self._set_stim(head, entries)
        self._launch(1, record)
        counts, crcs, ids_out, vs = self._read_out(1, record)
        c = int(counts[0])
        if not record:
            return c, int(crcs[0]), None, None
        return c, int(crcs[0]), ids_out[:c].copy(), vs[:c].copy()
