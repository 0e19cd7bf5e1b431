#!/usr/bin/env python3
"""Interleaved A/B of a previous numba twin kernel against this checkout's, for noisy shared
machines: per thread count T, both twins run ``run(4)`` in turn for REPS rounds on
``bench_twin.synthetic_model(N, 100)`` with a fresh random force-fire of ACT each burst. Prints,
per (activity, kernel, T), the minimum and median wall time and the minimum process CPU time per
burst (all threads together, so with ``OMP_WAIT_POLICY=PASSIVE`` it is the work done), and whether
the burst digests equal those of the previous kernel at the first T.

Usage (the previous package made as in bench_kernel_ab.py)::

    OMP_WAIT_POLICY=PASSIVE python3 bench/bench_kernel_interleaved.py /tmp/basepkg 1000000 1,2,16 0.1,0.01 7
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_speed as bs  # noqa: E402
import bench_twin as bt  # noqa: E402
from feagi_embed.host.twin import Twin  # noqa: E402
sys.path.insert(0, sys.argv[1])
from feagi_base.host.twin import Twin as Prev  # noqa: E402
N = int(sys.argv[2]); threads = [int(x) for x in sys.argv[3].split(",")]
acts = [float(x) for x in sys.argv[4].split(",")]
reps = int(sys.argv[5]) if len(sys.argv) > 5 else 5
B = 4
model = bt.synthetic_model(N, 100, seed=1)
for act in acts:
    pre = bs.fresh_force(model, len(model.areas.ids) - 1, act, 2 + reps * B + 2, 1)
    twins = {}
    for T in threads:
        for name, cls in (("prev", Prev), ("this", Twin)):
            tw = cls(model, threads=T)
            tr = tw.run(2, pre, final_state=False)
            twins[(name, T)] = [tw, list(tr.burst_crc), [], []]
    for r in range(reps):
        for key, rec in twins.items():
            tw = rec[0]
            c0, t0 = time.process_time(), time.perf_counter()
            tr = tw.run(B, pre, final_state=False)
            t1, c1 = time.perf_counter(), time.process_time()
            rec[1] += tr.burst_crc; rec[2].append((t1 - t0) / B * 1e6); rec[3].append((c1 - c0) / B * 1e6)
    ref = twins[("prev", threads[0])][1]
    for key, rec in twins.items():
        print(json.dumps({"act": act, "kernel": key[0], "T": key[1], "wall_min_us": round(min(rec[2])),
                          "wall_med_us": round(sorted(rec[2])[len(rec[2])//2]), "cpu_min_us": round(min(rec[3])),
                          "equal": rec[1] == ref}), flush=True)
    del twins
