#!/usr/bin/env python3
"""Large synthetic models on the CUDA twin, bit-exact with the numba twin on sampled bursts
(issue 15): 10 M neurons / 1 B synapses, and a model above 2^32 synapses (64-bit CSR offsets).

Per model (``bench_twin.synthetic_model``: one custom area, uniform fan-out, large-brain reset; the
arrays generated vectorised, ``syn_w`` left untouched): every burst force-fires a fresh seeded
random ``--activity`` of the area (``bench_twin.Precompiled.random_force``). The numba twin
(``threads=1``: no row-sorted copy of the synapses) runs ``2 × --bursts`` bursts; the CUDA twin
runs the first ``--bursts`` recording the fired ids (compared id for id with numba) and the next
``--bursts`` digest-only and timed (compared digest for digest). Both end with the state digest.
Prints build, upload and per-burst times.

Example::

    python3 bench/bench_gpu_big.py --models 10000000x100 33554432x130 --json-out big.json
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_twin as bt  # noqa: E402

from feagi_embed.host.twin import Twin  # noqa: E402


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def one(n: int, fanout: int, act: float, bursts: int, seed: int, mode: str = "fixed") -> dict:
    from feagi_embed.host.gpu.cuda import CudaTwin

    t0 = time.perf_counter()
    model = bt.synthetic_model(n, fanout, seed=seed)
    if mode == "float":
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
        from tests.gpu_models import with_f32

        model = with_f32(model)
    build = time.perf_counter() - t0
    s = model.n_synapses
    area = len(model.areas.ids) - 1
    k = max(1, int(round(act * n)))
    pre = bt.Precompiled.random_force(model, area, k, 2 * bursts + 1, seed)
    log(f"{n:,} neurons, {s:,} synapses ({s / 2**32:.2f} x 2^32): built in {build:.1f} s")
    t0 = time.perf_counter()
    ref = Twin(model, mode, threads=1)
    ra = ref.run(bursts, pre)
    rb = ref.run(bursts, pre)
    numba_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    tw = CudaTwin(model, mode)
    upload = time.perf_counter() - t0
    ga = tw.run(bursts, pre)
    tw.sync()
    t0 = time.perf_counter()
    gb = tw.run(bursts, pre, record=False)
    wall = (time.perf_counter() - t0) / bursts
    ids_equal = all(np.array_equal(a, b) for a, b in zip(ra.fired, ga.fired))
    equal = (ids_equal and ga.burst_crc == ra.burst_crc and gb.burst_crc == rb.burst_crc
             and ga.state_crc == ra.state_crc and gb.state_crc == rb.state_crc)
    fired = float(np.mean([len(f) for f in ra.fired]))
    r = {"mode": mode, "neurons": model.n_neurons, "synapses": s, "above_2_32": s >= 2**32, "fanout": fanout,
         "activity": act, "bursts_compared": 2 * bursts, "fired_ids_compared_bursts": bursts,
         "equal_numba": equal, "fired_per_burst": fired, "build_s": build,
         "cuda_upload_s": upload, "numba_s_per_burst": numba_s / (2 * bursts),
         "cuda_wall_us_per_burst": 1e6 * wall}
    log(f"  [{mode}] numba {r['numba_s_per_burst']:.3f} s/burst, CUDA upload {upload:.1f} s, "
        f"CUDA wall {r['cuda_wall_us_per_burst']:.0f} us/burst, fired/burst {fired:.0f}, "
        f"equal numba over {2 * bursts} bursts (ids on {bursts}) = {equal}")
    del tw, ref, model, pre
    gc.collect()
    import cupy as cp

    cp.get_default_memory_pool().free_all_blocks()
    return r


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["10000000x100", "33554432x130"],
                    help="NEURONSxFANOUT")
    ap.add_argument("--fp32-models", nargs="*", default=[],
                    help="NEURONSxFANOUT run in precision 'float' (f32 arrays derived)")
    ap.add_argument("--activity", type=float, default=0.01)
    ap.add_argument("--bursts", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json-out")
    args = ap.parse_args(argv)
    rows = []
    for spec in args.models:
        n, f = (int(x) for x in spec.lower().split("x"))
        rows.append(one(n, f, args.activity, args.bursts, args.seed))
    for spec in args.fp32_models:
        n, f = (int(x) for x in spec.lower().split("x"))
        rows.append(one(n, f, args.activity, args.bursts, args.seed, "float"))
    if args.json_out:
        with open(args.json_out, "w") as fh:
            json.dump({"tool": "bench/bench_gpu_big.py", "argv": sys.argv[1:] if argv is None
                       else argv, "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                       "python": platform.python_version(), "results": rows}, fh, indent=1)
    if not all(r["equal_numba"] for r in rows):
        raise SystemExit("a CUDA trace differs from the numba twin's")


if __name__ == "__main__":
    main()
