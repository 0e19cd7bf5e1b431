"""Precision ``"float"`` (``--precision fp32``) on the GPU twins: bit for bit the numba twin's f32
mode (host/twin.py, itself FEAGI's f32 arithmetic, checked against the engine elsewhere).

Independent expectations: the numba twin in ``"float"`` mode — fired ids, the bits of V at fire,
burst and state CRC-32s — on every bundled genome with injections of values off the fixed-point
grid, every conformance micro-genome and random models exercising every rule; a hand-written
sequential f32 sum for the host-side stimulus fold; a brute-force incoming-synapse order. CUDA runs
where cupy finds a GPU (skips otherwise unless FEAGI_EMBED_REQUIRE_CUDA=1); the fp32 PTX is checked
for the absence of fused multiply-adds wherever nvcc or NVRTC is installed.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from feagi_embed.host.gpu.common import fold_f32, incoming
from feagi_embed.host.twin import Twin
from feagi_embed.stimulus import KIND_FORCE, KIND_INJECT, Stimulus

from .conftest import require
from .gpu_models import random_model, random_stimulus, with_f32
from .test_gpu_twin import CONFORMANCE, TRACES, fixture, fixture_model, twin_class

F32_BACKENDS = ["wgpu", "cuda"]


def runtime_psp_limit(backend: str, request) -> None:
    """WGPU on a GPU adapter: f32 run-time PSP contributions (mp-driven/degenerating sources) are
    not promised bit-exact (1-ulp differences seen on NVIDIA's Vulkan driver; docs/gpu.md) —
    the test still runs, as a non-strict xfail. Lavapipe (CI) and CUDA stay strict."""
    from feagi_embed.host.gpu import backends

    if backend == "wgpu" and "CPU" not in backends.available("wgpu")[1]:
        request.applymarker(pytest.mark.xfail(
            reason="WGSL f32 division / contraction on a GPU adapter (docs/gpu.md)", strict=False))


def assert_same_f32_trace(ref, got, what: str) -> None:
    """Fired ids, V at fire compared as bits (−0.0 ≠ +0.0), burst and state digests."""
    assert got.bursts == ref.bursts, what
    for i, (a, b) in enumerate(zip(ref.fired, got.fired)):
        assert np.array_equal(a, b), f"{what}: burst {i + 1} fired ids differ"
        va = np.asarray(ref.fired_v[i], np.float32).view(np.uint32)
        vb = np.asarray(got.fired_v[i], np.float32).view(np.uint32)
        assert np.array_equal(va, vb), f"{what}: burst {i + 1} V at fire (bits)"
    first = next((i + 1 for i, (x, y) in enumerate(zip(ref.burst_crc, got.burst_crc)) if x != y),
                 None)
    assert first is None, f"{what}: burst digest differs first at burst {first}"
    assert got.state_crc == ref.state_crc, f"{what}: state digests differ"


def off_grid_injections(model, stim_doc: dict, bursts: int, seed: int = 11) -> Stimulus:
    """The recorded force-fire schedule plus seeded sensory values off any power-of-two grid
    (−2 … 20, 3 decimals; several per neuron and burst, so the fold order matters)."""
    rng = np.random.default_rng(seed)
    entries = list(stim_doc["stimuli"])
    for a, kind in enumerate(model.areas.kinds):
        if kind == "core":
            continue
        w, h, d = model.areas.dims[a]
        for b in range(1, bursts + 1, 2):
            vox = [int(rng.integers(w)), int(rng.integers(h)), int(rng.integers(d))]
            for _ in range(3):  # the same voxel three times: 0.01 + 0.035 + 0.055-like sums
                entries.append({"bursts": [b, b], "area": model.areas.genome_ids[a],
                                "voxels": [vox], "kind": "inject",
                                "value": float(np.round(rng.uniform(-2, 20), 3))})
    return Stimulus.from_json({"stimuli": entries}, "<test fp32>")


# ----------------------------------------------------------------------------- host side
def test_fold_f32_sorts_each_bursts_injections_by_neuron_in_schedule_order():
    """Each burst: the same entries, injections first, sorted by neuron, each neuron's values in
    schedule order (the kernels add them in this order after the power and synaptic input),
    force entries after them — so the entry words (neuron | force << 31) ascend (the kernels'
    binary search). Checked against a hand-written per-burst grouping."""
    rng = np.random.default_rng(3)
    bursts = 6
    ptr = np.zeros(bursts + 1, np.int64)
    nrn, val, kind = [], [], []
    for b in range(bursts):
        k = int(rng.integers(0, 12))
        nrn += rng.integers(0, 5, k).tolist()
        val += rng.choice([0.01, 0.035, 0.055, -0.0, 1e8, -1e8, 3.3], k).tolist()
        kind += rng.choice([KIND_INJECT, KIND_INJECT, KIND_FORCE], k).tolist()
        ptr[b + 1] = ptr[b] + k
    nrn, val = np.array(nrn, np.uint32), np.array(val, np.float32)
    kind = np.array(kind, np.uint8)
    fptr, fn, fv, fk = fold_f32(ptr, nrn, val, kind)
    assert fptr.tolist() == ptr.tolist()
    for b in range(bursts):
        want_inj: dict[int, list[int]] = {}
        want_f = []
        for e in range(ptr[b], ptr[b + 1]):
            if kind[e] == KIND_FORCE:
                want_f.append(int(nrn[e]))
            else:
                want_inj.setdefault(int(nrn[e]), []).append(int(val[e:e + 1].view(np.uint32)[0]))
        seg = slice(fptr[b], fptr[b + 1])
        words = fn[seg].astype(np.uint64) | (fk[seg] == KIND_FORCE).astype(np.uint64) << 31
        assert np.all(np.diff(words.astype(np.int64)) >= 0)
        assert sorted(fn[seg][fk[seg] == KIND_FORCE].tolist()) == sorted(want_f)
        inj = fk[seg] == KIND_INJECT
        got: dict[int, list[int]] = {}
        for i, v in zip(fn[seg][inj].tolist(), fv[seg][inj].view(np.uint32).tolist()):
            got.setdefault(i, []).append(v)
        assert got == want_inj


def test_incoming_synapses_are_in_the_twins_order():
    m = with_f32(random_model(300, 6, seed=2))
    inc = incoming(m)
    ptr, dst = np.asarray(m.syn_ptr), np.asarray(m.syn_dst)
    src_of = np.repeat(np.arange(m.n_neurons), np.diff(ptr))
    for t in range(0, m.n_neurons, 7):
        ks = np.flatnonzero(dst == t)  # ascending synapse index = the twin's order
        lo, hi = int(inc["in_ptr"][t]), int(inc["in_ptr"][t + 1])
        assert np.array_equal(inc["in_src"][lo:hi], src_of[ks])
        assert np.array_equal(inc["in_c"][lo:hi].view(np.float32), m.syn_c_f32[ks])
        assert np.array_equal(inc["in_w"][lo:hi], np.asarray(m.syn_w)[ks])


def test_fp32_ptx_has_no_fused_multiply_add():
    from feagi_embed.host.gpu.common import GpuUnavailable
    from feagi_embed.host.gpu.cuda import compile_check

    try:
        tool, ptx = compile_check(fp32=True)
    except GpuUnavailable as e:
        require(str(e), "CUDA compiler")
        return
    assert ".entry k_gather(" in ptx
    assert not re.search(r"\bfma\.[a-z.]*f32", ptx), tool
    assert "add.rn.f32" in ptx and "mul.rn.f32" in ptx and "div.rn.f32" in ptx


def test_float_mode_needs_the_f32_arrays():
    from feagi_embed.host.gpu.common import require_f32

    with pytest.raises(ValueError, match="threshold_f32"):
        require_f32(random_model(50, 2))


# ----------------------------------------------------------------------------- traces
@pytest.mark.parametrize("backend", F32_BACKENDS)
@pytest.mark.parametrize("path", TRACES, ids=lambda p: p.name.split(".")[0])
def test_float_genome_trace_equals_numba_float(backend, path):
    cls = twin_class(backend)
    fx = fixture(path)
    model = fixture_model(path)
    bursts = fx["bursts_recorded"]
    stim = off_grid_injections(model, fx["stimulus"], bursts)
    ref = Twin(model, "float", threads=1).run(bursts, stim, state_every=10)
    assert sum(len(f) for f in ref.fired) > 0
    got = cls(model, "float", batch=32).run(bursts, stim, state_every=10)
    assert_same_f32_trace(ref, got, fx["name"])


@pytest.mark.parametrize("backend", F32_BACKENDS)
@pytest.mark.parametrize("path", CONFORMANCE, ids=lambda p: p.name.split(".")[0])
def test_float_conformance_case_equals_numba_float(backend, path):
    cls = twin_class(backend)
    fx = fixture(path)
    model = fixture_model(path)
    stim = Stimulus.from_json(fx["stimulus"], fx["name"])
    bursts = fx["bursts_recorded"]
    ref = Twin(model, "float", threads=1).run(bursts, stim, state_every=1)
    assert_same_f32_trace(ref, cls(model, "float", batch=7).run(bursts, stim, state_every=1),
                          fx["name"])


@pytest.mark.parametrize("backend", F32_BACKENDS)
@pytest.mark.parametrize("seed,large,fanout", [(0, False, 24), (1, True, 24), (2, False, 24),
                                               (3, False, 1), (4, True, 1)])
@pytest.mark.filterwarnings("ignore:WGPU precision 'float' on a GPU adapter")
def test_float_random_model_equals_numba_float(backend, seed, large, fanout, request):
    """Every rule at random (mp-driven and degenerating sources: run-time f32 contributions with
    divisions; dense and sparse paths), plus run/step/record/chunk equivalence."""
    cls = twin_class(backend)
    runtime_psp_limit(backend, request)
    m = with_f32(random_model(4000, fanout, seed=seed, large_brain=large))
    stim = random_stimulus(m, 60, seed=seed, per_burst=20 if fanout > 1 else 4)
    ref = Twin(m, "float", threads=1).run(60, stim, state_every=6)
    assert np.mean([len(f) for f in ref.fired]) > (100 if fanout > 1 else 2)
    g = cls(m, "float")
    a = g.run(25, stim, state_every=6)
    b = g.run(35, stim, state_every=6, record=False)
    assert a.burst_crc + b.burst_crc == ref.burst_crc
    assert_same_f32_trace(ref, cls(m, "float", batch=5).run(60, stim, state_every=6),
                          f"random seed {seed}")
    assert np.array_equal(g.V.view(np.uint32), _twin_after(m, stim, 60).V.view(np.uint32))


def _twin_after(m, stim, bursts):
    tw = Twin(m, "float", threads=1)
    tw.run(bursts, stim)
    return tw


@pytest.mark.parametrize("backend", F32_BACKENDS)
@pytest.mark.filterwarnings("ignore:WGPU precision 'float' on a GPU adapter")
def test_float_step_equals_numba_float_step(backend, request):
    """step() with fresh off-grid inputs every burst (repeated ids: folded in order)."""
    cls = twin_class(backend)
    runtime_psp_limit(backend, request)
    m = with_f32(random_model(3000, 16, seed=6))
    rng = np.random.default_rng(6)
    ref, got = Twin(m, "float", threads=1), cls(m, "float")
    for _ in range(30):
        ids = rng.integers(7, m.n_neurons, 40)
        ids[20:] = ids[:20]
        vals = np.round(rng.uniform(-1, 3, 40), 3).astype(np.float32)
        r = ref.step(ids, vals, digest=True, state=True)
        s = got.step(ids, vals, state=True)
        assert np.array_equal(r.fired, s.fired)
        assert np.array_equal(r.fired_v.view(np.uint32), s.fired_v.view(np.uint32))
        assert (r.burst_crc, r.state_crc) == (s.burst_crc, s.state_crc)


@pytest.mark.parametrize("backend", F32_BACKENDS)
def test_fp32_executor_equals_the_f32_reference(backend):
    """The verify executor ``GpuTwin(backend, "fp32")`` gives the f32 numba twin's trace, state
    digests included (a genome whose sources have no run-time PSP)."""
    from feagi_embed.executors import GpuTwin

    twin_class(backend)
    path = TRACES[0]
    fx = fixture(path)
    model = fixture_model(path)
    stim = off_grid_injections(model, fx["stimulus"], 20)
    ref = Twin(model, "float", threads=1).run(20, stim, state_every=5)
    ex = GpuTwin(backend, "fp32")
    assert ex.name == f"twin ({backend}, fp32)" and ex.available() is None
    assert_same_f32_trace(ref, ex.run(model, stim, 20, 5), fx["name"])
    with pytest.raises(ValueError, match="precision"):
        GpuTwin(backend, "fp16")
