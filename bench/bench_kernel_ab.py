#!/usr/bin/env python3
"""The numba kernel of this checkout against a previous one, side by side in one process, on
``bench_twin.synthetic_model`` (1 M neurons, fan-out 100, 100 M synapses) with a fresh seeded
random 10 % / 1 % force-fire every burst: for each ``--threads`` T (default 1: the single-thread
kernel; T > 1: the parallel kernel over T neuron ranges), median wall per burst of 3 ``run(6)``
calls after 2 warm-up bursts, synaptic events per second (and per thread), the speed-up, and
whether the burst digests of both kernels are equal (20 bursts).

The previous kernel is imported as the package ``feagi_base`` from ``--previous DIR``; make it from
any commit with::

    git worktree add /tmp/prev 4c115bb
    mkdir -p /tmp/basepkg && cp -r /tmp/prev/feagi_embed /tmp/basepkg/feagi_base
    cp -r /tmp/prev/host /tmp/basepkg/feagi_base/host

Example::

    python3 bench/bench_kernel_ab.py --previous /tmp/basepkg --json-out bench/results/ab.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_speed as bs  # noqa: E402
import bench_twin as bt  # noqa: E402

from feagi_embed.host.twin import Twin  # noqa: E402


def measure(cls, model, pre, bursts: int, reps: int, threads: int = 1):
    """(µs per burst median, burst digests) of a fresh twin of ``cls`` on ``threads``."""
    tw = cls(model, threads=threads)
    tr = tw.run(2, pre, final_state=False)
    crc, walls = list(tr.burst_crc), []
    for _ in range(reps):
        t0 = time.perf_counter()
        tr = tw.run(bursts, pre, final_state=False)
        walls.append(time.perf_counter() - t0)
        crc += tr.burst_crc
    return 1e6 * statistics.median(walls) / bursts, crc, tr


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--previous", required=True, help="folder holding the feagi_base package")
    ap.add_argument("--neurons", type=int, default=1_000_000)
    ap.add_argument("--activity", type=float, nargs="+", default=[0.10, 0.01])
    ap.add_argument("--bursts", type=int, default=6)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, nargs="+", default=[1])
    ap.add_argument("--json-out")
    args = ap.parse_args(argv)
    sys.path.insert(0, args.previous)
    from feagi_base.host.twin import Twin as PreviousTwin

    model = bt.synthetic_model(args.neurons, 100, seed=1)
    rows = []
    for act in args.activity:
        pre = bs.fresh_force(model, len(model.areas.ids) - 1, act, 2 + args.reps * args.bursts, 1)
        for T in args.threads:
            prev_us, prev_crc, _ = measure(PreviousTwin, model, pre, args.bursts, args.reps, T)
            this_us, this_crc, tr = measure(Twin, model, pre, args.bursts, args.reps, T)
            ev = float(bs.events_of(model, tr.fired)[1:].mean())
            r = {"activity": act, "threads": T, "previous_us_per_burst": prev_us,
                 "this_us_per_burst": this_us, "speedup": prev_us / this_us,
                 "syn_events_per_burst": ev, "previous_syn_events_per_s": ev / (prev_us * 1e-6),
                 "this_syn_events_per_s": ev / (this_us * 1e-6),
                 "equal_digests": prev_crc == this_crc, "bursts_compared": len(this_crc)}
            rows.append(r)
            print(json.dumps(r), flush=True)
    if args.json_out:
        with open(args.json_out, "w") as fh:
            json.dump({"tool": "bench/bench_kernel_ab.py", "argv": sys.argv[1:] if argv is None
                       else argv, "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                       "machine": bt.machine_info(), "results": rows}, fh, indent=1)


if __name__ == "__main__":
    main()
