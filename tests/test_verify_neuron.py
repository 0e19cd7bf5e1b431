"""`feagi-embed verify` names the first differing neuron (docs/model.md §4), not only the burst.

The generated main prints the fired ids of each burst ("I <b> id ...") when built with
-DFEAGI_TRACE_IDS, next to the unchanged B/S/E lines. Independent expectations: the numba twin's
fired sets, and neuron ids built by hand from (area, x, y, z, k) with the canonical order of
docs/model.md §1 (x-major voxels, k fastest).
"""

from __future__ import annotations

import dataclasses
import gzip
import json

from feagi_embed.host.twin import Twin, burst_digest

from feagi_embed import targets
from feagi_embed.build import build_project
from feagi_embed.executors import Firmware
from feagi_embed.trace import (compare_digests, describe_divergence, first_differing_neuron,
                               parse_fired_ids, parse_protocol)
from feagi_embed.verify import verify
from feagi_embed.connectome import develop
from feagi_embed.genome import load_genome
from feagi_embed.quantize import quantize
from feagi_embed.stimulus import Stimulus

from .conftest import FIXTURES, GENOMES
from .test_targets import runnable

GENOME = "webots_pioneer2"
BURSTS = 40


def _setup():
    with gzip.open(FIXTURES / "traces" / f"{GENOME}.json.gz", "rt") as f:
        stim = Stimulus.from_json(json.load(f)["stimulus"])
    model = quantize(develop(load_genome(GENOMES / f"{GENOME}.json")))
    return model, stim, Twin(model).run(BURSTS, stim, state_every=10)


def neuron_id(model, area_gid: str, x: int, y: int, z: int, k: int) -> int:
    """Canonical id from coordinates, by hand: first id of the area + voxel index (x-major) * npv + k."""
    a = model.areas.genome_ids.index(area_gid)
    _, h, d = model.areas.dims[a]
    return int(model.area_first[a]) + ((x * h + y) * d + z) * model.areas.npv[a] + k


def tamper(text: str, burst: int, ids: list[int]) -> str:
    """Rewrite burst ``burst``'s B line (and I line, if any) as a target that fired ``ids``."""
    out = []
    for line in text.splitlines():
        f = line.split()
        if f and f[0] == "B" and int(f[1]) == burst:
            line = f"B {burst} {len(ids)} {burst_digest(burst, ids):08x}"
        elif f and f[0] == "I" and int(f[1]) == burst:
            line = " ".join(["I", str(burst)] + [str(i) for i in ids])
        out.append(line)
    return "\n".join(out) + "\n"


def test_trace_ids_build_prints_the_twins_fired_sets(tmp_path):
    runnable("native")
    model, stim, ref = _setup()
    proj = build_project(model, "native", tmp_path / "p", stimulus=stim, bursts=BURSTS, state_every=10).out_dir
    lib = proj / "lib" / "feagi_runtime" / "src"
    r = targets.run_on_target("native", [proj / "src", lib], [proj / "include", lib],
                              defines={"FEAGI_TRACE_IDS": None}, out_dir=tmp_path / "b",
                              extra_cflags=["-Werror", "-pedantic"])
    assert r.exit_code == 0
    ids = parse_fired_ids(r.stdout)
    assert sorted(ids) == list(range(1, BURSTS + 1))
    assert all(ids[b + 1] == ref.fired[b].tolist() for b in range(BURSTS))
    got_b, got_s, _ = parse_protocol(r.stdout)  # B/S/E lines are unchanged by the I lines
    assert got_b == ref.burst_crc and got_s == ref.state_crc


def test_tampered_target_output_names_burst_and_neuron():
    model, _, ref = _setup()
    b = next(i + 1 for i, f in enumerate(ref.fired) if len(f) > 0 and i > 5)
    extra = neuron_id(model, model.areas.genome_ids[-1], 0, 0, 0, 0)  # the last area's first neuron
    fired = sorted(set(ref.fired[b - 1].tolist()) | {extra})
    assert extra not in ref.fired[b - 1].tolist()
    lines = [f"B {i + 1} {len(f)} {c:08x}" for i, (f, c) in enumerate(zip(ref.fired, ref.burst_crc))]
    lines += [" ".join(["I", str(i + 1)] + [str(x) for x in f.tolist()]) for i, f in enumerate(ref.fired)]
    text = tamper("\n".join(lines), b, fired)
    got_b, _, _ = parse_protocol(text)
    eq, first = compare_digests(ref, got_b, {})
    assert not eq and first == {"burst": b, "what": "burst digest"}
    # the only differing id is the added one
    n = first_differing_neuron(model, ref, parse_fired_ids(text), b)
    a = len(model.areas.genome_ids) - 1
    assert n["id"] == extra and n["area"] == model.areas.genome_ids[a]
    assert (n["x"], n["y"], n["z"], n["k"]) == (0, 0, 0, 0)
    assert n["twin_fired"] is False and n["target_fired"] is True
    # a neuron the twin fired and the target dropped, with non-zero coordinates
    drop = int(ref.fired[b - 1][-1])
    n2 = first_differing_neuron(model, ref, {b: [i for i in ref.fired[b - 1].tolist() if i != drop]}, b)
    assert n2["id"] == drop and n2["twin_fired"] and not n2["target_fired"]
    assert neuron_id(model, n2["area"], n2["x"], n2["y"], n2["z"], n2["k"]) == drop
    assert f"neuron {drop} = {n2['area']}" in describe_divergence(dict(first, neuron=n2))


def test_verify_reruns_a_diverging_target_and_names_the_neuron(tmp_path, monkeypatch):
    runnable("native")
    model, stim, ref = _setup()
    b = next(i + 1 for i, f in enumerate(ref.fired) if len(f) > 1 and i > 5)
    drop = int(ref.fired[b - 1][0])
    bad = [i for i in ref.fired[b - 1].tolist() if i != drop]
    real = targets.run_on_target
    calls = []

    def corrupted(board, *a, **kw):  # a target that loses one fired neuron in burst b
        res = real(board, *a, **kw)
        calls.append(kw.get("defines"))
        return dataclasses.replace(res, run=dataclasses.replace(res.run, stdout=tamper(res.run.stdout, b, bad)))

    monkeypatch.setattr(targets, "run_on_target", corrupted)
    rows = verify(model, [Firmware("native", "native", tmp_path)], stim, BURSTS, state_every=10)
    native = next(r for r in rows if r["name"].startswith("native"))
    assert native["equal"] is False
    fd = native["first_divergence"]
    assert fd["burst"] == b and fd["what"] == "burst digest"
    assert fd["neuron"]["id"] == drop and fd["neuron"]["twin_fired"] and not fd["neuron"]["target_fired"]
    assert neuron_id(model, fd["neuron"]["area"], fd["neuron"]["x"], fd["neuron"]["y"], fd["neuron"]["z"],
                     fd["neuron"]["k"]) == drop
    assert calls == [None, {"FEAGI_TRACE_IDS": None}]  # the diagnostic re-run
