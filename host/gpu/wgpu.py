"""WGPU host twin: the burst of ``docs/model.md`` §3 as WGSL compute shaders through wgpu-py.

Runs on any WebGPU adapter wgpu-native finds: Vulkan on an NVIDIA/AMD/Intel GPU, or the CPU
through Mesa's lavapipe (CI). Bit-exact with the numba twin (fixed point): int32 arithmetic,
``atomic<i32>`` wrapping accumulation, the 64-bit leak product and run-time contributions in 32-bit
pieces; precision ``"float"`` too (``docs/gpu.md`` says what WGSL promises). Per-synapse arrays
above the adapter's storage binding limit are split over several bindings (:func:`split_source`).
Algorithm and buffers: :mod:`feagi_embed.host.gpu.common`; shaders: ``kernels.wgsl``.

Example::

    from feagi_embed.host.gpu.wgpu import WgpuTwin
    trace = WgpuTwin(model).run(120, stimulus, state_every=10)
"""

from __future__ import annotations

import os
import re
import tempfile
from functools import lru_cache

import numpy as np

from .common import (BUFFERS, C_SCRC, WG, GpuTwin, GpuUnavailable, incoming, initial_ctl,
                     prm_words)

#: per-synapse arrays that may be split over several bindings (each within the adapter's binding
#: size limit), with their WGSL element type
SPLITTABLE = {"syn_dst": "u32", "syn_c": "i32", "syn_w": "i32", "in_src": "u32", "in_c": "i32",
              "in_w": "i32"}
#: binding of part j of SPLITTABLE array a: SPLIT_BASE + 8 a + j (at most 8 parts)
SPLIT_BASE = 40
MAX_PARTS = 8
KERNELS = ("k_begin", "k_in", "k_gather", "k_dyn", "k_scan3", "k_fused", "k_state")
_CRC_KERNELS = ("k_scan3", "k_fused", "k_state")
#: the kernels whose phases k_fused runs in one workgroup
FUSED_PHASES = ("k_in", "k_dyn", "k_scan3")
#: models up to this many neurons and synapses may run fused by default (one dispatch per batch)
FUSED_MAX_NEURONS = 1 << 16
FUSED_MAX_SYNAPSES = 1 << 20
#: by default a batch runs fused when the previous batch's busiest burst had at most this much
#: work (fired neurons × mean fan-out + fired neurons + the batch's most stimulus entries per
#: burst): one workgroup does all of a fused burst's work, so busy bursts run faster spread
#: over the device's three dispatches
FUSED_MAX_WORK = 4096
#: CPU adapters: loop iterations one fused dispatch may take (llvmpipe ends loops silently after
#: 65,535, counted over the whole invocation; half of it for margin)
CPU_LOOP_BUDGET = 1 << 15


def binding_name(b: int) -> str:
    """Buffer name of binding ``b`` (:data:`BUFFERS`, or ``"name#j"``: part j of a split array)."""
    if b < SPLIT_BASE:
        return BUFFERS[b]
    a, j = divmod(b - SPLIT_BASE, MAX_PARTS)
    return f"{list(SPLITTABLE)[a]}#{j}"


def split_source(src: str, split: tuple) -> str:
    """``src`` with each array of ``split`` (``(name, parts, part_words)`` tuples) declared as
    ``parts`` bindings and read through ``name_at(k)`` (part ``k / part_words``)."""
    for name, parts, words in split:
        a = list(SPLITTABLE).index(name)
        ty = SPLITTABLE[name]
        decl = re.compile(r"@group\(0\) @binding\(\d+\) var<storage, read> " + name
                          + r": array<\w+>;\n")
        if not decl.search(src):
            continue
        lines = "".join(f"@group(0) @binding({SPLIT_BASE + MAX_PARTS * a + j}) var<storage, read> "
                        f"{name}_p{j}: array<{ty}>;\n" for j in range(parts))
        body = "".join(f"  if (j == {j}u) {{ return {name}_p{j}[o]; }}\n"
                       for j in range(parts - 1))
        fn = (f"fn {name}_at(k: u32) -> {ty} {{\n  let j = k / {words}u;\n"
              f"  let o = k - j * {words}u;\n{body}  return {name}_p{parts - 1}[o];\n}}\n")
        src = decl.sub(lambda _m: lines + fn, src, count=1)
        src = re.sub(r"\b" + name + r"\[([^\]]+)\]", name + r"_at(\1)", src)
    return src


def wgsl_sources(fp32: bool = False, split: tuple = ()) -> dict[str, str]:
    """Kernel name → full WGSL source (the ``FP32`` constant + ``common`` [+ ``crc``] + the
    kernel's section); ``k_gather`` only with ``fp32``, ``k_fused`` (:func:`fused_body`) only
    without; arrays of ``split`` over several bindings (:func:`split_source`)."""
    from .common import HERE

    text = (HERE / "kernels.wgsl").read_text()
    parts = re.split(r"^//! (\w+)\s*$", text, flags=re.M)
    sec = {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}
    head = f"const FP32: bool = {'true' if fp32 else 'false'};\n"
    out = {}
    for k in KERNELS:
        if (k == "k_gather" and not fp32) or (k == "k_fused" and fp32):
            continue
        body = fused_body(sec) if k == "k_fused" else sec[k]
        out[k] = split_source(plain_atomics(head + sec["common"]
                                            + (sec["crc"] if k in _CRC_KERNELS else "") + body),
                              split)
    return out


_RMW = r"atomic(?:Add|Sub|Max|Min|And|Or|Xor|Exchange|CompareExchangeWeak)\(&"


def plain_atomics(src: str) -> str:
    """``src`` with each ``array<atomic<T>>`` storage buffer that the module only loads and
    stores (no read-modify-write) declared ``array<T>`` and accessed plainly. The kernel
    sections declare a buffer the same way in every kernel (so that ``k_fused`` can merge them);
    this keeps plain accesses where a module needs no atomics (CPU adapters such as lavapipe
    run atomic loads and stores lane by lane)."""
    for name, ty in re.findall(r"var<storage, read(?:_write)?> (\w+): array<atomic<(\w+)>>;", src):
        if re.search(_RMW + name + r"\[", src):
            continue
        src = re.sub(r"(var<storage, read(?:_write)?> " + name + r": )array<atomic<" + ty + ">>;",
                     r"\1array<" + ty + ">;", src)
        src = re.sub(r"atomicLoad\(&" + name + r"\[([^\]]+)\]\)", name + r"[\1]", src)
        src = re.sub(r"atomicStore\(&" + name + r"\[([^\]]+)\],\s*([^;]+)\);",
                     name + r"[\1] = \2;", src)
    return src


_DECL_LINE = re.compile(r"^@group\(0\) @binding\((\d+)\) var<([^>]*)> (\w+): (.+);\n", re.M)
_MAIN = re.compile(r"^@compute @workgroup_size\(256\)\nfn main\(.*", re.M | re.S)


def fused_body(sec: dict[str, str]) -> str:
    """The ``k_fused`` module body: the binding declarations of ``k_in``, ``k_dyn`` and
    ``k_scan3`` merged (one per binding, ``read_write`` where any kernel writes it; the types
    agree), their functions without their entry points, then the ``k_fused`` section."""
    decls, bodies = {}, []
    for k in FUSED_PHASES:
        for b, space, name, ty in _DECL_LINE.findall(sec[k]):
            prev = decls.get(int(b))
            if prev is not None and (prev[1], prev[2]) != (name, ty):
                raise ValueError(f"binding {b}: {prev[1]}: {prev[2]} and {name}: {ty} differ")
            if prev is not None and "read_write" in prev[0]:
                space = prev[0]
            decls[int(b)] = (space, name, ty)
        bodies.append(_MAIN.sub("", _DECL_LINE.sub("", sec[k])))
    lines = "".join(f"@group(0) @binding({b}) var<{sp}> {name}: {ty};\n"
                    for b, (sp, name, ty) in sorted(decls.items()))
    return lines + "".join(bodies) + sec["k_fused"]


def _quiet_mesa() -> None:
    """Mesa's Vulkan drivers print "error: XDG_RUNTIME_DIR is invalid" when the variable is unset
    (headless machines, CI); it is harmless, so give them a private directory instead."""
    if os.environ.get("XDG_RUNTIME_DIR") and os.path.isdir(os.environ["XDG_RUNTIME_DIR"]):
        return
    path = os.path.join(tempfile.gettempdir(), f"feagi-embed-xdg-{os.getuid()}")
    os.makedirs(path, mode=0o700, exist_ok=True)
    os.environ["XDG_RUNTIME_DIR"] = path


def _device_and_pipelines(fp32: bool = False, split: tuple = ()):
    """The process's wgpu device (adapter's storage limits), its adapter, and the compiled
    pipelines of a precision and buffer split (kernel → (pipeline, [(binding, buffer name)]))."""
    device, adapter = _device()
    return device, adapter, _pipelines_cached(bool(fp32), tuple(split))


@lru_cache(maxsize=None)
def _pipelines_cached(fp32: bool, split: tuple) -> dict:
    return _pipelines(_device()[0], fp32, split)


@lru_cache(maxsize=None)
def _device(power_preference: str = "high-performance"):
    """One wgpu device per process (always call without arguments: the cache is per call)."""
    _quiet_mesa()
    try:
        import wgpu
    except ImportError as e:
        raise GpuUnavailable(f"wgpu-py is not installed ({e}); pip install 'feagi-embed[wgpu]'") from None
    try:
        adapter = wgpu.gpu.request_adapter_sync(power_preference=power_preference)
    except Exception as e:  # noqa: BLE001 - wgpu raises several kinds when no driver exists
        raise GpuUnavailable(f"no WebGPU adapter: {e}") from None
    if adapter is None:
        raise GpuUnavailable("no WebGPU adapter (install a Vulkan driver, e.g. Mesa lavapipe: "
                             "apt-get install mesa-vulkan-drivers libvulkan1)")
    lim = adapter.limits
    want = {k: lim[k] for k in ("max-storage-buffers-per-shader-stage",
                                "max-storage-buffer-binding-size", "max-buffer-size",
                                "max-compute-workgroups-per-dimension") if k in lim}
    device = adapter.request_device_sync(required_limits=want)
    return device, adapter


_DECL = re.compile(r"@binding\((\d+)\)\s*var<(\w+)(?:,\s*(\w+))?>")


def shared_sources(sources: dict[str, str], limit: int) -> dict[str, str] | None:
    """The kernels with one common set of binding declarations, or ``None`` when their union holds
    more storage buffers than ``limit`` (the adapter's per-stage limit).

    A binding that any kernel writes is declared ``read_write`` in every kernel that binds it, so
    that all kernels fit one bind group layout: the host binds one bind group per compute pass
    instead of one per dispatch."""
    access = {}
    for src in sources.values():
        for b, space, acc in _DECL.findall(src):
            if space != "uniform":
                access[int(b)] = "read_write" if "read_write" in (acc, access.get(int(b))) else acc
    if len(access) > limit:
        return None
    rw = {b for b, a in access.items() if a == "read_write"}

    def fix(m):
        b = int(m.group(1))
        return (f"@binding({b}) var<storage, read_write>" if b in rw and m.group(3) == "read"
                else m.group(0))

    return {k: _DECL.sub(fix, src) for k, src in sources.items()}


def _layout_entries(wgpu, srcs) -> tuple[list, list]:
    """Bind group layout entries and ``(binding, buffer name)`` pairs of the bindings declared
    in the sources ``srcs`` (each binding once)."""
    entries, names, seen = [], [], set()
    for src in srcs:
        for b, space, access in _DECL.findall(src):
            b = int(b)
            if b in seen:
                continue
            seen.add(b)
            if space == "uniform":
                ty = wgpu.BufferBindingType.uniform
            elif access == "read":
                ty = wgpu.BufferBindingType.read_only_storage
            else:
                ty = wgpu.BufferBindingType.storage
            entries.append({"binding": b, "visibility": wgpu.ShaderStage.COMPUTE,
                            "buffer": {"type": ty}})
            names.append((b, binding_name(b)))
    return entries, names


def _pipelines(device, fp32: bool, split: tuple = ()) -> dict:
    """Kernel name → ``(pipeline, bind group layout, [(binding, buffer name)])``; all kernels
    share one layout (the same object) when the union of their bindings fits the device's limit
    (:func:`shared_sources`)."""
    import wgpu

    sources = wgsl_sources(fp32, split)
    shared = shared_sources(sources, device.limits["max-storage-buffers-per-shader-stage"])
    common = None
    if shared is not None:
        sources = shared
        entries, names = _layout_entries(wgpu, sources.values())
        bgl = device.create_bind_group_layout(entries=entries)
        common = (bgl, device.create_pipeline_layout(bind_group_layouts=[bgl]), names)
    pipes = {}
    for name, src in sources.items():
        if common is None:
            entries, names = _layout_entries(wgpu, [src])
            bgl = device.create_bind_group_layout(entries=entries)
            layout = device.create_pipeline_layout(bind_group_layouts=[bgl])
        else:
            bgl, layout, names = common
        try:
            module = device.create_shader_module(code=src, label=name)
            pipe = device.create_compute_pipeline(layout=layout,
                                                  compute={"module": module, "entry_point": "main"})
        except Exception:  # noqa: BLE001 - wgpu raises several kinds; only k_fused is optional
            if name != "k_fused":
                raise
            import warnings

            warnings.warn("WGPU: the fused kernel does not compile on this adapter; the twin runs "
                          "three dispatches per burst", RuntimeWarning, stacklevel=2)
            continue
        pipes[name] = (pipe, bgl, names)
    return pipes


def available() -> tuple[bool, str]:
    """``(True, adapter description)`` when a WebGPU adapter runs the kernels, else
    ``(False, reason)``."""
    try:
        _, adapter, _ = _device_and_pipelines()
    except GpuUnavailable as e:
        return False, str(e)
    info = adapter.info
    return True, f"{info['device']} ({info['backend_type']}, {info['adapter_type']})"


class WgpuTwin(GpuTwin):
    """The GPU twin on WebGPU (see :class:`~feagi_embed.host.gpu.common.GpuTwin`).

    Args:
        model: the quantized model.
        part_words: split per-synapse arrays into bindings of this many elements (default: as
            many as the adapter's storage binding limit holds; only arrays above it are split).
        mode: ``"fixed"`` or ``"float"`` (f32 in the numba twin's order; WGSL promises
            correctly rounded + − × but neither the absence of contraction into fused
            multiply-adds nor subnormals — see ``docs/gpu.md``).
        submit_bursts: most bursts per queue submission (a batch is submitted in chunks that
            grow to this, overlapping the host's encoding with the device's work).
        fused: ``True``: run every burst of a submission in one dispatch of one workgroup
            (``k_fused``; fixed point, all kernels in one bind group, no split arrays);
            ``False``: three dispatches per burst. Default: the environment's
            ``FEAGI_EMBED_WGPU_FUSED`` (``0``/``1``), else, on models up to
            :data:`FUSED_MAX_NEURONS` neurons and :data:`FUSED_MAX_SYNAPSES` synapses, per
            batch: fused when the previous batch was quiet (:data:`FUSED_MAX_WORK`). Both paths
            keep the same device state, so a run may alternate between them.
        fuse_cap: most bursts per fused dispatch (a launch of more is several dispatches in one
            submission); default: no limit on GPU adapters, a loop-iteration bound on CPU ones
            (:meth:`_prm_data`).
        batch: most bursts per read-back of counts and digests.
        grid: workgroups of the sparse kernels (default: 16 on a CPU adapter, 1024 on a GPU).

    Raises:
        GpuUnavailable: wgpu-py or an adapter missing, or a buffer above the adapter's limits.
    """

    backend = "wgpu"
    modes = ("fixed", "float")
    #: the next batch's stimulus is written while the current one runs: queue writes execute in
    #: queue order, after the submitted batch that still reads the previous stimulus
    prefetch = True
    #: a batch with a large stimulus runs as chained parts of 1, 2, 4, … bursts: each part's
    #: stimulus is copied (host memcpy into wgpu's staging) while the previous part runs
    chain = True

    def __init__(self, model, mode: str = "fixed", *, batch: int = 64, grid: int | None = None,
                 part_words: int | None = None, submit_bursts: int = 16, fused: bool | None = None,
                 fuse_cap: int | None = None):
        self._fused_arg = fused
        self._fuse_cap = fuse_cap
        #: most bursts per queue submission within a batch (:meth:`_launch`)
        self.submit_bursts = max(1, int(submit_bursts))
        self._grid = grid
        self._part_words = part_words
        super().__init__(model, mode, batch=batch)

    def _split_plan(self, arrays, maxbind: int) -> tuple:
        """``(name, parts, part_words)`` of each per-synapse array above the binding limit
        (``part_words``: the constructor's, for tests, else the limit's 4-byte words).

        Raises:
            GpuUnavailable: an array needs more than :data:`MAX_PARTS` parts.
        """
        words = self._part_words or (maxbind // 4) // 64 * 64
        plan = []
        for name in SPLITTABLE:
            n = int(np.asarray(arrays[name]).size)
            if 4 * n > min(maxbind, 4 * words):
                parts = -(-n // words)
                if parts > MAX_PARTS:
                    raise GpuUnavailable(f"{name}: {4 * n:,} bytes need {parts} bindings of "
                                         f"{4 * words:,} bytes (at most {MAX_PARTS})")
                plan.append((name, parts, words))
        return tuple(plan)

    def _alloc(self, arrays):
        import wgpu

        self._wgpu = wgpu
        floating = self.mode == "float"
        dev, adapter, _ = _device_and_pipelines()
        self._dev = dev
        if self._grid is None:
            self._grid = 16 if adapter.info["adapter_type"] == "CPU" else 1024
        m = self.model
        n = m.n_neurons
        words = (n + 31) // 32
        self._words = words
        self._nblk = max(1, (words + WG - 1) // WG)
        zeros_i = lambda k: np.zeros(k, np.int32)  # noqa: E731
        arrays.update(
            ctl=initial_ctl(), V=zeros_i(n), cd=zeros_i(n), cc=zeros_i(n),
            acc=zeros_i(n), flag=zeros_i(n), vfire=zeros_i(n), cand=zeros_i(2 * n),
            refl=zeros_i(2 * n), fq=zeros_i(n), fqv=zeros_i(n),
            nat=zeros_i(words), frc=zeros_i(words), fqbits=zeros_i(words),
            blk=zeros_i(2 * self._nblk), out_ids=zeros_i(self._out_cap),
            out_v=zeros_i(self._out_cap), out_sums=zeros_i(2 * self.batch), crctab=self._tables,
            stim=np.zeros(64, np.uint32))
        if floating and adapter.info["adapter_type"] != "CPU" and m.has_runtime_psp:
            import warnings

            warnings.warn(
                "WGPU precision 'float' on a GPU adapter: this model computes run-time PSP "
                "contributions (mp-driven or degenerating sources); on NVIDIA's Vulkan driver they "
                "differed from the numba f32 twin by 1 ulp in tests (WGSL does not promise IEEE "
                "f32 division or unfused products); use the CUDA or numba twin for bit-exact f32",
                RuntimeWarning, stacklevel=3)
        if floating:
            inc = incoming(m)
            if m.n_synapses >= 2**32:
                raise GpuUnavailable("the WGPU f32 gather indexes synapses in 32 bits")
            inc["in_ptr"] = inc["in_ptr"].astype(np.uint32)
            arrays.update(inc)
        else:
            arrays.update(in_ptr=zeros_i(1), in_src=zeros_i(1), in_c=zeros_i(1), in_w=zeros_i(1))
        lim = dev.limits
        maxbind = lim["max-storage-buffer-binding-size"]
        usage = wgpu.BufferUsage.STORAGE | wgpu.BufferUsage.COPY_SRC | wgpu.BufferUsage.COPY_DST
        self._buf = {}
        #: per-synapse arrays above the binding limit go to the device in parts (split_source)
        self.split = self._split_plan(arrays, maxbind)
        self._pipes = _device_and_pipelines(fp32=floating, split=self.split)[2]
        for name, parts, words in self.split:
            data = np.ascontiguousarray(arrays.pop(name))
            for j in range(parts):
                self._buf[f"{name}#{j}"] = self._make(data[j * words:(j + 1) * words], usage)
        for name, arr in arrays.items():
            data = np.ascontiguousarray(arr)
            if data.nbytes > maxbind:
                raise GpuUnavailable(f"{name}: {data.nbytes:,} bytes exceed the adapter's storage "
                                     f"binding limit {maxbind:,}")
            self._buf[name] = self._make(data, usage)
        self._prm_rec = {}
        for rec in (False, True):
            self._prm_rec[rec] = dev.create_buffer_with_data(
                data=self._prm_data(prm_words(m, rec, floating), adapter),
                usage=wgpu.BufferUsage.UNIFORM | wgpu.BufferUsage.COPY_DST)
        self._stim_cap = 64  # u32 words
        #: kernels of one burst and their workgroup counts
        self._plan = [("k_in", self._grid)] + ([("k_gather", self._grid)] if floating else []) + [
            ("k_dyn", self._grid), ("k_scan3", self._nblk)]
        #: compute dispatches and queue submissions so far (bursts, digests)
        self.dispatches = 0
        self.submits = 0
        self._bind()
        #: ``True``/``False``: the bursts run fused (one dispatch of ``k_fused`` per submission)
        #: or not; ``None``: chosen per batch from the previous batch's activity
        self.fused = self._use_fused()
        #: launches that ran fused so far
        self.fused_launches = 0
        self._busy = 0  # work of the busiest burst of the last batch read back
        self._stim_busy = 0  # most stimulus entries per burst of the last upload
        self._fanout = m.n_synapses / max(1, n)

    def _prm_data(self, words: np.ndarray, adapter) -> bytes:
        """The Prm block with ``fuse_cap`` (word 10): the most bursts per fused dispatch, 0 for
        no limit (GPU adapters). On a CPU adapter: :data:`CPU_LOOP_BUDGET` over an upper bound
        of one burst's loop iterations per invocation (lists and dense passes over n / 256,
        propagation over S / (8 · 32) rows, the scan's blocks with their bit and CRC loops)."""
        m = self.model
        cap = self._fuse_cap
        if cap is None:
            cap = 0
            if adapter.info["adapter_type"] == "CPU":
                per_burst = m.n_neurons // 32 + m.n_synapses // 128 + 96 * self._nblk + 512
                cap = max(1, CPU_LOOP_BUDGET // per_burst)
        #: most bursts per fused dispatch (0: no limit)
        self.fuse_cap = int(cap)
        w = words.copy()
        w[10] = self.fuse_cap
        return w.tobytes()

    def _make(self, data: np.ndarray, usage):
        if data.nbytes < 16:  # WebGPU bindings must not be empty
            data = np.concatenate([data.view(np.uint8), np.zeros(16 - data.nbytes, np.uint8)])
        return self._dev.create_buffer_with_data(data=memoryview(data).cast("B"), usage=usage)

    def _bind(self):
        """Bind groups per kernel and recording mode (recreated when a buffer is replaced); one
        per recording mode when the kernels share a layout."""
        self._groups = {}
        made = {}
        for rec in (False, True):
            for name, (pipe, bgl, names) in self._pipes.items():
                key = (rec, id(bgl))
                if key not in made:
                    entries = []
                    for b, bn in names:
                        buf = self._prm_rec[rec] if bn == "prm" else self._buf[bn]
                        entries.append({"binding": b, "resource": {"buffer": buf, "offset": 0,
                                                                   "size": buf.size}})
                    made[key] = self._dev.create_bind_group(layout=bgl, entries=entries)
                self._groups[rec, name] = made[key]
        #: all kernels share one bind group (bound once per compute pass)
        self.shared_group = len(made) == 2

    def _set_stim(self, head, entries):
        size = head.size + entries.size
        if size > self._stim_cap:
            wgpu = self._wgpu
            self._stim_cap = max(size, 2 * self._stim_cap)
            usage = wgpu.BufferUsage.STORAGE | wgpu.BufferUsage.COPY_DST
            self._buf["stim"] = self._dev.create_buffer(size=4 * self._stim_cap, usage=usage)
            self._bind()
        ptrs = head[1:]
        self._stim_busy = int(np.diff(ptrs).max()) if ptrs.size > 1 else 0
        q = self._dev.queue
        q.write_buffer(self._buf["stim"], 0, head)
        if entries.size:
            q.write_buffer(self._buf["stim"], 4 * head.size, np.ascontiguousarray(entries))

    def _use_fused(self) -> bool | None:
        """The ``fused`` argument or its default (see the class docstring: ``None`` = chosen per
        batch); only where the kernels share one bind group, in fixed point, without split
        arrays.

        Raises:
            GpuUnavailable: ``fused=True`` where the fused kernel cannot run.
        """
        can = "k_fused" in self._pipes and self.shared_group and not self.split
        want = self._fused_arg
        if want is None:
            env = os.environ.get("FEAGI_EMBED_WGPU_FUSED")
            m = self.model
            if env in ("0", "1"):
                return env == "1" and can
            small = m.n_neurons <= FUSED_MAX_NEURONS and m.n_synapses <= FUSED_MAX_SYNAPSES
            return None if small and can else False
        if want and not can:
            raise GpuUnavailable("the fused WGPU path needs fixed point, one bind group for all "
                                 "kernels (the adapter's storage buffer limit) and unsplit arrays")
        return bool(want)

    def _launch(self, step, record, begin=True):
        """Encode and submit ``step`` bursts (3 dispatches each: k_in, k_dyn, k_scan3; k_gather
        too in ``"float"``), one command encoder and one compute pass per submission. The batch is
        submitted in chunks of 2, 4, … up to :attr:`submit_bursts` bursts, so that the device
        runs the first bursts while the host encodes the rest (one read-back per batch)."""
        fused = self.fused
        if fused is None:
            fused = self._busy + self._stim_busy <= FUSED_MAX_WORK
        if fused:  # each dispatch runs fuse_cap of the step bursts (the stimulus header's count)
            cap = self.fuse_cap or step
            self._encode_submit(-(-step // cap), record, begin, fused=True)
            self.fused_launches += 1
            return
        chunk, done = min(2, step), 0
        while done < step:
            k = min(chunk, step - done)
            self._encode_submit(k, record, begin and done == 0)
            done += k
            chunk = min(2 * chunk, self.submit_bursts)

    def _encode_submit(self, step, record, begin, fused=False):
        enc = self._dev.create_command_encoder()
        cp = enc.begin_compute_pass()
        set_pipeline, set_group = cp.set_pipeline, cp.set_bind_group
        dispatch = cp.dispatch_workgroups
        shared = self.shared_group
        if shared:
            set_group(0, self._groups[record, "k_in"])
        if begin:
            set_pipeline(self._pipes["k_begin"][0])
            if not shared:
                set_group(0, self._groups[record, "k_begin"])
            dispatch(1)
        plan = [(self._pipes[name][0], self._groups[record, name], wgs)
                for name, wgs in (self._plan if not fused else [("k_fused", 1)])]
        for _ in range(step):
            for pipe, group, wgs in plan:
                set_pipeline(pipe)
                if not shared:
                    set_group(0, group)
                dispatch(wgs)
        cp.end()
        self._dev.queue.submit([enc.finish()])
        self.dispatches += (1 if begin else 0) + step * len(plan)
        self.submits += 1

    def _read(self, name, dtype, count, offset=0):
        if count == 0:
            return np.zeros(0, dtype)
        mv = self._dev.queue.read_buffer(self._buf[name], 4 * offset, 4 * count)
        return np.frombuffer(mv, dtype).copy()

    def _read_out(self, step, record):
        sums = self._read("out_sums", np.uint32, 2 * step).reshape(step, 2)
        counts, crcs = sums[:, 0], sums[:, 1]
        peak = int(counts.max()) if step else 0
        self._busy = peak * (1.0 + self._fanout)
        if not record:
            return counts, crcs, None, None
        total = int(counts.sum(dtype=np.int64))
        return counts, crcs, self._read("out_ids", np.uint32, total), self._read("out_v", np.int32, total)

    def _state_crc(self):
        q = self._dev.queue
        q.write_buffer(self._buf["ctl"], 4 * C_SCRC, np.zeros(1, np.uint32).tobytes())
        enc = self._dev.create_command_encoder()
        cp = enc.begin_compute_pass()
        cp.set_pipeline(self._pipes["k_state"][0])
        cp.set_bind_group(0, self._groups[False, "k_state"])
        n = self.model.n_neurons
        cp.dispatch_workgroups(max(1, -(-(-(-n // 64)) // WG)))
        cp.end()
        q.submit([enc.finish()])
        self.dispatches += 1
        self.submits += 1
        return int(self._read("ctl", np.uint32, 1, C_SCRC)[0])

    def _read_state(self):
        n = self.model.n_neurons
        return (self._read("V", np.int32, n), self._read("cd", np.uint32, n).astype(np.uint16),
                self._read("cc", np.uint32, n).astype(np.uint16))


__all__ = ["WgpuTwin", "available", "wgsl_sources"]
