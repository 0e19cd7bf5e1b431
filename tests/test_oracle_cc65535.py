"""The consecutive fire count of unlimited areas at 65,535 fires, against the real FEAGI engine.

Independent expectation: ``tests/fixtures/oracle/unlimited_cc65535.json.gz``, recorded from the
release engine (``feagi 0.0.67``, PyPI feagi-core==2.6.10) by
``tests/fixtures/oracle/record_cc65535.py`` over 70,000 bursts: the fired set (with the membrane
potential at firing) and the live ``(V, refractory countdown, consecutive count)`` of every custom
neuron, burst by burst in the windows around bursts 1, 1,000, 30,000, 65,535 and 70,000.

What the engine shows (docs/model.md §2 "Counters", §3 steps 6e-6g): a neuron of an unlimited
area (limit 0, stored as 65535, or 65535 itself) counts every fire up to 65535 (u16, never reset
by a non-firing evaluation), is then blocked once with its count reset to 0, and fires again;
the power neuron itself (limit 0) misses burst 65,536. The numba twin (fixed point and the f32
reference) must reproduce every recorded burst, and the native C runtime must equal the twin on all
70,000 bursts. (The 2-thread twin is left out: 70,000 bursts of thread barriers take over a minute
on a loaded 2-core machine; tests/test_twin_par.py pins it to the serial kernel.)
"""

from __future__ import annotations

import gzip
import json
from functools import lru_cache

import numpy as np
import pytest

from feagi_embed.connectome import develop
from feagi_embed.genome import load_genome
from feagi_embed.host.twin import Twin
from feagi_embed.quantize import quantize

from .conftest import FIXTURES, require

FIXTURE = FIXTURES / "oracle" / "unlimited_cc65535.json.gz"


@lru_cache(maxsize=None)
def fixture() -> dict:
    with gzip.open(FIXTURE, "rt") as f:
        return json.load(f)


@lru_cache(maxsize=None)
def model():
    fx = fixture()
    return quantize(develop(load_genome(fx["genome"], name=fx["name"])))


def watch_ids(m, keys: list[str]) -> np.ndarray:
    """Neuron ids of ``<area_b64>:x,y,z:k`` keys (1-neuron areas here: the area's first id)."""
    out = []
    for key in keys:
        area_b64, xyz, k = key.split(":")
        assert xyz == "0,0,0" and k == "0", key
        out.append(int(m.area_first[m.areas.ids.index(area_b64)]))
    return np.array(out, np.int64)


def twin_windows(mode: str, threads: int) -> dict[int, tuple[dict, dict]]:
    """Run the twin through every recorded window; per recorded burst ``(fired, watch)`` keyed
    like the fixture (fired: ``(area_b64, x, y, z) -> V at fire``, watch: key -> (V, cd, cc))."""
    fx, m = fixture(), model()
    scale = float(1 << m.frac_bits) if mode == "fixed" else 1.0
    keys = sorted(fx["bursts"][0]["watch"])
    ids = watch_ids(m, keys)
    recorded = [b["burst"] for b in fx["bursts"]]
    twin = Twin(m, mode, threads=threads)
    out = {}
    i = 0
    while i < len(recorded):
        b = recorded[i]
        if twin.burst < b - 1:
            twin.run(b - 1 - twin.burst, final_state=False)
        j = i
        while j + 1 < len(recorded) and recorded[j + 1] == recorded[j] + 1:
            j += 1
        tr = twin.run(recorded[j] - twin.burst, watch=ids, final_state=False)
        for n in range(j - i + 1):
            area, x, y, z, _ = m.neuron_coords(tr.fired[n])
            fired = {(m.areas.ids[a], xx, yy, zz): v / scale for a, xx, yy, zz, v in
                     zip(area.tolist(), x.tolist(), y.tolist(), z.tolist(), tr.fired_v[n].tolist())}
            watch = {k: (tr.watch[n][q][0] / scale, int(tr.watch[n][q][1]), int(tr.watch[n][q][2]))
                     for q, k in enumerate(keys)}
            out[recorded[i + n]] = (fired, watch)
        i = j + 1
    assert twin.burst == fx["bursts_total"]
    return out


def test_fixture_is_the_70000_burst_engine_recording():
    fx = fixture()
    assert fx["bursts_total"] == 70000 and fx["engine"]["feagi"] is not None
    assert all(d["identical_by_coord"] for d in fx["determinism"]) and fx["determinism"]
    assert not any(fx["integrity"].values())
    recorded = {b["burst"] for b in fx["bursts"]}
    for first, last in fx["windows"]:
        assert set(range(first, last + 1)) <= recorded, (first, last)
    # the engine stores limit 0 as 65535 (its "unlimited" encoding), 65534 as is
    limits = {a["name"]: a["neuron_props"]["consecutive_fire_limit"]
              for a in fx["areas"].values() if "neuron_props" in a}
    assert limits == {"Brain_Power": 65535, "cunl00": 65535, "cunl65": 65535, "cfin64": 65534,
                      "cbeat1": 65535, "cgapd1": 65535}


@pytest.mark.parametrize("mode,threads", [("fixed", 1), ("float", 1)])
def test_twin_reproduces_engine_around_65535_consecutive_fires(mode, threads):
    fx, m = fixture(), model()
    ours = twin_windows(mode, threads)
    for b in fx["bursts"]:
        fired, watch = ours[b["burst"]]
        theirs = {(r[0], r[1], r[2], r[3]): r[4] for r in b["fired"]}
        assert set(fired) == set(theirs), (
            f"burst {b['burst']}: engine-only {sorted(set(theirs) - set(fired))}, "
            f"twin-only {sorted(set(fired) - set(theirs))}")
        for key, mp in theirs.items():  # all values are whole numbers: exact in both modes
            assert np.float32(fired[key]) == np.float32(mp), (b["burst"], key, fired[key], mp)
        for key, (mp, cd, cc) in b["watch"].items():
            assert watch[key] == (mp, cd, cc), (
                f"burst {b['burst']} {key}: twin V/cd/cc {watch[key]}, engine {(mp, cd, cc)}")
    assert m.report["lossless"]


def test_not_fired_bursts_are_the_documented_65535_blocks():
    """The fixture's non-firing bursts, read against docs/model.md by hand: power fires on every
    burst b <= 65535 (count b), so step 6e blocks it at 65536 (count 65535 >= L = 65535); the
    power-fed unlimited areas fire on bursts 2..65536 (65535 fires), get no input at 65537 (power
    silent) and are blocked at 65538; the finite limit 65534 blocks at its 65535th input (65536);
    cgapd1 misses every burst after a cbeat1 fire (1002, 30002, ...), which does not reset its
    count (step 6g, unlimited), so its 65535th fire falls on 65602 and 65603 is blocked."""
    nf = {fixture()["areas"][k]["name"]: v for k, v in fixture()["not_fired"].items()}
    assert nf["Brain_Power"] == [65536]
    assert nf["cunl00"] == nf["cunl65"] == [1, 65537, 65538]
    assert nf["cfin64"] == [1, 65536, 65537]
    # 65 cbeat1 fires (bursts 1001 + 1000k) before 65537 -> 65 misses + burst 1 + power's gap
    # (bursts 2..65602 less 65 cbeat1 gaps 1002..65002 and 65537: 65535 fires)
    assert nf["cgapd1"] == [1, 1002, 30002, 65537, 65603]


def test_c_runtime_native_equals_twin_over_70000_bursts(tmp_path):
    """The C runtime (host gcc) on the same genome for all 70,000 bursts: every burst digest and a
    state digest (V, cd, cc) every 500 bursts equal the twin's, so the C layout's 16-bit count of
    the unlimited areas blocks at 65535 exactly like the engine (bursts 65,536-65,603)."""
    from .test_firmware_native import GCC, assert_same_as_twin, build_and_run
    from feagi_embed.stimulus import Stimulus

    require([] if GCC else ["gcc"], "native C runtime")
    m, n = model(), fixture()["bursts_total"]
    text = build_and_run(m, Stimulus(), tmp_path, bursts=n, state_every=500, genome=FIXTURE.name)
    assert_same_as_twin(m, Stimulus(), text, bursts=n, state_every=500)
