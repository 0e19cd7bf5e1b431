#!/usr/bin/env python3
"""Wall time of ``feagi-embed sweep`` with 1 and 2 Dask workers, per-task overhead, wire sizes.

One run measures, on this machine:

1. the CI sweep of ``tests/test_sweep.py`` (every bundled genome x every board x 3 seeded stimuli x
   twin, native C, esp32c3 in QEMU; 12 bursts, state digest every 4) on a ``LocalCluster`` of 1
   and then 2 single-threaded worker processes, each from cold caches (no result cache; the
   per-host object cache ``<cache>/sweep-cc`` emptied first), cluster start-up excluded; the
   ratio of the two wall times is the speed-up;
2. Dask's per-task overhead on the 2-worker cluster: 1,000 no-op tasks submitted at once (wall /
   tasks), and the round trip of one task submitted and awaited alone (median of 50);
3. what each task sends over the wire: pickle protocol 5 sizes (what ``distributed`` sends for
   these Python objects) of the scattered model, the reference trace, the project (generated C),
   the object files and a cell result, per genome (min / median / max over genomes) and in total
   for the sweep.

Usage::

    python bench/bench_sweep.py [--quick] [--out bench/results/sweep.json]

``--quick``: 4 genomes x 4 boards (for trying the script). Results as JSON plus a markdown summary
on stdout (copied into docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BURSTS, STATE_EVERY = 12, 4


def noop(x):
    return x


def _cpu() -> float:
    """CPU seconds of this process and its finished children (gcc, QEMU, simavr)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def make_sweep(quick: bool):
    from feagi_embed.boards import list_boards
    from feagi_embed.cli import bundled_genomes, resolve_genome_path
    from feagi_embed.sweep import (
        GenomeSpec,
        ResultCache,
        Sweep,
        parse_executors,
        parse_stimuli,
    )

    genomes = bundled_genomes()
    boards = list_boards()
    if quick:
        genomes = ["test_timer", "essential_genome", "webots_basic", "vision_genome"]
        boards = ["native", "esp32c3", "uno", "esp32"]
    specs = [GenomeSpec(g, resolve_genome_path(g)) for g in genomes]
    return Sweep(specs, boards, parse_stimuli(["3"]),
                 parse_executors(["twin,native", "emulator:esp32c3"]), bursts=BURSTS,
                 state_every=STATE_EVERY, cache=ResultCache(None))


def timed_sweep(workers: int, quick: bool):
    from feagi_embed.sweep import DaskRunner, comparable
    from feagi_embed.targets.emulators import cache_dir

    shutil.rmtree(cache_dir() / "sweep-cc", ignore_errors=True)
    runner = DaskRunner(workers=workers)
    try:
        w0 = runner.client.run(_cpu)
        c0 = time.process_time()
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        res = make_sweep(quick).run(runner)
        wall = time.perf_counter() - t0
        w1 = runner.client.run(_cpu)
        extra = {"cpu_s": {"client_and_scheduler": round(time.process_time() - c0, 2),
                           "workers_with_children": round(sum(w1[k] - w0[k] for k in w1), 2)},
                 "load_avg_1m_before": load0}
        if workers == 2:
            extra.update(task_overhead(runner.client))
    finally:
        runner.close()
    return wall, res, [comparable(c) for c in res.cells], extra


def task_overhead(client) -> dict:
    n = 1000
    client.submit(noop, -1, pure=False).result()
    t0 = time.perf_counter()
    futs = [client.submit(noop, i, pure=False) for i in range(n)]
    client.gather(futs)
    bulk = (time.perf_counter() - t0) / n
    rt = []
    for i in range(50):
        t0 = time.perf_counter()
        client.submit(noop, i, pure=False).result()
        rt.append(time.perf_counter() - t0)
    return {"noop_tasks": n, "bulk_s_per_task": bulk, "round_trip_s_median": statistics.median(rt)}


def wire_sizes(quick: bool) -> dict:
    from feagi_embed.errors import FeagiEmbedError
    from feagi_embed.sweep import (
        cell_task,
        compile_task,
        load_model,
        project_task,
        reference_task,
    )

    sw = make_sweep(quick)
    per: dict[str, list[int]] = {k: [] for k in ("model", "stimulus", "reference", "project",
                                                 "objects_native", "objects_esp32c3", "cell")}
    totals = dict.fromkeys(per, 0)
    n_boards = len(sw.boards)
    for g in sw.genomes:
        try:
            m = load_model(g.path)
        except FeagiEmbedError:
            continue
        stims = [s.make(m, BURSTS) for s in sw.stimuli]
        ref = reference_task(m, stims[0], BURSTS, STATE_EVERY)
        proj = project_task(m, "esp32c3", stims, BURSTS, STATE_EVERY)
        on = compile_task(proj, "native")
        oe = compile_task(proj, "esp32c3")
        cell = cell_task({"genome": g.name, "board": "esp32c3", "stimulus": "seed0",
                          "executor": "emulator"}, m, proj, oe, ref, 0)
        sizes = {"model": m, "stimulus": stims[0], "reference": ref, "project": proj,
                 "objects_native": on, "objects_esp32c3": oe, "cell": cell}
        for k, v in sizes.items():
            per[k].append(len(pickle.dumps(v, protocol=5)))
        # sweep totals: model once per genome (scatter), ref per stimulus, project per board,
        # objects per board cell target, a result per cell (esp32c3 sizes stand for every board)
        totals["model"] += per["model"][-1]
        totals["stimulus"] += 3 * per["stimulus"][-1]
        totals["reference"] += 3 * per["reference"][-1]
        totals["project"] += n_boards * per["project"][-1]
        totals["objects_native"] += n_boards * per["objects_native"][-1]
        totals["objects_esp32c3"] += per["objects_esp32c3"][-1]
        totals["cell"] += 3 * (n_boards + 2) * per["cell"][-1]
    return {"per_genome": {k: {"min": min(v), "median": int(statistics.median(v)), "max": max(v)}
                           for k, v in per.items() if v},
            "sweep_upper_bound_bytes": totals}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "sweep.json"))
    a = ap.parse_args()
    w1, r1, c1, one = timed_sweep(1, a.quick)
    w2, r2, c2, over = timed_sweep(2, a.quick)
    assert c1 == c2, "1-worker and 2-worker sweeps differ"
    task_s = sum(c.get("seconds") or 0 for c in r2.cells)
    doc = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version(), "load_avg_1m": os.getloadavg()[0]},
        "command": "python bench/bench_sweep.py" + (" --quick" if a.quick else ""),
        "cells": len(r2.cells), "computed": r2.computed, "bursts": BURSTS,
        "wall_s": {"1_worker": round(w1, 2), "2_workers": round(w2, 2)},
        "speedup_2_over_1": round(w1 / w2, 3),
        "cell_task_seconds_sum": round(task_s, 2),
        "cpu_1_worker": one,
        "overhead": over,
        "wire": wire_sizes(a.quick),
    }
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(doc, indent=1))
    print(json.dumps(doc, indent=1))
    print(f"\n| workers | wall (s) |\n|---|---|\n| 1 | {w1:.1f} |\n| 2 | {w2:.1f} |\n"
          f"speed-up {w1 / w2:.2f}x; per no-op task {over['bulk_s_per_task'] * 1e3:.2f} ms in bulk, "
          f"{over['round_trip_s_median'] * 1e3:.2f} ms round trip")


if __name__ == "__main__":
    main()
