"""The fused CUDA kernel ``k_fused`` without a GPU: its source compiled for the CPU against a
one-block emulation (tests/fused_emu.py) gives the numba twin's trace — fired ids, V at fire,
burst and state digests — on conformance cases, random models (every rule, both membrane-reset
paths, rows longer and shorter than a warp's share), a bundled genome above 32,768 neurons (two
bitmap words per thread), ``step()`` between batched runs, chained parts, and with the block's
threads scheduled in three orders (a missing ``__syncthreads()`` reads stale data in some order).
Skips without a C++ compiler (fails in CI, FEAGI_EMBED_REQUIRE_TOOLS=1)."""

from __future__ import annotations

import numpy as np
import pytest

from feagi_embed.host.twin import Twin

from .conftest import require
from .fused_emu import EmuTwin, build
from .gpu_models import random_model, random_stimulus
from .test_gpu_twin import (CONFORMANCE, TRACES, assert_same_trace, conformance_reference,
                            fixture, fixture_model, genome_reference)


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    """EmuTwin with the compiled emulation library (skips without g++)."""
    lib = build(tmp_path_factory.mktemp("k_fused_emu"))
    if lib is None:
        require("g++", "k_fused CPU emulation")
    EmuTwin.lib = lib
    return EmuTwin


CASES = ["consecutive_limit", "degeneration", "force_fire_interactions", "force_fire_mp_acc_false",
         "mp_driven_psp", "refractory"]


@pytest.mark.parametrize("order", [0, 1, 2])
def test_emulated_k_fused_conformance_cases_equal_numba(emu, order, monkeypatch):
    monkeypatch.setattr(emu, "order", order)
    paths = [p for p in CONFORMANCE if p.name.split(".")[0] in CASES]
    assert len(paths) == len(CASES)
    for p in paths:
        fx = fixture(p)
        stim, ref = conformance_reference(p)
        got = emu(fixture_model(p), batch=7).run(fx["bursts_recorded"], stim, state_every=1)
        assert_same_trace(ref, got, f"{fx['name']} (order {order})")


@pytest.mark.parametrize("seed,large,fanout,order", [(0, False, 24, 0), (1, True, 24, 1),
                                                     (3, False, 1, 2)])
def test_emulated_k_fused_random_model_equals_numba(emu, seed, large, fanout, order, monkeypatch):
    monkeypatch.setattr(emu, "order", order)
    m = random_model(4000, fanout, seed=seed, large_brain=large)
    stim = random_stimulus(m, 24, seed=seed, per_burst=20 if fanout > 1 else 4)
    ref = Twin(m).run(24, stim, state_every=6)
    assert np.mean([len(f) for f in ref.fired]) > (100 if fanout > 1 else 2)
    assert_same_trace(ref, emu(m).run(24, stim, state_every=6), f"random seed {seed}")


def test_emulated_k_fused_genome_above_32k_neurons_equals_numba(emu):
    path = next(p for p in TRACES if p.name.startswith("essential_genome."))
    model = fixture_model(path)
    assert 32 * 1024 < model.n_neurons <= 65_536
    stim, ref = genome_reference(path)
    got = emu(model, batch=32).run(fixture(path)["bursts_recorded"], stim, state_every=10)
    assert_same_trace(ref, got, "essential_genome")


def test_emulated_k_fused_step_between_runs_and_chained_parts(emu, monkeypatch):
    from feagi_embed.host.gpu import common

    m = random_model(1500, 12, seed=4, large_brain=False)
    stim = random_stimulus(m, 40, seed=4)
    ptr, nrn, val, kind = stim.compile(m, 40)
    ref, got = Twin(m), emu(m, batch=8)
    assert_same_trace(ref.run(9, stim, state_every=3), got.run(9, stim, state_every=3), "run 1")
    for b in range(9, 15):
        sl = slice(ptr[b], ptr[b + 1])
        a = ref.step(nrn[sl], val[sl], kind[sl], digest=True, state=True)
        g = got.step(nrn[sl], val[sl], kind[sl], state=True)
        assert (g.burst, g.burst_crc, g.state_crc) == (a.burst, a.burst_crc, a.state_crc), b
        assert np.array_equal(g.fired, a.fired) and np.array_equal(g.fired_v, a.fired_v), b
    assert_same_trace(ref.run(10, stim, state_every=5), got.run(10, stim, state_every=5), "run 2")
    monkeypatch.setattr(common, "CHAIN_WORDS", 0)
    monkeypatch.setattr(emu, "chain", True)
    full = Twin(m).run(40, stim, state_every=20)
    assert_same_trace(full, emu(m, batch=20).run(40, stim, state_every=20), "chained")
    fast = emu(m, batch=32).run(40, stim, record=False)
    assert fast.burst_crc == full.burst_crc and fast.state_crc[40] == full.state_crc[40]
