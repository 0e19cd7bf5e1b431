"""CUDA host twin: the burst of ``docs/model.md`` §3 as cupy RawKernels (CUDA C, ``kernels.cu``).

Persistent device buffers for the model and the state; int32 wrapping ``atomicAdd`` accumulation;
sparse work over the fire queue, the fire candidates and the refractory list; the burst and state
CRC-32 digests computed on the device. A batch of bursts (3 kernels each: ``k_in``, ``k_dyn``,
``k_scan3``; ``k_gather`` too in precision ``"float"``) is captured once as a CUDA graph and
replayed: one graph launch and one read-back per batch (a batch with a large stimulus runs as
chained parts whose uploads overlap the previous part). Algorithm and buffers:
:mod:`feagi_embed.host.gpu.common`.

Small, sparse genomes (fixed point, at most 65,536 neurons and 16,384 synapses, e.g.
essential_genome) run fused by default:
``k_fused`` runs all bursts of a batch in one launch of one 1,024-thread block, the burst's
phases separated by ``__syncthreads()``, the neuron sets as bitmaps in shared memory — the same
trace, without three launches per burst (``CudaTwin(..., fused=False)`` keeps the grid kernels;
:func:`fused_auto` is the rule).

Example::

    from feagi_embed.host.gpu.cuda import CudaTwin
    trace = CudaTwin(model).run(120, stimulus, state_every=10)
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from .common import (C_SCRC, HERE, WG, GpuTwin, GpuUnavailable, incoming, initial_ctl,
                     prm_words)

KERNELS = ("k_begin", "k_in", "k_gather", "k_dyn", "k_scan3", "k_state", "k_fused", "k_step_import",
           "k_step_export")
#: threads of the one block of ``k_fused`` and the neurons its shared bitmaps hold
#: (``FUSED_T``, ``32 * FUSED_WORDS`` in kernels.cu)
FUSED_THREADS = 1024
FUSED_MAX_NEURONS = 65_536
#: above this many synapses the fused path is not chosen automatically. Measured on an H200
#: (device run 9, 2026-12-03, bench_speed --sections step, fresh 5 % force-fire, batched µs per
#: burst fused / grid): essential_genome (1,552 synapses) 12.1 / 19.9, learning_v1_1b (33,934)
#: 80.7 / 37.7, webots_basic (121,776) 39.3 / 32.3: one multiprocessor loses once bursts carry
#: thousands of candidates or events. The bound sits between the winning and the losing genomes.
FUSED_AUTO_MAX_SYNAPSES = 1 << 14
#: buffer order of the kernels' parameter list (KARGS in kernels.cu)
ARGS = ("ctl", "thr", "narea", "apar", "syn_ptr", "syn_dst", "syn_c", "syn_w", "fanout", "V", "cd",
        "cc", "psp", "acc", "flag", "vfire", "cand", "forced", "refl", "fq", "fqv", "nat", "frc",
        "fqbits", "loc", "blk", "stim", "out_ids", "out_v", "out_sums", "crctab", "in_ptr", "in_src",
        "in_c", "in_w")
#: NVRTC options per precision: f32 with no FMA contraction (the kernels' float operations are
#: explicitly rounded intrinsics anyway; --fmad=false also keeps the compiler from fusing any)
OPTIONS = {False: ("--std=c++14",), True: ("--std=c++14", "--fmad=false", "-DFEAGI_FP32=1")}


def cuda_source(fp32: bool = False) -> str:
    """The CUDA C source of the kernels (``fp32``: with ``FEAGI_FP32`` defined in front, for
    compilers given no ``-D``)."""
    text = (HERE / "kernels.cu").read_text()
    return ("#define FEAGI_FP32 1\n" + text) if fp32 else text


def compile_check(arch: str = "sm_90", fp32: bool = False) -> tuple[str, str]:
    """Compile ``kernels.cu`` to PTX without a GPU: with ``nvcc`` when it is on the PATH, else
    with NVRTC from the ``nvidia-cuda-nvrtc-cu12`` wheel (``pip install 'feagi-embed[dev]'``).

    Returns:
        ``(tool, ptx text)``.

    Raises:
        GpuUnavailable: no compiler found, or the compile failed (with its log).
    """
    import shutil
    import subprocess
    import tempfile

    nvcc = shutil.which("nvcc")
    if nvcc:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "kernels.ptx"
            r = subprocess.run([nvcc, "-ptx", f"-arch={arch}", *OPTIONS[fp32], "-o", str(out),
                                str(HERE / "kernels.cu")], capture_output=True, text=True)
            if r.returncode != 0:
                raise GpuUnavailable(f"nvcc failed on kernels.cu:\n{r.stderr}")
            return "nvcc", out.read_text()
    lib = _nvrtc_library()
    if lib is None:
        raise GpuUnavailable("no CUDA compiler: nvcc is not on the PATH and the NVRTC wheel "
                             "(nvidia-cuda-nvrtc-cu12) is not installed")
    return "nvrtc", _nvrtc_ptx(lib, cuda_source(), "compute_" + arch.removeprefix("sm_"),
                               OPTIONS[fp32])


def fused_eligible(model, mode: str = "fixed") -> tuple[bool, str]:
    """Whether ``k_fused`` (every burst of a launch in one 1024-thread block) can run ``model``:
    precision ``"fixed"`` (``"float"`` keeps the grid kernels and their ordered f32 gather) and at
    most :data:`FUSED_MAX_NEURONS` neurons (its candidate, refractory and fired bitmaps live in
    shared memory: 5 × 2,048 words). Returns ``(ok, reason when not)``; synapses have no limit
    (they stay in device memory)."""
    if mode != "fixed":
        return False, f"precision {mode!r} (the fused path is fixed point only)"
    n = model.n_neurons
    if n > FUSED_MAX_NEURONS:
        return False, f"{n} neurons (the fused path holds at most {FUSED_MAX_NEURONS})"
    return True, ""


def fused_auto(model, mode: str = "fixed") -> bool:
    """The automatic choice of :class:`CudaTwin` (``fused=None``): :func:`fused_eligible` and at
    most :data:`FUSED_AUTO_MAX_SYNAPSES` synapses."""
    return fused_eligible(model, mode)[0] and model.n_synapses <= FUSED_AUTO_MAX_SYNAPSES


def _nvrtc_library():
    import ctypes
    import importlib.util

    try:
        spec = importlib.util.find_spec("nvidia.cuda_nvrtc")
    except ModuleNotFoundError:
        spec = None
    paths = []
    if spec is not None and spec.submodule_search_locations:
        for loc in spec.submodule_search_locations:
            paths += sorted(Path(loc, "lib").glob("libnvrtc.so*"))
    for p in paths + ["libnvrtc.so"]:
        try:
            return ctypes.CDLL(str(p))
        except OSError:
            continue
    return None


def _nvrtc_ptx(lib, source: str, arch: str, options=OPTIONS[False]) -> str:
    import ctypes

    prog = ctypes.c_void_p()
    if lib.nvrtcCreateProgram(ctypes.byref(prog), source.encode(), b"kernels.cu", 0, None, None):
        raise GpuUnavailable("nvrtcCreateProgram failed")
    opts = [f"--gpu-architecture={arch}".encode()] + [o.encode() for o in options]
    rc = lib.nvrtcCompileProgram(prog, len(opts), (ctypes.c_char_p * len(opts))(*opts))
    size = ctypes.c_size_t()
    lib.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
    log = ctypes.create_string_buffer(size.value)
    lib.nvrtcGetProgramLog(prog, log)
    if rc:
        raise GpuUnavailable(f"NVRTC failed on kernels.cu (code {rc}):\n{log.value.decode()}")
    lib.nvrtcGetPTXSize(prog, ctypes.byref(size))
    ptx = ctypes.create_string_buffer(size.value)
    lib.nvrtcGetPTX(prog, ptx)
    lib.nvrtcDestroyProgram(ctypes.byref(prog))
    return ptx.value.decode()


def _cupy():
    try:
        import cupy
    except ImportError as e:
        raise GpuUnavailable(f"cupy is not installed ({e}); pip install 'feagi-embed[cuda]'") from None
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            raise GpuUnavailable("no CUDA device")
    except GpuUnavailable:
        raise
    except Exception as e:  # noqa: BLE001 - cupy raises CUDARuntimeError without a driver
        raise GpuUnavailable(f"no usable CUDA device: {e}") from None
    return cupy


@lru_cache(maxsize=None)
def _module(device_id: int, fp32: bool = False):
    cupy = _cupy()
    mod = cupy.RawModule(code=cuda_source(), options=OPTIONS[fp32])
    return {k: mod.get_function(k) for k in KERNELS}


def available() -> tuple[bool, str]:
    """``(True, device name)`` when cupy finds a CUDA device and compiles the kernels, else
    ``(False, reason)``."""
    try:
        cupy = _cupy()
        dev = cupy.cuda.Device()
        _module(dev.id)
        name = cupy.cuda.runtime.getDeviceProperties(dev.id)["name"]
    except GpuUnavailable as e:
        return False, str(e)
    except Exception as e:  # noqa: BLE001 - NVRTC/driver failures
        return False, f"CUDA kernels do not compile or load: {e}"
    return True, name.decode() if isinstance(name, bytes) else str(name)


def _is_pinned(a: np.ndarray) -> bool:
    """Whether host array ``a`` lies in page-locked memory (cupyx.empty_pinned)."""
    import cupy as cp

    try:
        attrs = cp.cuda.runtime.pointerGetAttributes(a.ctypes.data)
    except Exception:  # noqa: BLE001 - pageable memory on some drivers raises
        return False
    return getattr(attrs, "type", 0) == cp.cuda.runtime.memoryTypeHost


class CudaTwin(GpuTwin):
    """The GPU twin on CUDA (see :class:`~feagi_embed.host.gpu.common.GpuTwin`).

    Args:
        model: the quantized model.
        mode: ``"fixed"`` or ``"float"`` (f32, bit for bit the numba twin's float mode:
            explicitly rounded f32 operations, no FMA contraction, the twin's summation order).
        batch: most bursts per graph launch.
        graphs: capture each batch shape once as a CUDA graph (default) instead of launching the
            kernels one by one.
        grid: blocks of the sparse kernels (default 8 per multiprocessor).
        fused: run every burst of a batch (or a :meth:`step`) in one launch of ``k_fused``, one
            block of 1,024 threads (``True``), or as the grid kernels ``k_in``, ``k_dyn``,
            ``k_scan3`` per burst (``False``); ``None`` (default): the class attribute
            :attr:`fuse`, and when that is ``None`` too, :func:`fused_auto` (fixed point, at most
            65,536 neurons and 16,384 synapses). Both paths give the same trace bit for bit.

    Raises:
        GpuUnavailable: cupy, a driver or a device missing.
        ValueError: ``fused=True`` for a model or precision the fused path cannot run
            (:func:`fused_eligible`).
    """

    backend = "cuda"
    prefetch = True
    chain = True
    modes = ("fixed", "float")
    syn_ptr_dtype = np.uint64
    #: default of the ``fused`` argument (``None``: automatic; tests and benches set it)
    fuse: bool | None = None
    #: :meth:`step` through page-locked host memory the kernels read and write (one graph
    #: launch and one wait per step, ``k_step_import``/``k_step_export``) instead of staged
    #: copies (``False``). On by default since device run 10 (H200, 2026-12-04): equal digests,
    #: 0.52–0.73x the staged step's wall time; tests/test_gpu_twin.py runs ``step()`` both ways.
    mapped_step: bool = True

    def __init__(self, model, mode: str = "fixed", *, batch: int = 64, graphs: bool = True,
                 grid: int | None = None, profile: bool = False, fused: bool | None = None):
        if fused is None:
            fused = self.fuse
        if fused is None:
            fused = fused_auto(model, mode)
        elif fused:
            ok, why = fused_eligible(model, mode)
            if not ok:
                raise ValueError(f"fused=True: the fused CUDA path cannot run {why}")
        #: whether this twin runs the fused single-block kernel (``k_fused``)
        self.fused = bool(fused)
        self._any_reset = np.uint32(bool(np.any(np.asarray(model.area_mp_acc) == 0)))
        self._use_graphs = graphs and not profile
        self._grid = grid
        #: ``profile=True``: kernels launched one by one with CUDA events between them;
        #: seconds per kernel name accumulate here (read after a ``run``)
        self.kernel_s: dict[str, float] | None = {} if profile else None
        self._marks = []
        super().__init__(model, mode, batch=batch)

    def _alloc(self, arrays):
        cp = _cupy()
        self._cp = cp
        dev = cp.cuda.Device()
        floating = self.mode == "float"
        self._k = _module(dev.id, floating)
        if self._grid is None:
            sms = cp.cuda.runtime.getDeviceProperties(dev.id)["multiProcessorCount"]
            self._grid = 8 * int(sms)
        self._stream = cp.cuda.Stream(non_blocking=True)
        m = self.model
        n = m.n_neurons
        words = (n + 31) // 32
        self._words = words
        self._nblk = max(1, (words + WG - 1) // WG)
        arrays.update(crctab=self._tables, ctl=initial_ctl())
        with self._stream:
            self._buf = {k: cp.asarray(np.ascontiguousarray(v)) for k, v in arrays.items()}
            if floating:
                self._buf.update(incoming(m, cp))
            else:
                self._buf.update({k: cp.zeros(1, t) for k, t in
                                  (("in_ptr", cp.uint64), ("in_src", cp.uint32),
                                   ("in_c", cp.int32), ("in_w", cp.int32))})
            z = lambda k, dt=cp.int32: cp.zeros(max(k, 1), dt)  # noqa: E731
            u = cp.uint32
            self._buf.update(
                V=z(n), cd=z(n, u), cc=z(n, u), acc=z(n, cp.uint64), flag=z(n, u), vfire=z(n),
                cand=z(2 * n, u), forced=z(n, u), refl=z(2 * n, u), fq=z(n, u), fqv=z(n),
                nat=z(words, u), frc=z(words, u), fqbits=z(words, u), loc=z(words, u),
                blk=z(2 * self._nblk, u), out_ids=z(self._out_cap, u), out_v=z(self._out_cap),
                out_sums=z(2 * self.batch, u), stim=z(64, u),
                fstate=z(4 * words, u))  # k_fused's bitmaps between launches
        self._prm = {}
        for rec in (False, True):
            w = prm_words(m, rec, floating)[:10]  # n, words, nblk, power, power_in, forced_v, psp_cap, ...
            wi = w.view(np.int32)
            self._prm[rec] = tuple(wi[i] if i in (4, 5, 6) else w[i] for i in range(10))
        self._graphs = {}
        self._pending = None
        self._pinned = None  # pinned staging buffer of the stimulus upload
        self._copy = cp.cuda.Stream(non_blocking=True)  # stimulus uploads
        self._stims = [self._buf["stim"], cp.zeros_like(self._buf["stim"])]  # double buffer
        self._slot = 0
        #: per stimulus slot: an event after the last launch that reads it (an upload into the
        #: slot waits for it on the copy stream)
        self._slot_free = [None, None]
        self._host = {}  # pinned read-back buffers
        self._fired_mean = 0.0  # fired per burst of the last recorded read-back (the guess)
        self._pin_done = None
        self._step_io = None  # step()'s page-locked I/O buffers (_step_buffers)
        #: seconds the device spent on the batches run so far (CUDA events, launch to completion)
        self.device_s = 0.0
        self._stream.synchronize()

    def _args(self, record):
        b = self._buf
        return tuple(b[k] for k in ARGS) + self._prm[record]

    def _schedule(self, stim, end):
        """The packed schedule (:meth:`GpuTwin._schedule`), moved once into pinned host memory so
        that every batch's entries go to the device by DMA straight from it (no staging copy)."""
        cached = self._sched
        ptr, packed = super()._schedule(stim, end)
        if self._sched is not cached and packed.size:
            import cupyx

            pinned = cupyx.empty_pinned(packed.shape, packed.dtype)
            pinned[...] = packed
            packed = pinned
            self._sched = (self._sched[0], self._sched[1], (ptr, packed))
        return ptr, packed

    def _set_stim(self, head, entries):
        """Upload ``head`` (through a small pinned staging buffer) and ``entries`` (DMA'd straight
        from the pinned schedule; a step's few entries are staged too) into the other of the two
        stimulus buffers, on the copy stream: it overlaps the batch in flight, and the next
        :meth:`_launch` waits for it on the device, not on the host."""
        cp = self._cp
        size = head.size + entries.size
        slot = 1 - self._slot
        if size > self._stims[slot].size:
            with self._copy:
                self._stims[slot] = cp.zeros(max(size, 2 * self._stims[slot].size), cp.uint32)
            self._graphs = {k: g for k, g in self._graphs.items() if k[2] != slot}
        dev = self._stims[slot]
        direct = entries.size > 4096 and _is_pinned(entries)
        staged = head.size + (0 if direct else entries.size)
        if self._pin_done is not None:
            self._pin_done.synchronize()  # the previous upload has left the staging buffer
        if self._slot_free[slot] is not None:
            self._copy.wait_event(self._slot_free[slot])  # the launch reading the slot is done
        pin = self._pinned
        if pin is None or pin.size < staged:
            import cupyx

            self._pinned = pin = cupyx.empty_pinned(max(staged, 2 * (0 if pin is None else
                                                                      pin.size), 1024), np.uint32)
        pin[:head.size] = head
        if not direct:
            pin[head.size:staged] = entries
        dev[:staged].set(pin[:staged], stream=self._copy)
        if direct:
            dev[head.size:size].set(entries, stream=self._copy)
        self._pin_done = cp.cuda.Event()
        self._pin_done.record(self._copy)
        self._slot = slot

    def _enqueue(self, step, record, begin=True):
        args = self._args(record)
        k = self._k
        if self.fused:
            self._mark("k_fused")
            k["k_fused"]((1,), (FUSED_THREADS,), args + (
                self._buf["fstate"], np.uint32(step), np.uint32(bool(begin)), self._any_reset))
            self._mark(None)
            return
        g, nb = self._grid, self._nblk
        plan = [("k_in", g)] + ([("k_gather", g)] if self.mode == "float" else []) + [
            ("k_dyn", g), ("k_scan3", nb)]
        if begin:
            k["k_begin"]((1,), (1,), args)
        for _ in range(step):
            for name, blocks in plan:
                if self.kernel_s is not None:
                    ev = self._cp.cuda.Event()
                    ev.record(self._stream)
                    self._marks.append((name, ev))
                k[name]((blocks,), (WG,), args)
        if self.kernel_s is not None:
            ev = self._cp.cuda.Event()
            ev.record(self._stream)
            self._marks.append((None, ev))

    def _mark(self, name):
        """Profiling (``profile=True``): a CUDA event before kernel ``name`` (``None``: the end)."""
        if self.kernel_s is not None:
            ev = self._cp.cuda.Event()
            ev.record(self._stream)
            self._marks.append((name, ev))

    def _launch(self, step, record, begin=True):
        s = self._stream
        self._buf["stim"] = self._stims[self._slot]  # the most recent upload
        if self._pin_done is not None:
            s.wait_event(self._pin_done)
        first = self._pending is None  # device time counts from the batch's first launch
        if first:
            self._pending = self._cp.cuda.Event()
        if not self._use_graphs:
            if first:
                self._pending.record(s)
            with s:
                self._enqueue(step, record, begin)
        else:
            key = (step, record, self._slot, begin)
            graph = self._graphs.get(key)
            if graph is None:
                # captured for both stimulus slots at once: which slot a later batch of this
                # shape finds is not known, and a capture inside a timed run costs milliseconds
                for slot in (1 - self._slot, self._slot):
                    self._buf["stim"] = self._stims[slot]
                    with s:
                        s.begin_capture()
                        try:
                            self._enqueue(step, record, begin)
                        finally:
                            graph = s.end_capture()
                    self._graphs[(step, record, slot, begin)] = graph
            if first:
                self._pending.record(s)
            graph.launch(stream=s)
        free = self._cp.cuda.Event(disable_timing=True)
        free.record(s)
        self._slot_free[self._slot] = free

    def _account(self, ev1=None):
        """Add the device time of the batch just read back to :attr:`device_s` (``ev1``: an event
        recorded right after the batch, already complete; else one is recorded and waited for)."""
        ev0, self._pending = self._pending, None
        if ev0 is not None:
            if ev1 is None:
                ev1 = self._cp.cuda.Event()
                ev1.record(self._stream)
                ev1.synchronize()
            self.device_s += self._cp.cuda.get_elapsed_time(ev0, ev1) / 1e3
        marks, self._marks = self._marks, []
        for (name, a), (_, b) in zip(marks, marks[1:]):
            if name is not None:
                dt = self._cp.cuda.get_elapsed_time(a, b) / 1e3
                self.kernel_s[name] = self.kernel_s.get(name, 0.0) + dt

    def _host_buf(self, key, size, dtype):
        """A pinned host buffer of at least ``size`` elements (grown by doubling)."""
        buf = self._host.get(key)
        if buf is None or buf.size < size:
            import cupyx

            buf = cupyx.empty_pinned(max(size, 2 * (0 if buf is None else buf.size), 256), dtype)
            self._host[key] = buf
        return buf

    def _read_out(self, step, record):
        """Counts and digests (one async copy into pinned memory, one wait), then, when
        recording, the fired ids and V at fire (two async copies, one wait)."""
        s = self._stream
        ev1 = self._cp.cuda.Event()
        ev1.record(s)
        sums = self._host_buf("sums", 2 * step, np.uint32)[:2 * step]
        self._buf["out_sums"][:2 * step].get(stream=s, out=sums, blocking=False)
        # when recording, as many fired ids and V as the previous bursts suggest travel in the
        # same wait (one wait per batch or step when the guess holds; a second for the rest)
        guess = min(self._out_cap, int(1.25 * self._fired_mean * step) + 64) if record else 0
        ids = self._host_buf("ids", guess, np.uint32)
        vs = self._host_buf("v", guess, np.int32)
        if guess:
            self._buf["out_ids"][:guess].get(stream=s, out=ids[:guess], blocking=False)
            self._buf["out_v"][:guess].get(stream=s, out=vs[:guess], blocking=False)
        s.synchronize()
        self._account(ev1)
        sums = sums.reshape(step, 2).copy()
        counts, crcs = sums[:, 0], sums[:, 1]
        if not record:
            return counts, crcs, None, None
        total = int(counts.sum(dtype=np.int64))
        self._fired_mean = total / step
        if total > guess:
            ids = self._host_buf("ids", total, np.uint32)
            vs = self._host_buf("v", total, np.int32)
            # all of it (the buffers may have grown, leaving the guessed part behind)
            self._buf["out_ids"][:total].get(stream=s, out=ids[:total], blocking=False)
            self._buf["out_v"][:total].get(stream=s, out=vs[:total], blocking=False)
            s.synchronize()
        return counts, crcs, ids[:total], vs[:total]

    def _step_burst(self, head, entries, record):
        """With graphs and :attr:`mapped_step`: one burst as one graph launch and one wait. The
        inputs are written into page-locked host memory that ``k_step_import`` reads on the
        device, and ``k_step_export`` writes the fired count, digest, ids and V at fire into
        another (no copy call). Its device time is not added to :attr:`device_s` (no events)."""
        if not (self._use_graphs and self.mapped_step):
            return super()._step_burst(head, entries, record)
        words = head.size + entries.size
        inp, out = self._step_buffers(words)
        inp[:head.size] = head
        inp[head.size:words] = entries
        key = ("step", record, inp.ctypes.data)
        graph = self._graphs.get(key)
        if graph is None:
            graph = self._graphs[key] = self._capture_step(record)
        graph.launch(stream=self._stream)
        self._stream.synchronize()
        c, crc = int(out[0]), int(out[1])
        if not record:
            return c, crc, None, None
        cap = self.model.n_neurons
        return c, crc, out[2:2 + c].copy(), out[2 + cap:2 + cap + c].view(np.int32).copy()

    def _step_buffers(self, words):
        """The step's page-locked input (at least ``words`` words, grown by doubling, with a
        device stimulus buffer of the same size) and output (``2 + 2 n`` words) buffers."""
        cp, io = self._cp, self._step_io
        if io is None or io["in"].size < words:
            import cupyx

            size = max(words, 2 * (0 if io is None else io["in"].size), 1024)
            out = cupyx.empty_pinned(2 + 2 * self.model.n_neurons, np.uint32) if io is None \
                else io["out"]
            inp = cupyx.empty_pinned(size, np.uint32)
            io = self._step_io = {"in": inp, "out": out, "stim": cp.zeros(size, cp.uint32),
                                  "in_dev": self._mapped(inp), "out_dev": self._mapped(out)}
            self._graphs = {k: g for k, g in self._graphs.items() if k[0] != "step"}
        return io["in"], io["out"]

    def _mapped(self, host):
        """A cupy array over page-locked numpy array ``host`` (its device address: the same as
        the host's under unified addressing, as the driver reports it)."""
        cp = self._cp
        ptr = cp.cuda.runtime.pointerGetAttributes(host.ctypes.data).devicePointer
        mem = cp.cuda.UnownedMemory(ptr, host.nbytes, host, device_id=cp.cuda.Device().id)
        return cp.ndarray(host.shape, host.dtype, cp.cuda.MemoryPointer(mem, 0))

    def _capture_step(self, record):
        """k_step_import, one burst (:meth:`_enqueue`) and k_step_export, captured as a graph."""
        io, s, k, b = self._step_io, self._stream, self._k, self._buf
        b["stim"] = io["stim"]
        with s:
            s.begin_capture()
            try:
                k["k_step_import"]((32,), (WG,), (io["in_dev"], io["stim"]))
                self._enqueue(1, record, True)
                k["k_step_export"]((32,), (WG,), (b["out_sums"], b["out_ids"], b["out_v"],
                                                  io["out_dev"], np.uint32(self.model.n_neurons),
                                                  np.uint32(bool(record))))
            finally:
                graph = s.end_capture()
        return graph

    def sync(self) -> None:
        """Wait for the device work queued so far."""
        self._stream.synchronize()

    def _state_crc(self):
        n = self.model.n_neurons
        with self._stream:
            self._buf["ctl"][C_SCRC:C_SCRC + 1].fill(0)
            blocks = max(1, -(-(-(-n // 64)) // WG))
            self._k["k_state"]((blocks,), (WG,), self._args(False))
            r = int(self._buf["ctl"][C_SCRC:C_SCRC + 1].get(stream=self._stream)[0])
        self._stream.synchronize()
        return r

    def _read_state(self):
        with self._stream:
            V = self._buf["V"][:self.model.n_neurons].get(stream=self._stream)
            cd = self._buf["cd"][:self.model.n_neurons].get(stream=self._stream).astype(np.uint16)
            cc = self._buf["cc"][:self.model.n_neurons].get(stream=self._stream).astype(np.uint16)
        self._stream.synchronize()
        return V, cd, cc
