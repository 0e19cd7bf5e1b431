"""The fixed-point twin reproduces the FEAGI release engine's firing, burst by burst.

Independent expectation: golden traces recorded from the real engine with the oracle
(tests/fixtures/conformance: one micro-genome per behaviour; tests/fixtures/traces: every real genome
under a deterministic force-fire schedule). Compared by coordinates: the fired set of every burst, the
membrane potential at firing (except force-fired neurons, which the engine reports as 100), and the
watched neurons' (V, refractory countdown, consecutive count) after every burst.
"""

from __future__ import annotations

import gzip
import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from feagi_embed.connectome import develop
from feagi_embed.genome import load_genome
from feagi_embed.host.twin import Twin
from feagi_embed.quantize import quantize
from feagi_embed.stimulus import Stimulus

from .conftest import FIXTURES, GENOMES

CONFORMANCE = sorted((FIXTURES / "conformance").glob("*.json.gz"))
TRACES = sorted((FIXTURES / "traces").glob("*.json.gz"))
#: cases whose firing depends on FEAGI's run-specific neuron ids (compared statistically)
STATISTICAL = {"excitability_fractional"}


@lru_cache(maxsize=None)
def load_fixture(path: Path) -> dict:
    with gzip.open(path, "rt") as f:
        return json.load(f)


def run_fixture(fx: dict, mode: str = "fixed"):
    if "genome_file" in fx:
        g = load_genome(GENOMES / fx["genome_file"])
    else:
        g = load_genome(fx["genome"], name=fx["name"])
    model = quantize(develop(g))
    stim = Stimulus.from_json(fx["stimulus"], fx["name"])
    watch_keys = sorted({k for b in fx["bursts"] for k in b.get("watch", {})})
    ids = []
    for key in watch_keys:
        area_b64, xyz, k = key.split(":")
        a = model.areas.ids.index(area_b64)
        x, y, z = map(int, xyz.split(","))
        _, h, d = model.areas.dims[a]
        ids.append(int(model.area_first[a]) + ((x * h + y) * d + z) * model.areas.npv[a] + int(k))
    twin = Twin(model, mode)
    trace = twin.run(fx["bursts_recorded"], stim, watch=np.array(ids, np.int64) if ids else None)
    return model, trace, watch_keys


def forced_by_burst(fx: dict) -> dict[int, set]:
    out: dict[int, set] = {}
    for e in fx["stimulus"]["stimuli"]:
        if e["kind"] != "force":
            continue
        for b in range(e["bursts"][0], e["bursts"][1] + 1):
            out.setdefault(b, set()).update((e["area_b64"], *v) for v in e["voxels"])
    return out


def same_potential(model, ours: float, engine: float, exact: bool) -> bool:
    """Exact (in f32) for the float reference and lossless models; else within quantization error."""
    if exact:
        return np.float32(ours) == np.float32(engine)
    return abs(ours - engine) <= 16.0 / (1 << model.frac_bits) + 1e-3 * abs(engine)


def compare(fx: dict, mode: str = "fixed") -> None:
    model, trace, watch_keys = run_fixture(fx, mode)
    scale = float(1 << model.frac_bits) if mode == "fixed" else 1.0
    exact = mode == "float" or model.report["lossless"]
    forced = forced_by_burst(fx)
    ids_b64 = model.areas.ids
    for i, b in enumerate(fx["bursts"]):
        burst = b["burst"]
        area, x, y, z, _ = model.neuron_coords(trace.fired[i])
        ours = {(ids_b64[a], xx, yy, zz): v / scale for a, xx, yy, zz, v in
                zip(area.tolist(), x.tolist(), y.tolist(), z.tolist(), trace.fired_v[i].tolist())}
        theirs = {(r[0], r[1], r[2], r[3]): r[4] for r in b["fired"]}
        assert set(ours) == set(theirs), (
            f"{fx['name']} burst {burst}: engine-only {sorted(set(theirs) - set(ours))[:5]}, "
            f"twin-only {sorted(set(ours) - set(theirs))[:5]}")
        for key, mp in theirs.items():
            if key in forced.get(burst, set()):
                continue
            assert same_potential(model, ours[key], mp, exact), (fx["name"], burst, key, ours[key], mp)
        for j, key in enumerate(watch_keys):
            if key not in b.get("watch", {}):
                continue
            mp, cd, cc = b["watch"][key]
            v, our_cd, our_cc = trace.watch[i][j]
            assert same_potential(model, v / scale, mp, exact) and (our_cd, our_cc) == (cd, cc), (
                f"{fx['name']} burst {burst} {key}: twin V/cd/cc = {v / scale}/{our_cd}/{our_cc}, "
                f"engine {mp}/{cd}/{cc}")


#: fixed-point cases whose firing legitimately differs from the engine, with the cause
#: (documented in docs/feagi-compatibility.md); the float reference must still match them exactly.
FIXED_POINT_DIVERGENCE = {
    "psp_nonuniform": "a 1/3 fan-out share is not representable: 3·q(1/3) = 1 − 2^-F misses a "
                      "threshold of 1 that FEAGI's f32 sum (0.33333334·3 = 1.0) reaches",
}


def _cases(paths):
    out = []
    for p in paths:
        name = p.name.split(".")[0]
        if name in STATISTICAL:
            continue
        marks = ([pytest.mark.xfail(reason=FIXED_POINT_DIVERGENCE[name], strict=True)]
                 if name in FIXED_POINT_DIVERGENCE else [])
        out.append(pytest.param(p, marks=marks, id=name))
    return out


@pytest.mark.parametrize("path", _cases(CONFORMANCE))
def test_conformance_case_fixed_point_equals_engine(path):
    compare(load_fixture(path), "fixed")


@pytest.mark.parametrize("path", [p for p in CONFORMANCE if p.name.split(".")[0] not in STATISTICAL],
                         ids=lambda p: p.name.split(".")[0])
def test_conformance_case_float_reference_equals_engine(path):
    compare(load_fixture(path), "float")


@pytest.mark.parametrize("path", _cases(TRACES))
def test_real_genome_trace_fixed_point_equals_engine(path):
    compare(load_fixture(path), "fixed")


@pytest.mark.parametrize("path", TRACES, ids=lambda p: p.name.split(".")[0])
def test_real_genome_trace_float_reference_equals_engine(path):
    compare(load_fixture(path), "float")

def test_excitability_firing_rate_matches_engine_statistically():
    """FEAGI's excitability draw is keyed by its run-specific neuron ids, so only rates compare:
    per area, the engine's and the twin's firing counts must both be plausible draws of the
    configured probability (binomial, 4 sigma), and close to each other."""
    path = FIXTURES / "conformance" / "excitability_fractional.json.gz"
    fx = load_fixture(path)
    model, trace, _ = run_fixture(fx)
    ours: dict[str, int] = {}
    for ids in trace.fired:
        for a in model.neuron_area[ids].tolist():
            ours[model.areas.ids[a]] = ours.get(model.areas.ids[a], 0) + 1
    theirs: dict[str, int] = {}
    for b in fx["bursts"]:
        for r in b["fired"]:
            theirs[r[0]] = theirs.get(r[0], 0) + 1
    g = load_genome(fx["genome"], name=fx["name"])
    checked = 0
    for a in g.areas:
        if not 0 < a.excitability < 0.999 or a.cortical_id.b64 not in theirs:
            continue
        n_e, n_t = theirs[a.cortical_id.b64], ours.get(a.cortical_id.b64, 0)
        # both counts within 25 % of each other (or 8 spikes for small counts)
        assert abs(n_e - n_t) <= max(8, 0.25 * max(n_e, n_t)), (a.genome_id, n_e, n_t)
        checked += 1
    assert checked >= 1


#: shared genomes whose quantization is lossy, and why (hand-checked; docs/feagi-compatibility.md)
LOSSY_GENOMES = {
    "learning_v1_1b": "power PSP degeneration 0.01 with synapses",
    "gesture_recognition_12_1": "fan-out shares of non-uniform PSP areas (e.g. 25/3)",
    "mujoco_camera_interaction": "fan-out shares of non-uniform PSP areas",
}


@pytest.mark.parametrize("path", TRACES, ids=lambda p: p.name.split(".")[0])
def test_fixed_point_equals_float_reference_where_lossless(path):
    """Lossless genomes: the fixed-point and f32 twins give identical fired sets every burst."""
    fx = load_fixture(path)
    name = path.name.split(".")[0]
    fixed_model, fixed, _ = run_fixture(fx, "fixed")
    assert fixed_model.report["lossless"] == (name not in LOSSY_GENOMES)
    if name in LOSSY_GENOMES:
        return
    _, flt, _ = run_fixture(fx, "float")
    assert fixed.burst_crc == flt.burst_crc
