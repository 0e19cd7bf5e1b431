"""The GPU twins (WGPU, CUDA) produce the numba twin's trace bit for bit.

Independent expectation: the numba twin (itself checked against the FEAGI engine in
test_oracle_traces.py) — fired ids, V at fire, burst CRC-32s (zlib) and state CRC-32s, on every
bundled genome under its recorded force-fire schedule plus injections, every conformance
micro-genome, and random synthetic models that exercise every rule. WGPU runs anywhere wgpu-py finds
an adapter (CI: Mesa lavapipe on the CPU); it skips when absent unless FEAGI_EMBED_REQUIRE_TOOLS=1.
CUDA runs where cupy finds a GPU; without one it skips unless FEAGI_EMBED_REQUIRE_CUDA=1 (set on the
GPU machine). The CUDA kernels are compile-checked with nvcc or NVRTC without a GPU.

CUDA runs twice: backend ``cuda`` forces the grid kernels (``k_in``, ``k_dyn``, ``k_scan3`` per
burst, ``CudaTwin(fused=False)``), ``cuda-fused`` the fused single-block kernel (``k_fused``, every
burst of a batch in one launch); both against the numba twin.
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from functools import lru_cache

import numpy as np
import pytest
from click.testing import CliRunner

from feagi_embed.cli import main
from feagi_embed.connectome import develop
from feagi_embed.genome import load_genome
from feagi_embed.host.gpu import backends
from feagi_embed.host.gpu.common import GpuUnavailable, crc_shift, crc_tables, raw_crc
from feagi_embed.host.twin import Twin, burst_digest
from feagi_embed.quantize import quantize
from feagi_embed.stimulus import Stimulus

from .conftest import FIXTURES, GENOMES, REQUIRE, require
from .gpu_models import random_model, random_stimulus

REQUIRE_CUDA = os.environ.get("FEAGI_EMBED_REQUIRE_CUDA") == "1"
BACKENDS = ["wgpu", "cuda", "cuda-fused"]
TRACES = sorted((FIXTURES / "traces").glob("*.json.gz"))
CONFORMANCE = sorted((FIXTURES / "conformance").glob("*.json.gz"))


@lru_cache(maxsize=None)
def cuda_variant(fused: bool):
    """``CudaTwin`` with the fused single-block path forced on (``cuda-fused``) or off
    (``cuda``: the grid kernels), as a subclass (tests set class attributes on it)."""
    from feagi_embed.host.gpu.cuda import CudaTwin

    return type("CudaFusedTwin" if fused else "CudaGridTwin", (CudaTwin,), {"fuse": fused})


def fused_fits(model) -> bool:
    """Whether the fused CUDA path can hold ``model`` (fixed point)."""
    from feagi_embed.host.gpu.cuda import fused_eligible

    return fused_eligible(model)[0]


def twin_class(backend: str):
    """The backend's twin class, or skip (fail where the backend is required). ``cuda`` is the
    CUDA twin on its grid kernels, ``cuda-fused`` on the fused single-block kernel."""
    name = "cuda" if backend.startswith("cuda") else backend
    ok, why = backends.available(name)
    if ok:
        if name == "cuda":
            return cuda_variant(backend == "cuda-fused")
        return backends.twin_class(name)
    required = REQUIRE_CUDA if name == "cuda" else (
        REQUIRE or os.environ.get("FEAGI_EMBED_REQUIRE_WGPU") == "1")
    msg = f"{name} backend unavailable: {why}"
    if required:
        pytest.fail(msg)
    pytest.skip(msg)


def assert_same_trace(ref, got, what: str) -> None:
    assert got.bursts == ref.bursts, what
    for i, (a, b) in enumerate(zip(ref.fired, got.fired)):
        assert np.array_equal(a, b), (
            f"{what}: burst {i + 1} fired ids differ: numba-only "
            f"{sorted(set(a.tolist()) - set(b.tolist()))[:5]}, gpu-only "
            f"{sorted(set(b.tolist()) - set(a.tolist()))[:5]}")
        assert np.array_equal(ref.fired_v[i], got.fired_v[i]), f"{what}: burst {i + 1} V at fire"
    first = next((i + 1 for i, (x, y) in enumerate(zip(ref.burst_crc, got.burst_crc)) if x != y), None)
    assert first is None, f"{what}: burst digest differs first at burst {first}"
    assert got.state_crc == ref.state_crc, f"{what}: state digests differ"


@lru_cache(maxsize=None)
def fixture(path) -> dict:
    with gzip.open(path, "rt") as f:
        return json.load(f)


@lru_cache(maxsize=None)
def fixture_model(path):
    fx = fixture(path)
    if "genome_file" in fx:
        g = load_genome(GENOMES / fx["genome_file"])
    else:
        g = load_genome(fx["genome"], name=fx["name"])
    return quantize(develop(g))


def with_injections(model, stim_doc: dict, bursts: int, seed: int = 7) -> Stimulus:
    """The recorded force-fire schedule plus seeded injections (values −2…20) into random voxels
    of every non-core area, every 2nd burst."""
    rng = np.random.default_rng(seed)
    entries = list(stim_doc["stimuli"])
    for a, kind in enumerate(model.areas.kinds):
        if kind == "core":
            continue
        w, h, d = model.areas.dims[a]
        for b in range(1, bursts + 1, 2):
            k = min(3, w * h * d)
            vox = [[int(rng.integers(w)), int(rng.integers(h)), int(rng.integers(d))] for _ in range(k)]
            entries.append({"bursts": [b, b], "area": model.areas.genome_ids[a], "voxels": vox,
                            "kind": "inject", "value": float(np.round(rng.uniform(-2, 20), 2))})
    return Stimulus.from_json({"stimuli": entries}, "<test>")


@lru_cache(maxsize=None)
def genome_reference(path):
    """The genome case's stimulus (recorded schedule + injections) and numba trace (cached: the
    same for every backend)."""
    fx = fixture(path)
    model = fixture_model(path)
    stim = with_injections(model, fx["stimulus"], fx["bursts_recorded"])
    return stim, Twin(model).run(fx["bursts_recorded"], stim, state_every=10)


@lru_cache(maxsize=None)
def conformance_reference(path):
    """The conformance case's stimulus and numba trace (cached, as :func:`genome_reference`)."""
    fx = fixture(path)
    stim = Stimulus.from_json(fx["stimulus"], fx["name"])
    return stim, Twin(fixture_model(path)).run(fx["bursts_recorded"], stim, state_every=1)


# ----------------------------------------------------------------------------- no GPU needed
def test_crc_shift_tables_reproduce_zlib():
    """The GF(2) shift matrices the kernels use: crc32(M) = L(M) ^ shift(~0, |M|) ^ ~0 and
    L(A || B) = shift(L(A), |B|) ^ L(B), checked against zlib on random messages."""
    t = crc_tables()
    assert [int(x) for x in t[:256]] == [raw_crc(bytes([i])) for i in range(256)]
    rng = np.random.default_rng(1)
    for size_a, size_b in [(0, 5), (7, 0), (13, 1000), (4096, 3), (1, 65537)]:
        a = rng.integers(0, 256, size_a, dtype=np.uint8).tobytes()
        b = rng.integers(0, 256, size_b, dtype=np.uint8).tobytes()
        m = a + b
        assert raw_crc(m) == crc_shift(t, raw_crc(a), len(b)) ^ raw_crc(b)
        assert zlib.crc32(m) == raw_crc(m) ^ crc_shift(t, 0xFFFFFFFF, len(m)) ^ 0xFFFFFFFF


def test_cuda_kernels_compile():
    """kernels.cu compiles to PTX for sm_90 (nvcc, or NVRTC from the nvidia-cuda-nvrtc wheel;
    neither needs a GPU)."""
    from feagi_embed.host.gpu import cuda
    from feagi_embed.host.gpu.cuda import compile_check

    try:
        tool, ptx = compile_check()
    except GpuUnavailable as e:
        require(str(e), "CUDA compile check")
    for k in cuda.KERNELS:
        assert f".entry {k}(" in ptx, (tool, k)


def test_fused_kernel_fits_one_block_and_static_shared_memory():
    """k_fused compiles (nvcc or NVRTC, no GPU needed) for one block of 1,024 threads, its static
    shared memory (5 neuron bitmaps + CRC table + scan words) within the 48 KiB a kernel may
    declare statically, and the host's limits are the kernel's (FUSED_T, 32 * FUSED_WORDS)."""
    import re

    from feagi_embed.host.gpu import cuda
    from feagi_embed.host.gpu.cuda import compile_check

    src = cuda.cuda_source()
    const = dict(re.findall(r"^#define (FUSED_T|FUSED_WORDS) (\d+)$", src, re.M))
    assert int(const["FUSED_T"]) == cuda.FUSED_THREADS
    assert 32 * int(const["FUSED_WORDS"]) == cuda.FUSED_MAX_NEURONS
    try:
        tool, ptx = compile_check()
    except GpuUnavailable as e:
        require(str(e), "CUDA compile check")
    body = ptx[ptx.index(".entry k_fused("):]
    assert re.match(r"[^{]*\.maxntid 1024, 1, 1", body, re.S), tool
    size = 0
    decl = r"^\s*\.shared \.align \d+ \.(\w+) _ZZ7k_fusedE\w+(?:\[(\d+)\])?;"
    for kind, count in re.findall(decl, ptx, re.M):
        size += int(count) * (1 if kind == "b8" else 4) if count else 4
    bitmaps = 5 * 4 * cuda.FUSED_MAX_NEURONS // 32
    assert bitmaps < size <= 48 * 1024, (tool, size)
    assert "bar.sync" in body and "atom.shared.or" in body


def test_fused_selection_rule():
    """Automatic choice: fixed point, <= 65,536 neurons, <= 2^21 synapses; fused=True refused
    (ValueError, before any device work) where the fused path cannot run."""
    from types import SimpleNamespace

    from feagi_embed.host.gpu import cuda

    def m(n, s):
        return SimpleNamespace(n_neurons=n, n_synapses=s)

    assert cuda.fused_eligible(m(65_536, 10**9)) == (True, "")
    assert not cuda.fused_eligible(m(65_537, 10))[0]
    assert not cuda.fused_eligible(m(100, 10), "float")[0]
    lim = cuda.FUSED_AUTO_MAX_SYNAPSES
    assert cuda.fused_auto(m(65_536, lim)) and not cuda.fused_auto(m(65_536, lim + 1))
    assert not cuda.fused_auto(m(65_537, 10)) and not cuda.fused_auto(m(50, 10), "float")
    with pytest.raises(ValueError, match="65537 neurons"):
        cuda.CudaTwin(m(65_537, 10), fused=True)
    with pytest.raises(ValueError, match="fixed point only"):
        cuda.CudaTwin(random_model(50, 2), "float", fused=True)


def test_unknown_backend_and_float_mode_are_refused():
    with pytest.raises(ValueError):
        backends.twin_class("opencl")
    from feagi_embed.host.gpu.common import GpuTwin

    with pytest.raises(ValueError):
        GpuTwin(random_model(50, 2), "float")


# ----------------------------------------------------------------------------- traces
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("path", TRACES, ids=lambda p: p.name.split(".")[0])
def test_genome_trace_equals_numba(backend, path):
    cls = twin_class(backend)
    fx = fixture(path)
    model = fixture_model(path)
    if backend == "cuda-fused" and not fused_fits(model):
        with pytest.raises(ValueError, match="fused path"):  # forced on a model it cannot hold
            cls(model)
        return
    bursts = fx["bursts_recorded"]
    stim, ref = genome_reference(path)
    assert sum(len(f) for f in ref.fired) > 0
    assert_same_trace(ref, cls(model, batch=32).run(bursts, stim, state_every=10), fx["name"])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("path", CONFORMANCE, ids=lambda p: p.name.split(".")[0])
def test_conformance_case_equals_numba(backend, path):
    cls = twin_class(backend)
    fx = fixture(path)
    model = fixture_model(path)
    bursts = fx["bursts_recorded"]
    stim, ref = conformance_reference(path)
    assert_same_trace(ref, cls(model, batch=7).run(bursts, stim, state_every=1), fx["name"])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("seed,large,fanout", [(0, False, 24), (1, True, 24), (2, False, 24),
                                               (3, False, 1), (4, True, 1)])
def test_random_model_equals_numba(backend, seed, large, fanout):
    """~4 k neurons, every rule drawn at random: ~100 k synapses and ~20 % of the neurons firing
    (candidates above n/8: the dense path of k_dyn; in a large brain, no FCL list at all), or
    fan-out ~1 (the sparse lists)."""
    cls = twin_class(backend)
    m = random_model(4000, fanout, seed=seed, large_brain=large)
    stim = random_stimulus(m, 60, seed=seed, per_burst=20 if fanout > 1 else 4)
    ref = Twin(m).run(60, stim, state_every=6)
    assert np.mean([len(f) for f in ref.fired]) > (100 if fanout > 1 else 2)
    assert_same_trace(ref, cls(m).run(60, stim, state_every=6), f"random seed {seed}")


@pytest.mark.parametrize("backend", BACKENDS)
def test_synthetic_bench_model_equals_numba(backend):
    """bench/bench_twin.py's synthetic model (uniform fan-out 100, force-fired activity) at 20 k
    neurons / 2 M synapses and 10 % activity, with the large-brain reset path."""
    cls = twin_class(backend)
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "bench_twin", Path(__file__).resolve().parent.parent / "bench" / "bench_twin.py")
    bt = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bt)
    m = bt.synthetic_model(20_000, 100, seed=3)
    m = m.evolve(large_brain=True)
    area = len(m.areas.ids) - 1
    rng = np.random.default_rng(5)
    w = m.areas.dims[area]
    entries = []
    for b in range(1, 13):
        v = rng.choice(20_000, size=2000, replace=False)
        vox = np.stack([v // (w[1] * w[2]), (v // w[2]) % w[1], v % w[2]], axis=1)
        entries.append({"bursts": [b, b], "area": m.areas.genome_ids[area],
                        "voxels": vox.tolist(), "kind": "force"})
        entries.append({"bursts": [b, b], "area": m.areas.genome_ids[area],
                        "voxels": vox[:300].tolist(), "kind": "inject", "value": 1.5})
    stim = Stimulus.from_json({"stimuli": entries})
    ref = Twin(m).run(12, stim, state_every=4)
    assert_same_trace(ref, cls(m).run(12, stim, state_every=4), "synthetic")


@pytest.mark.parametrize("backend", BACKENDS)
def test_chunking_batching_watch_and_digest_only_runs(backend):
    """Chunked runs continue the state; batch size, watch and record=False change nothing."""
    cls = twin_class(backend)
    m = random_model(1500, 12, seed=4)
    stim = random_stimulus(m, 40, seed=4)
    ref = Twin(m).run(40, stim, state_every=7)
    one = cls(m, batch=1).run(40, stim, state_every=7)
    assert_same_trace(ref, one, "batch 1")
    split = cls(m, batch=16)
    a = split.run(13, stim, state_every=7)
    b = split.run(27, stim, state_every=7)
    assert a.burst_crc + b.burst_crc == ref.burst_crc
    tn = Twin(m)
    ra, rb = tn.run(13, stim, state_every=7), tn.run(27, stim, state_every=7)
    assert (a.state_crc, b.state_crc) == (ra.state_crc, rb.state_crc)
    assert split.state_digest() == ref.state_crc[40]
    fast = cls(m).run(40, stim, state_every=7, record=False)
    assert fast.burst_crc == ref.burst_crc and fast.state_crc == ref.state_crc
    assert fast.fired == []
    watch = np.array([7, 100, 900, 1400])
    tw = Twin(m)
    rw = tw.run(10, stim, watch=watch)
    gw = cls(m).run(10, stim, watch=watch)
    assert all(np.array_equal(x, y) for x, y in zip(rw.watch, gw.watch))
    g = cls(m)
    g.run(10, stim)
    assert np.array_equal(g.V, tw.V) and np.array_equal(g.cd, tw.cd) and np.array_equal(g.cc, tw.cc)
    assert all(burst_digest(i + 1, ids) == c for i, (ids, c) in enumerate(zip(gw.fired, gw.burst_crc)))


# ----------------------------------------------------------------------------- CLI
@pytest.mark.parametrize("backend", ["wgpu", "cuda"])
def test_cli_run_backend_prints_the_numba_digests(backend):
    twin_class(backend)
    r = CliRunner()
    ref = r.invoke(main, ["run", "test_timer", "-n", "30", "--json"])
    got = r.invoke(main, ["run", "test_timer", "-n", "30", "--json", "--backend", backend])
    assert ref.exit_code == 0 and got.exit_code == 0, got.output
    a, b = json.loads(ref.output), json.loads(got.output)
    assert a["final_digest"] == b["final_digest"] and a["state_digests"] == b["state_digests"]


def test_cli_run_unavailable_backend_is_a_clean_error(monkeypatch):
    monkeypatch.setattr(backends, "available", lambda name: (False, "no device here"))
    r = CliRunner().invoke(main, ["run", "test_timer", "-n", "5", "--backend", "cuda"])
    assert r.exit_code == 2 and "no device here" in r.output and "Traceback" not in r.output


def test_verify_rows_for_gpu_twins():
    """`verify` compares each available GPU twin with the numba twin digest for digest (and says
    why one did not run); a wrong reference is reported at its first burst."""
    from feagi_embed.executors import GpuTwin, NumbaTwin
    from feagi_embed.verify import verify

    m = random_model(600, 6, seed=9)
    stim = random_stimulus(m, 30, seed=9, per_burst=5)
    gpus = [GpuTwin("cuda"), GpuTwin("wgpu")]
    rows = {r["name"]: r for r in verify(m, gpus, stim, 30, state_every=10)[1:]}
    assert set(rows) == {"twin (cuda, fixed point)", "twin (wgpu, fixed point)"}
    for name in ("cuda", "wgpu"):
        r = rows[f"twin ({name}, fixed point)"]
        if backends.available(name)[0]:
            assert r["equal"] is True and r["bursts"] == 30, r
        else:
            assert r["equal"] is None and r["detail"].startswith("not run"), r
    if backends.available("wgpu")[0]:
        class WrongReference(NumbaTwin):
            def run(self, *args, **kw):
                tr = super().run(*args, **kw)
                tr.burst_crc[11] ^= 1
                return tr

        bad = verify(m, gpus[1:], stim, 30, state_every=10, reference=WrongReference())[1]
        assert bad["equal"] is False
        assert (bad["first_divergence"]["burst"], bad["first_divergence"]["what"]) == \
            (12, "burst digest")


@pytest.mark.parametrize("backend", BACKENDS)
def test_chained_parts_equal_the_numba_trace(backend, monkeypatch):
    """A batch run as chained parts of 1, 2, 4, … bursts (each part's stimulus uploaded while the
    previous part runs, one read-back per batch) gives the same trace, recorded or not."""
    cls = twin_class(backend)
    from feagi_embed.host.gpu import common

    monkeypatch.setattr(common, "CHAIN_WORDS", 0)
    monkeypatch.setattr(cls, "chain", True)
    assert common.chain_parts(np.arange(0, 200, 5), 3, 20) == [1, 2, 4, 8, 5]
    m = random_model(1500, 12, seed=4)
    stim = random_stimulus(m, 40, seed=4)
    ref = Twin(m).run(40, stim, state_every=20)
    assert_same_trace(ref, cls(m, batch=20).run(40, stim, state_every=20), "chained")
    fast = cls(m, batch=32).run(40, stim, record=False)
    assert fast.burst_crc == ref.burst_crc and fast.state_crc[40] == ref.state_crc[40]


@pytest.mark.parametrize("mode", ["fixed", "float"])
def test_wgpu_split_synapse_buffers_equal_the_numba_trace(mode, request):
    """Per-synapse arrays split over several bindings (here parts of 10,007 synapses, as a model
    above the adapter's 2 GiB-class binding limit would be) give the same trace. In f32 on a GPU
    adapter this model's run-time PSPs are not promised bit-exact (docs/gpu.md; 1-ulp state
    differences on NVIDIA's Vulkan driver, device run 9): a non-strict xfail there, strict on
    lavapipe (CI)."""
    cls = twin_class("wgpu")
    from .gpu_models import with_f32

    m = with_f32(random_model(1500, 12, seed=4))
    if mode == "float" and m.has_runtime_psp and "CPU" not in backends.available("wgpu")[1]:
        request.applymarker(pytest.mark.xfail(
            reason="WGSL f32 division / contraction on a GPU adapter (docs/gpu.md)", strict=False))
    stim = random_stimulus(m, 20, seed=4)
    ref = Twin(m, mode, threads=1).run(20, stim, state_every=10)
    tw = cls(m, mode, part_words=10_007)
    parts = dict((name, k) for name, k, _ in tw.split)
    assert parts["syn_dst"] == -(-m.n_synapses // 10_007) >= 2
    if mode == "float":
        assert parts["in_src"] >= 2 and "syn_c" not in parts  # f32 reads in_c, not syn_c
    got = tw.run(20, stim, state_every=10)
    assert got.burst_crc == ref.burst_crc and got.state_crc == ref.state_crc
    assert all(np.array_equal(a, b) for a, b in zip(ref.fired, got.fired))


@pytest.mark.parametrize("backend", ["cuda", "cuda-fused"])
@pytest.mark.parametrize("large", [False, True])
def test_cuda_step_and_batched_runs_interleaved(backend, large):
    """run(), step() and run() again on one twin (launches of different shapes continue the same
    device state: the fused path's bitmaps persist between launches) equal the numba twin doing
    the same calls; fired ids, V at fire, burst and state digests."""
    cls = twin_class(backend)
    m = random_model(3000, 16, seed=11, large_brain=large)
    stim = random_stimulus(m, 40, seed=11, per_burst=12)
    ptr, nrn, val, kind = stim.compile(m, 40)
    ref, got = Twin(m), cls(m, batch=8)
    got.mapped_step = True  # step() between runs through the mapped graph (the default; the
    # staged path is test_cuda_step_inputs_grow_and_record_off's)
    assert got.fused == (backend == "cuda-fused")
    assert_same_trace(ref.run(9, stim, state_every=3), got.run(9, stim, state_every=3), "run 1")
    for b in range(9, 17):
        sl = slice(ptr[b], ptr[b + 1])
        a = ref.step(nrn[sl], val[sl], kind[sl], digest=True, state=b % 3 == 0)
        g = got.step(nrn[sl], val[sl], kind[sl], state=b % 3 == 0)
        assert (g.burst, g.burst_crc, g.state_crc) == (a.burst, a.burst_crc, a.state_crc), b
        assert np.array_equal(g.fired, a.fired) and np.array_equal(g.fired_v, a.fired_v), b
    assert_same_trace(ref.run(24, stim, state_every=5), got.run(24, stim, state_every=5), "run 2")
    assert np.array_equal(got.V, ref.V) and np.array_equal(got.cd, ref.cd)


@pytest.mark.parametrize("mapped", [False, True])
@pytest.mark.parametrize("backend", ["cuda", "cuda-fused"])
def test_cuda_step_inputs_grow_and_record_off(backend, mapped):
    """CUDA step() (staged copies, or with ``mapped_step`` one graph over page-locked I/O) with
    inputs that outgrow the mapped input buffer (1,024 words at first: 5, 700, 3,000, 2
    entries), record=False between recorded steps, and a state digest: the numba twin's bursts,
    fired ids and V at fire."""
    cls = twin_class(backend)
    m = random_model(4000, 12, seed=5)
    rng = np.random.default_rng(5)
    ref, got = Twin(m), cls(m)
    got.mapped_step = mapped
    for b, e in enumerate([5, 700, 3000, 2, 700, 40]):
        ids = rng.choice(m.n_neurons, e, replace=False).astype(np.uint32)
        vals = rng.integers(0, 3 * 65536, e).astype(np.int32)
        kinds = (rng.random(e) < 0.3).astype(np.uint8)
        record = b != 3
        a = ref.step(ids, vals, kinds, digest=True)
        g = got.step(ids, vals, kinds, record=record, state=b == 5)
        assert (g.burst, g.burst_crc) == (a.burst, a.burst_crc), b
        if record:
            assert len(a.fired) and np.array_equal(g.fired, a.fired), b
            assert np.array_equal(g.fired_v, a.fired_v), b
        else:
            assert len(g.fired) == 0
    assert g.state_crc == ref.state_digest()


def test_cuda_fused_is_the_default_for_small_genomes_and_profiles_one_kernel():
    """CudaTwin picks the fused path by itself on a bundled genome (fixed point) and the grid
    kernels in precision "float"; with profile=True the fused twin times one kernel, k_fused."""
    twin_class("cuda")
    from feagi_embed.host.gpu.cuda import CudaTwin

    from .gpu_models import with_f32

    path = next(p for p in TRACES if p.name.startswith("essential_genome."))
    model = fixture_model(path)
    assert CudaTwin(model).fused
    assert not CudaTwin(with_f32(random_model(300, 4)), "float").fused
    stim, ref = genome_reference(path)
    tw = CudaTwin(model, profile=True)
    tr = tw.run(ref.bursts, stim, state_every=10)
    assert tr.burst_crc == ref.burst_crc and tr.state_crc == ref.state_crc
    assert set(tw.kernel_s) == {"k_fused"} and tw.kernel_s["k_fused"] > 0


@pytest.mark.parametrize("backend", ["cuda", "cuda-fused"])
def test_cuda_at_the_fused_neuron_limit_equals_numba(backend):
    """65,536 neurons (2,048 bitmap words: two per thread of the fused block, the largest model
    it holds), every rule drawn at random."""
    cls = twin_class(backend)
    m = random_model(65_529, 3, areas=3, seed=6)
    assert m.n_neurons == 65_536
    stim = random_stimulus(m, 30, seed=6, per_burst=400)
    ref = Twin(m).run(30, stim, state_every=10)
    assert np.mean([len(f) for f in ref.fired]) > 50
    assert_same_trace(ref, cls(m).run(30, stim, state_every=10), "65,536 neurons")

# ----------------------------------------------------------------------------- WGPU dispatch paths
def test_wgpu_kernels_share_one_binding_layout_or_none():
    """shared_sources: a binding any kernel writes is declared read_write in every kernel that
    binds it (one bind group layout fits all); above the storage-buffer limit: None. fused_body
    merges the phases' declarations, one per binding. (WGSL text only, no adapter.)"""
    import re

    from feagi_embed.host.gpu import wgpu as w

    src = w.wgsl_sources(False)
    decl = re.compile(r"@binding\((\d+)\) var<storage, (\w+)>")
    writers = {b for s in src.values() for b, acc in decl.findall(s) if acc == "read_write"}
    assert {"14", "15", "22"} <= writers  # acc, flag, nat
    n_storage = len({b for s in src.values() for b, _ in decl.findall(s)})
    assert w.shared_sources(src, n_storage - 1) is None
    shared = w.shared_sources(src, n_storage)
    for k, s in shared.items():
        for b, acc in decl.findall(s):
            assert acc == ("read_write" if b in writers else "read"), (k, b)
    fused = src["k_fused"]
    bindings = re.findall(r"@binding\((\d+)\)", fused)
    assert len(bindings) == len(set(bindings)) and "fn main" in fused
    assert "k_fused" not in w.wgsl_sources(True)  # fixed point only


@pytest.mark.parametrize("fused", [False, True])
@pytest.mark.parametrize("seed,large,fanout", [(0, False, 24), (1, True, 24), (3, False, 1),
                                               (4, True, 1)])
def test_wgpu_fused_and_three_dispatch_paths_equal_numba(fused, seed, large, fanout):
    """Both WGPU paths on small random models (dense, no-list and sparse bursts): the fused
    kernel (one dispatch of one workgroup per submission) and the three dispatches per burst
    (k_in, k_dyn, k_scan3; a batch submitted in chunks of 2, 4, …). Dispatch and submission
    counts from the run's shape: 10 batches of 6 bursts, a state digest after each."""
    cls = twin_class("wgpu")
    m = random_model(4000, fanout, seed=seed, large_brain=large)
    stim = random_stimulus(m, 60, seed=seed, per_burst=20 if fanout > 1 else 4)
    ref = Twin(m).run(60, stim, state_every=6)
    tw = cls(m, fused=fused)
    assert tw.fused is fused
    assert_same_trace(ref, tw.run(60, stim, state_every=6), f"random seed {seed} fused={fused}")
    per_batch = (2, 1) if fused else (1 + 3 * 6, 2)  # (k_begin + bursts, chunks 2 + 4)
    assert (tw.dispatches, tw.submits) == (10 * (per_batch[0] + 1), 10 * (per_batch[1] + 1))
    r = Twin(m)
    r.run(60, stim)
    for k in range(3):  # step(): one burst per submission, either path
        ids = np.arange(k, m.n_neurons, 97)
        vals = np.full(ids.size, 3 << 14, np.int32)
        want = r.step(ids, vals, digest=True, state=True)
        got = tw.step(ids, vals, state=True)
        assert (got.burst, got.burst_crc, got.state_crc) == (want.burst, want.burst_crc,
                                                             want.state_crc)
        assert np.array_equal(got.fired, want.fired) and np.array_equal(got.fired_v, want.fired_v)


@pytest.mark.parametrize("path", CONFORMANCE, ids=lambda p: p.name.split(".")[0])
def test_wgpu_three_dispatch_path_on_conformance_cases(path):
    """The conformance micro-genomes (small: fused by default) also through the three-dispatch
    path, batches of 7 bursts."""
    cls = twin_class("wgpu")
    fx = fixture(path)
    model = fixture_model(path)
    stim = Stimulus.from_json(fx["stimulus"])
    bursts = fx["bursts_recorded"]
    ref = Twin(model).run(bursts, stim, state_every=1)
    tw = cls(model, batch=7, fused=False)
    assert_same_trace(ref, tw.run(bursts, stim, state_every=1), fx["name"])


def test_wgpu_fused_default_and_environment(monkeypatch):
    """Small models choose the path per batch by default (fused=None), FEAGI_EMBED_WGPU_FUSED=0/1
    overrides; models above the size limits run the three dispatches; fused=True with split
    arrays is refused."""
    cls = twin_class("wgpu")
    from feagi_embed.host.gpu import wgpu as w

    m = random_model(300, 4, seed=2)
    assert cls(m).fused is None
    monkeypatch.setenv("FEAGI_EMBED_WGPU_FUSED", "0")
    assert cls(m).fused is False
    monkeypatch.setenv("FEAGI_EMBED_WGPU_FUSED", "1")
    monkeypatch.setattr(w, "FUSED_MAX_NEURONS", 10)
    assert cls(m).fused is True
    monkeypatch.delenv("FEAGI_EMBED_WGPU_FUSED")
    assert cls(m).fused is False
    with pytest.raises(GpuUnavailable):
        cls(m, fused=True, part_words=64)


def test_wgpu_path_follows_the_activity_of_the_previous_batch():
    """Default path choice per batch of 10: fused when the previous batch's busiest burst (fired
    × (1 + mean fan-out), from numba's trace) plus the batch's most stimulus entries per burst is
    at most FUSED_MAX_WORK. A quiet model (fan-out ~1, no stimulus) and a busy one (~20 %
    firing, fan-out 24): the paths alternate on the same device state, the traces equal
    numba's."""
    cls = twin_class("wgpu")
    from feagi_embed.host.gpu import wgpu as w

    for fanout, stim_burst in ((1, 0), (24, 20)):
        m = random_model(4000, fanout, seed=0)
        stim = random_stimulus(m, 30, seed=0, per_burst=stim_burst) if stim_burst else None
        ref = Twin(m).run(30, stim, state_every=10)
        tw = cls(m)
        assert_same_trace(ref, tw.run(30, stim, state_every=10), f"fan-out {fanout}")
        fired = np.array([len(f) for f in ref.fired])
        busy = [0] + [fired[b - 10:b].max() * (1 + m.n_synapses / m.n_neurons) for b in (10, 20)]
        # stimulus entries per burst: at most stim_burst voxels, each one entry
        want = sum(bz + stim_burst <= w.FUSED_MAX_WORK for bz in busy)
        assert tw.fused_launches == want, (fanout, busy)
        assert 0 < want < 3 if stim_burst else want == 3


def test_wgpu_fused_dispatches_capped():
    """fuse_cap: a fused launch of more bursts is several dispatches in one submission (CPU
    adapters cap them by default: llvmpipe ends loops after 65,535 iterations per invocation);
    same trace. Batches of 10 with a cap of 4: 3 fused dispatches each; the default cap on
    lavapipe lets a 100 k-neuron model run 52 bursts in one launch correctly."""
    cls = twin_class("wgpu")
    m = random_model(4000, 24, seed=1, large_brain=True)
    stim = random_stimulus(m, 30, seed=1, per_burst=20)
    ref = Twin(m).run(30, stim, state_every=10)
    tw = cls(m, fused=True, fuse_cap=4)
    assert_same_trace(ref, tw.run(30, stim, state_every=10), "capped")
    assert (tw.dispatches, tw.submits) == (3 * (1 + 3) + 3, 3 + 3)
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "bench_twin", Path(__file__).resolve().parent.parent / "bench" / "bench_twin.py")
    bt = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bt)
    big = bt.synthetic_model(100_000, 20, seed=1)
    area = len(big.areas.ids) - 1
    dims = big.areas.dims[area]
    rng = np.random.default_rng(2)
    entries = []
    for b in range(1, 53):
        v = rng.choice(100_000, size=1000, replace=False)
        vox = np.stack([v // (dims[1] * dims[2]), (v // dims[2]) % dims[1], v % dims[2]], axis=1)
        entries.append({"bursts": [b, b], "area": big.areas.genome_ids[area],
                        "voxels": vox, "kind": "force"})
    stim = Stimulus(tuple(entries), "<test>")  # built directly, as bench_gpu's (1,000 voxels)
    want = Twin(big).run(52, stim)
    got = cls(big, fused=True, batch=64).run(52, stim, record=False)
    assert got.burst_crc == want.burst_crc and got.state_crc == want.state_crc
