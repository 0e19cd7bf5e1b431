"""Twin speed work (issue 15) changes no result: the parallel numba kernel, the streaming
``step()`` API of every twin, the optional final state digest, the streamed ``run --json`` /
``--npz`` output and the numba cache location.

Independent expectations: the single-thread numba kernel (itself checked against the FEAGI engine
in test_oracle_traces.py), a batched ``run`` of the same compiled stimulus, ``Stimulus.compile``,
and a per-neuron reference of the JSON report written here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from feagi_embed import numba_cache
from feagi_embed.cli import main
from feagi_embed.host.twin import Twin, burst_digest, run_bursts
from feagi_embed.stimulus import KIND_FORCE, Stimulus, StimulusError
from feagi_embed.streaming import area_inputs, step_arrays

from .conftest import developed
from .gpu_models import random_model, random_stimulus
from .test_gpu_twin import twin_class


def _model(seed, large_brain):
    return random_model(3000, 20, seed=seed, large_brain=large_brain)


def _genome_model(name):
    from feagi_embed.quantize import quantize

    return quantize(developed(name)[1])


def _same(a, b):
    assert a.burst_crc == b.burst_crc and a.state_crc == b.state_crc
    for x, y in zip(a.fired, b.fired):
        assert np.array_equal(x, y)
    for x, y in zip(a.fired_v, b.fired_v):
        assert np.array_equal(x, y)


# ----------------------------------------------------------------------------- parallel kernel
@pytest.mark.parametrize("seed,large_brain", [(0, False), (1, True), (2, False)])
def test_parallel_kernel_equals_single_thread(seed, large_brain):
    m = _model(seed, large_brain)
    stim = random_stimulus(m, 40, seed=seed)
    one = Twin(m, threads=1)
    ref = one.run(40, stim, state_every=10)
    assert sum(map(len, ref.fired)) > 1000  # the model is busy: every rule is exercised
    for threads in (2, 5):
        par = Twin(m, threads=threads)
        _same(ref, par.run(40, stim, state_every=10))
        for k in ("V", "cd", "cc", "psp"):
            assert np.array_equal(getattr(one, k), getattr(par, k)), k


def test_parallel_kernel_wide_offsets_equal(monkeypatch):
    """The int64 slice offsets and uint32 targets (regions of 2^32 synapses or more, ranges
    above 65,536 neurons) run the same trace as the uint32 offsets and uint16 range-relative
    targets every smaller model gets."""
    import functools

    from feagi_embed.host import twin_par

    m = _model(0, False)
    stim = random_stimulus(m, 30, seed=0)
    ref = Twin(m, threads=3)
    assert ref._par["ptrp"].dtype == np.uint32 and ref._syn[1].dtype == np.uint16
    ref_tr = ref.run(30, stim, state_every=10)
    monkeypatch.setattr(twin_par, "prepare", functools.partial(twin_par.prepare, wide=True))
    wide = Twin(m, threads=3)
    assert wide._par["ptrp"].dtype == np.int64 and wide._syn[1].dtype == np.uint32
    _same(ref_tr, wide.run(30, stim, state_every=10))
    assert np.array_equal(ref._par["ptrp"], wide._par["ptrp"])


def test_parallel_kernel_keeps_f32_sums_in_serial_order():
    """Float mode adds each target's inputs in f32, so their order matters: the parallel kernel
    must feed every target in the serial order (learning_v1_1b under injections)."""
    m = _genome_model("learning_v1_1b")
    stim = random_stimulus(m, 30, per_burst=60, seed=4)
    ref = Twin(m, "float", threads=1).run(30, stim)
    assert sum(map(len, ref.fired)) > 100
    _same(ref, Twin(m, "float", threads=3).run(30, stim))


def test_threads_default_and_validation():
    m = _model(0, False)
    assert Twin(m).threads == 1  # small models stay on one thread
    with pytest.raises(ValueError, match="threads"):
        Twin(m, threads=0)


# ----------------------------------------------------------------------------- step()
def _steps(twin, model, stim, bursts, real=False, **kw):
    ptr, nrn, val, kind = stim.compile(model, bursts, real=real)
    return [twin.step(nrn[ptr[i]:ptr[i + 1]], val[ptr[i]:ptr[i + 1]], kind[ptr[i]:ptr[i + 1]],
                      **kw) for i in range(bursts)]


@pytest.mark.parametrize("seed,large_brain,threads", [(0, False, 1), (1, True, 1), (2, False, 3)])
def test_numba_step_equals_batched_run(seed, large_brain, threads):
    m = _model(seed, large_brain)
    stim = random_stimulus(m, 30, seed=seed)
    ref = Twin(m, threads=threads).run(30, stim)
    tw = Twin(m, threads=threads)
    out = _steps(tw, m, stim, 30, digest=True)
    assert [r.burst for r in out] == list(range(1, 31))
    assert [r.burst_crc for r in out] == ref.burst_crc
    for r, ids, v in zip(out, ref.fired, ref.fired_v):
        assert np.array_equal(r.fired, ids) and np.array_equal(r.fired_v, v)
    assert tw.state_digest() == ref.state_crc[30]
    plain = Twin(m, threads=threads).step([10, 11], [5000, -300])
    assert plain.burst_crc is None and plain.state_crc is None  # nothing unless asked


def test_step_then_run_continues_the_same_trace():
    m = _genome_model("essential_genome")
    stim = random_stimulus(m, 20, per_burst=5, seed=1)
    ref = Twin(m).run(20, stim, state_every=5)
    tw = Twin(m)
    head = _steps(tw, m, stim, 8, digest=True, state=True)
    rest = tw.run(12, stim, state_every=5)
    assert [r.burst_crc for r in head] + rest.burst_crc == ref.burst_crc
    assert head[4].state_crc == ref.state_crc[5]
    assert rest.state_crc == {b: c for b, c in ref.state_crc.items() if b > 8}


def test_float_step_takes_real_values():
    m = _genome_model("learning_v1_1b")
    stim = random_stimulus(m, 10, per_burst=30, seed=2)
    ref = Twin(m, "float").run(10, stim)
    out = _steps(Twin(m, "float"), m, stim, 10, real=True, digest=True)
    assert [r.burst_crc for r in out] == ref.burst_crc


@pytest.mark.parametrize("backend", ["wgpu", "cuda", "cuda-fused"])
@pytest.mark.parametrize("seed,large_brain", [(0, False), (1, True)])
def test_gpu_step_equals_numba(backend, seed, large_brain):
    cls = twin_class(backend)
    m = _model(seed, large_brain)
    stim = random_stimulus(m, 20, seed=seed)
    ref = Twin(m).run(20, stim)
    g = cls(m)
    out = _steps(g, m, stim, 20, state=False)
    assert [r.burst_crc for r in out] == ref.burst_crc
    for r, ids, v in zip(out, ref.fired, ref.fired_v):
        assert np.array_equal(r.fired, ids) and np.array_equal(r.fired_v, v)
    assert g.state_digest() == Twin(m).run(20, stim).state_crc[20]


def test_area_inputs_match_the_stimulus_file():
    m = _genome_model("essential_genome")
    custom = [i for i, k in enumerate(m.areas.kinds) if k != "core"]
    a = max(custom, key=lambda i: int(np.prod(m.areas.dims[i])))
    gid = m.areas.genome_ids[a]
    w, h, d = m.areas.dims[a]
    vals = np.zeros((w, h, d))
    vals.flat[::3] = np.linspace(0.5, 9.5, vals.size)[::3]
    vox = [list(map(int, np.unravel_index(i, (w, h, d)))) for i in range(0, vals.size, 3)]
    stim = Stimulus.from_json({"stimuli": [
        {"bursts": [1, 1], "area": gid, "voxels": [v], "kind": "inject",
         "value": float(vals[tuple(v)])} for v in vox]})
    _, nrn, val, kind = stim.compile(m, 1)
    ids, q, k = area_inputs(m, {gid: vals})
    assert np.array_equal(ids, nrn) and np.array_equal(q, val) and np.array_equal(k, kind)
    fids, _, fk = area_inputs(m, {gid: vals}, kind="force")
    assert np.array_equal(fids, nrn) and (fk == KIND_FORCE).all()


@pytest.mark.parametrize("args,match", [
    (([5000],), r"ids: got values in \[5000, 5000\]"),
    (([1, 2], [3]), "2 ids"),
    (([1], [1.5]), "floats"),
    (([1], [1], [7]), "kinds"),
])
def test_step_inputs_errors(args, match):
    with pytest.raises(StimulusError, match=match):
        step_arrays(100, *args)


# ----------------------------------------------------------------------------- digests
def test_final_state_digest_optional_and_taken_once(monkeypatch):
    m = _model(0, False)
    calls = []
    orig = Twin.state_digest
    monkeypatch.setattr(Twin, "state_digest", lambda self: calls.append(self.burst) or orig(self))
    tw = Twin(m)
    tr = tw.run(10, state_every=5)
    assert sorted(tr.state_crc) == [5, 10] and calls == [5, 10]
    calls.clear()
    tr = tw.run(7, final_state=False)
    assert tr.state_crc == {} and calls == []


# ----------------------------------------------------------------------------- CLI output
def _reference_report(model, trace):
    """The JSON report built neuron by neuron (the pre-vectorisation reference)."""
    gids = model.areas.genome_ids
    bursts = []
    for i, ids in enumerate(trace.fired):
        fired = {}
        for nid in ids.tolist():
            area, x, y, z, k = (int(v[0]) for v in model.neuron_coords(np.array([nid])))
            fired.setdefault(gids[area], []).append([x, y, z, k])
        bursts.append({"burst": i + 1, "digest": f"{trace.burst_crc[i]:08x}", "count": len(ids),
                       "fired": fired})
    return {"frac_bits": model.frac_bits, "bursts": bursts,
            "state_digests": {str(b): f"{c:08x}" for b, c in sorted(trace.state_crc.items())},
            "final_digest": f"{trace.final_digest:08x}"}


def test_cli_run_json_streamed_and_npz(tmp_path):
    m = _genome_model("learning_v1_1b")
    stim = random_stimulus(m, 25, per_burst=40, seed=5)
    sf = tmp_path / "s.json"
    sf.write_text(json.dumps(stim.to_json()))
    ref = Twin(m).run(25, stim, state_every=10)
    npz = tmp_path / "t.npz"
    r = CliRunner().invoke(main, ["run", "learning_v1_1b", "-n", "25", "--stimulus", str(sf),
                                  "--json", "--npz", str(npz)])
    assert r.exit_code == 0, r.output
    # stdout only: the random stimulus' values are off the input grid (a lossy-input warning on
    # stderr, docs/stimulus.md)
    assert r.stdout == json.dumps(_reference_report(m, ref)) + "\n"
    z = np.load(npz)
    assert z["counts"].tolist() == [len(i) for i in ref.fired]
    assert np.array_equal(z["ids"], np.concatenate(ref.fired))
    assert z["burst_crc"].tolist() == ref.burst_crc
    assert dict(zip(z["state_bursts"].tolist(), z["state_crc"].tolist())) == ref.state_crc
    assert burst_digest(1, z["ids"][:z["counts"][0]]) == ref.burst_crc[0]


# ----------------------------------------------------------------------------- numba cache
def test_cache_dir_is_the_user_cache_unless_set(monkeypatch, tmp_path):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(sys, "platform", "linux")
    got = numba_cache.configure()
    assert got == str(tmp_path / "feagi-embed" / "numba") and (tmp_path / "feagi-embed").is_dir()
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))
    assert numba_cache.configure() == str(tmp_path / "mine")


def test_cold_compile_is_detected(tmp_path, monkeypatch, capsys):
    import importlib.util

    import numba as nb

    src = tmp_path / "fresh_kernel.py"
    src.write_text("import numba\n@numba.njit(cache=True)\ndef f(x):\n    return x + 1\n")
    spec = importlib.util.spec_from_file_location("fresh_kernel", src)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    sig = (nb.int64,)
    assert numba_cache.is_cold(mod.f, sig)
    assert mod.f(1) == 2
    assert not numba_cache.is_cold(mod.f, sig)
    # a new process finds it in the on-disk cache: no compile, no notice
    code = ("import importlib.util, numba, sys; from feagi_embed import numba_cache; "
            f"spec = importlib.util.spec_from_file_location('fresh_kernel', {str(src)!r}); "
            "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); "
            "sys.exit(1 if numba_cache.is_cold(m.f, (numba.int64,)) else 0)")
    assert subprocess.run([sys.executable, "-c", code], env=dict(os.environ)).returncode == 0
    Twin(_model(0, False)).run(1)
    assert run_bursts.overloads and not any(numba_cache.is_cold(run_bursts, s)
                                            for s in run_bursts.overloads)
    numba_cache.notice("x")
    assert "compiling x" in capsys.readouterr().err


# ----------------------------------------------------------------------------- dense bursts
def _uniform_rows(m, seed):
    """``m`` with every other source's synapse row given one contribution (``ROW_UNIFORM``)."""
    import dataclasses

    rng = np.random.default_rng(seed)
    c = m.syn_c.copy()
    for src in range(0, m.n_neurons, 2):
        a, b = int(m.syn_ptr[src]), int(m.syn_ptr[src + 1])
        if b > a:
            c[a:b] = rng.integers(-600, 1200)
    return dataclasses.replace(m, syn_c=c)


def _dense_vs_sparse(m, stim, bursts, mode="fixed"):
    """Trace and final arrays with every burst dense against every burst sparse."""
    runs = []
    for dense_min in (0, m.n_neurons + 1):
        tw = Twin(m, mode, threads=1)
        tw.dense_min = dense_min
        runs.append((tw, tw.run(bursts, stim, state_every=5)))
    (a, ta), (b, tb) = runs
    _same(ta, tb)
    for k in ("V", "cd", "cc", "psp"):
        assert np.array_equal(getattr(a, k), getattr(b, k)), k
    return ta


@pytest.mark.parametrize("seed,large_brain", [(0, False), (1, True), (3, False)])
def test_dense_bursts_equal_sparse_bursts(seed, large_brain):
    """The dense FCL (candidate bitmap, one pass in id order, no sort) and the sparse one (lists,
    sorted fired set) give the same trace and state: random models that take every branch
    (refractory, snooze, run-time PSP, degeneration, charge accumulation on and off), with
    per-synapse and uniform rows."""
    m = _uniform_rows(_model(seed, large_brain), seed)
    stim = random_stimulus(m, 40, seed=seed)
    tr = _dense_vs_sparse(m, stim, 40)
    assert sum(map(len, tr.fired)) > 1000
    from feagi_embed.host.twin import ROW_PER_SYNAPSE, ROW_RUNTIME, ROW_UNIFORM

    mode, _ = Twin(m, threads=1)._make_row_plan()
    assert {ROW_PER_SYNAPSE, ROW_RUNTIME, ROW_UNIFORM} <= set(mode.tolist())


def _fixture_cases():
    from .test_oracle_traces import CONFORMANCE, TRACES

    return [pytest.param(p, id=p.name.split(".")[0]) for p in CONFORMANCE + TRACES]


@pytest.mark.parametrize("path", _fixture_cases())
def test_dense_bursts_equal_sparse_bursts_on_oracle_fixtures(path):
    """Every conformance case and real-genome oracle trace, fixed point and f32 reference."""
    from feagi_embed.connectome import develop
    from feagi_embed.genome import load_genome
    from feagi_embed.quantize import quantize

    from .conftest import GENOMES
    from .test_oracle_traces import load_fixture

    fx = load_fixture(path)
    g = (load_genome(GENOMES / fx["genome_file"]) if "genome_file" in fx
         else load_genome(fx["genome"], name=fx["name"]))
    m = quantize(develop(g))
    stim = Stimulus.from_json(fx["stimulus"], fx["name"])
    for mode in ("fixed", "float"):
        _dense_vs_sparse(m, stim, fx["bursts_recorded"], mode)


# ----------------------------------------------------------------------------- step driver
@pytest.mark.parametrize("mode,threads", [("fixed", 1), ("float", 1), ("fixed", 3)])
def test_step_chunks_equal_batched_run(mode, threads):
    """The CLI's and verify's driver (one step() per burst) continues a twin exactly as run():
    same fired sets, V at fire, burst digests and state digests (every 7 bursts and the last)."""
    from feagi_embed.streaming import run_stepped, step_chunks

    m = _model(4, False) if mode == "fixed" else _genome_model("learning_v1_1b")
    stim = random_stimulus(m, 40, per_burst=60, seed=4)
    ref_tw = Twin(m, mode, threads=threads)
    ref_tw.run(3, stim)
    ref = ref_tw.run(30, stim, state_every=7)
    tw = Twin(m, mode, threads=threads)
    tw.run(3, stim)
    parts = list(step_chunks(tw, stim, 30, state_every=7, chunk=8, real=mode == "float"))
    assert [p.bursts for p in parts] == [8, 8, 8, 6]
    got = run_stepped(Twin(m, mode, threads=threads), None, 0)  # 0 bursts: an empty trace
    assert got.bursts == 0
    for p in parts:
        got.fired += p.fired
        got.fired_v += p.fired_v
        got.burst_crc += p.burst_crc
        got.state_crc.update(p.state_crc)
    _same(ref, got)
    assert sorted(got.state_crc) == [7, 14, 21, 28, 33]
