"""Long mutation-fuzzing run (issue 12): mutated genomes and stimuli through load, develop,
quantize, the twin and the ESP32 build, every case in a forked child under RLIMIT_AS = 2 GB and a
10 s limit (``tests/fuzz_inputs.py``). Prints and optionally writes (``--json``) the case counts per
mutation class and outcome, the failures (with their case, to reproduce) and the time.

    python bench/bench_fuzz.py --genomes 10000 --stimuli 5000 --workers 2 --json fuzz.json

A failure is a traceback, a message that is not one line naming the file, a kill, a MemoryError
under the cap or a run over 10 s. Exit status 1 when any failure occurred.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import random
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import fuzz_inputs as fz  # noqa: E402

STIM_GENOMES = ("essential_genome", "test_timer", "webots_pioneer2", "webots_basic")


def _cases(kind: str, n: int, seed: int):
    rng = random.Random(f"{kind}-{seed}")
    genomes = fz.all_genomes()
    for i in range(n):
        k = rng.choice([1, 1, 1, 2, 3])
        if kind == "genome":
            yield i, rng.choice(genomes), tuple(rng.sample(fz.GENOME_OPS, k)), rng.randrange(2**32)
        else:
            yield i, rng.choice(STIM_GENOMES), tuple(rng.sample(fz.STIMULUS_OPS, k)), \
                rng.randrange(2**32)


_WARM = False


def _one(args):
    """Worker: run one case in a forked child of this (warm) worker process."""
    global _WARM
    if not _WARM:
        fz.warm_up()
        for g in STIM_GENOMES:
            fz.stimulus_model(g)
        _WARM = True
    kind, i, name, ops, seed = args
    if kind == "genome":
        res = fz.run_isolated(fz.genome_pipeline(fz.mutate_genome(name, ops, seed)))
    else:
        model = fz.stimulus_model(name)
        res = fz.run_isolated(fz.stimulus_pipeline(model, fz.mutate_stimulus(model, ops, seed),
                                                   build_bursts=bool(seed % 2)))
    return kind, i, name, ops, seed, res["outcome"], res["detail"][-1500:], res["seconds"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--genomes", type=int, default=10_000)
    ap.add_argument("--stimuli", type=int, default=5_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", type=Path, default=None, help="write the summary here")
    a = ap.parse_args()
    jobs = [("genome", *c) for c in _cases("genome", a.genomes, a.seed)]
    jobs += [("stimulus", *c) for c in _cases("stimulus", a.stimuli, a.seed)]
    t0 = time.time()
    by_kind = collections.defaultdict(collections.Counter)
    by_class = collections.defaultdict(collections.Counter)
    failures, slowest = [], 0.0
    with ProcessPoolExecutor(a.workers) as ex:
        for n, (kind, i, name, ops, seed, outcome, detail, secs) in enumerate(
                ex.map(_one, jobs, chunksize=16), 1):
            by_kind[kind][outcome] += 1
            for op in ops:
                by_class[f"{kind}:{op}"][outcome] += 1
            slowest = max(slowest, secs)
            if outcome in fz.FAILURES:
                failures.append({"kind": kind, "genome": name, "ops": list(ops), "seed": seed,
                                 "outcome": outcome, "detail": detail})
            if n % 1000 == 0:
                print(f"{n}/{len(jobs)} cases, {time.time() - t0:.0f} s, "
                      f"{len(failures)} failures", file=sys.stderr, flush=True)
    wall = time.time() - t0
    summary = {
        "date": time.strftime("%Y-%m-%d", time.gmtime()), "machine": platform.node(),
        "cpu": platform.processor() or platform.machine(), "workers": a.workers,
        "seed": a.seed, "command": " ".join(sys.argv), "wall_s": round(wall, 1),
        "slowest_case_s": round(slowest, 2), "memory_cap_bytes": fz.MEMORY_CAP,
        "timeout_s": fz.TIMEOUT_S, "limits": fz.FUZZ_LIMITS,
        "outcomes": {k: dict(v) for k, v in by_kind.items()},
        "classes": {k: dict(v) for k, v in sorted(by_class.items())},
        "failures": failures[:200], "n_failures": len(failures)}
    print(json.dumps({k: v for k, v in summary.items() if k != "failures"}, indent=1))
    for f in failures[:20]:
        print(json.dumps(f)[:2000])
    if a.json:
        a.json.write_text(json.dumps(summary, indent=1))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
