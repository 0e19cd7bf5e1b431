#!/usr/bin/env python3
"""Burst latency and synaptic events/s of the GPU twins (CUDA, WGPU) against the numba twin.

Workloads
---------
* ``synthetic``: ``bench_twin.synthetic_model`` — 1,000,007 neurons, fan-out 100 (100 M synapses),
  large-brain reset path; every burst force-fires a seeded random 1 % (10 k) or 10 % (100 k) of the
  custom area (16 distinct sets, cycled). Written as a :class:`~feagi_embed.stimulus.Stimulus`
  (entries built directly, without the JSON validator: 100 k voxels per burst) and compiled by
  ``Stimulus.compile`` inside ``run`` like any schedule.
* genomes (``--genome``): load → develop → quantize; ``idle`` (no stimulus) and ``active`` (force
  5 % of the voxels of every non-core area with outgoing synapses every burst,
  ``bench_twin.genome_stimulus``).

Timing
------
Per backend, one twin: a warm-up run (compilation, CUDA graph capture, first schedule compile),
then ``--reps`` timed ``run(N)`` calls continuing the same state (``state_every=0``: one device
state digest at the end of each call). GPU backends run with ``record=False`` (the device computes
the burst digests; no fired ids cross to the host) and once more with ``record=True`` (full trace
copied back) — both reported. ``wall`` is the host wall time of ``run`` (stimulus packing and
upload, launches, read-back); ``device`` (CUDA) is the CUDA-event time of the graph launches.
Every backend's per-burst digests must equal the numba twin's over the bursts both ran (numba runs
first; without numba the rows say ``digests_equal_numba: null``, "not compared"). The "with trace"
figures follow one untimed ``record=True`` call that captures that batch shape's graph.

Bytes (``device_GBps``): a lower bound of the device-memory traffic per burst, from the counts —
8 B per synaptic event (target id + contribution, streamed), 52 B per fire candidate (dynamics and
FCL clear), 32 B per fired neuron (fire queue, CSR offsets), 32 B per bitmap word (4 bitmap-sized
arrays read and written). The accumulator and flag updates of the events (12 B per event, random
access) are reported apart (``device_GBps_with_atomics``): at 1 M neurons they stay in the L2 cache.

Example::

    python3 bench/bench_gpu.py --backends cuda wgpu numba --synthetic --json-out bench/results/gpu.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_twin as bt  # noqa: E402

from feagi_embed.host.gpu import backends  # noqa: E402
from feagi_embed.stimulus import Stimulus  # noqa: E402

ANCHORS_US = {"FEAGI estimate (RTX 4090)": 700.0, "GeNN": 500.0, "target": 100.0}


def synthetic_stimulus(model, frac: float, bursts: int, seed: int, sets: int = 16) -> Stimulus:
    """Force-fire ``frac`` of the custom area each burst (``sets`` seeded random sets, cycled)."""
    area = len(model.areas.ids) - 1
    w, h, d = model.areas.dims[area]
    n_area = w * h * d
    k = int(round(frac * n_area))
    rng = np.random.default_rng(seed)
    pool = []
    for _ in range(sets):
        v = np.sort(rng.choice(n_area, size=k, replace=False))
        pool.append(np.stack([v // (h * d), (v // d) % h, v % d], axis=1))
    gid = model.areas.genome_ids[area]
    return Stimulus(tuple({"bursts": [b, b], "area": gid, "voxels": pool[b % sets], "kind": "force"}
                          for b in range(1, bursts + 1)), "<bench_gpu synthetic>")


def run_backend(name, model, stim, warm, bursts, reps, log):
    cls = backends.twin_class(name)
    tw = cls(model)
    kw = {} if name == "numba" else {"record": False}
    t0 = time.perf_counter()
    tr = tw.run(warm, stim, **kw)
    warm_s = time.perf_counter() - t0
    crcs = list(tr.burst_crc)
    walls, devs = [], []
    for _ in range(reps):
        d0 = getattr(tw, "device_s", None)
        t0 = time.perf_counter()
        tr = tw.run(bursts, stim, **kw)
        walls.append(time.perf_counter() - t0)
        if d0 is not None:
            devs.append(tw.device_s - d0)
        crcs += tr.burst_crc
    res = {"backend": name, "warmup_s": warm_s, "bursts": bursts, "reps": reps,
           "wall_s": walls, "wall_us_per_burst": 1e6 * statistics.median(walls) / bursts}
    if devs:
        res["device_s"] = devs
        res["device_us_per_burst"] = 1e6 * statistics.median(devs) / bursts
    trace = None
    if name != "numba":
        # the same number of bursts again, copying every burst's fired ids and V at fire back;
        # one untimed call first captures that batch shape (graph capture stays out of timing)
        crcs += tw.run(bursts, stim).burst_crc
        d0 = getattr(tw, "device_s", None)
        t0 = time.perf_counter()
        trace = tw.run(bursts, stim)
        res["trace_wall_us_per_burst"] = 1e6 * (time.perf_counter() - t0) / bursts
        if d0 is not None:
            res["trace_device_us_per_burst"] = 1e6 * (tw.device_s - d0) / bursts
        crcs += trace.burst_crc
    log(f"    {name:6s} warm {warm_s:6.2f} s  wall {res['wall_us_per_burst']:10.1f} us/burst"
        + (f"  device {res['device_us_per_burst']:8.1f} us/burst" if devs else "")
        + (f"  with trace {res['trace_wall_us_per_burst']:10.1f} us/burst" if trace else ""))
    return res, crcs, trace


def counts_of(model, trace, stim, first_burst):
    """Mean synaptic events, fire candidates and fired neurons per burst of a recorded trace of
    bursts ``first_burst …`` (its first burst is left out: its predecessor is not in the trace)."""
    ptr, nrn, val, kind = stim.compile(model, first_burst + trace.bursts - 1)
    c = bt.trace_counts(model, trace.fired, (ptr[first_burst - 1:], nrn, val, kind))
    fired = np.array([len(f) for f in trace.fired], np.int64)
    return (float(c["syn_events"][1:].mean()), float(c["candidates"][1:].mean()),
            float(fired[1:].mean()))


def traffic(model, ev, cand, fired):
    words = (model.n_neurons + 31) // 32
    base = 8 * ev + 52 * cand + 32 * fired + 32 * words
    return base, base + 12 * ev


def copy_bandwidth():
    """Measured device-to-device copy bandwidth (GB/s, read + write) through cupy, or None."""
    try:
        import cupy as cp
    except ImportError:
        return None
    a = cp.ones(1 << 29, cp.uint32)  # 2 GiB
    b = cp.empty_like(a)
    for _ in range(2):
        b[...] = a
    cp.cuda.runtime.deviceSynchronize()
    e0, e1 = cp.cuda.Event(), cp.cuda.Event()
    e0.record()
    for _ in range(10):
        b[...] = a
    e1.record()
    e1.synchronize()
    s = cp.cuda.get_elapsed_time(e0, e1) / 1e3
    del a, b
    return 2 * 10 * (1 << 31) / s / 1e9


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backends", nargs="+", default=["cuda", "wgpu", "numba"])
    ap.add_argument("--genome", nargs="*", default=bt.DEFAULT_GENOMES)
    ap.add_argument("--genome-bursts", type=int, default=2000)
    ap.add_argument("--synthetic", action="store_true")
    ap.add_argument("--synthetic-neurons", type=int, default=1_000_000)
    ap.add_argument("--synthetic-fanout", type=int, default=100)
    ap.add_argument("--synthetic-activity", type=float, nargs="+", default=[0.01, 0.10])
    ap.add_argument("--synthetic-bursts", type=int, default=64)
    ap.add_argument("--numba-bursts", type=int, default=8, help="numba, synthetic: bursts per rep")
    ap.add_argument("--warm", type=int, default=8)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--profile", action="store_true", help="CUDA: also time every kernel")
    ap.add_argument("--json-out")
    args = ap.parse_args(argv)
    # the synthetic 10 % schedule (bursts x 10 % of 1 M voxels) is far above the CLI's default
    # stimulus limit, which guards users against typos, not a deliberate benchmark
    os.environ.setdefault("FEAGI_EMBED_LIMIT_MAX_STIMULUS_EVENTS", str(10**9))

    def log(m):
        print(m, file=sys.stderr, flush=True)

    names = []
    # numba first: every other backend's digests are compared with it
    for b in sorted(args.backends, key=lambda x: x != "numba"):
        ok, why = backends.available(b)
        log(f"{b}: {'OK' if ok else 'unavailable'} ({why})")
        if ok:
            names.append(b)
    info = {"python": platform.python_version(), "platform": platform.platform(),
            "backends": {b: backends.available(b)[1] for b in args.backends}}
    if "cuda" in names:
        import cupy as cp

        p = cp.cuda.runtime.getDeviceProperties(0)
        info.update(gpu=p["name"].decode(), sms=p["multiProcessorCount"],
                    l2_bytes=p["l2CacheSize"], cupy=cp.__version__,
                    cuda_runtime=cp.cuda.runtime.runtimeGetVersion(),
                    driver=cp.cuda.runtime.driverGetVersion(),
                    copy_GBps=copy_bandwidth())
        log(f"device-to-device copy: {info['copy_GBps']:.0f} GB/s")
    work = []
    for g in args.genome:
        model = bt.load_model(g)
        n = args.genome_bursts
        work.append((g, "idle", model, Stimulus(), n, n))
        work.append((g, "active 5%", model,
                     bt.genome_stimulus(model, 0.05, args.seed, args.warm + (args.reps + 2) * n), n, n))
    if args.synthetic:
        model = bt.synthetic_model(args.synthetic_neurons, args.synthetic_fanout, seed=args.seed)
        # warm-up, the timed repetitions, then two trace runs (one untimed capture, one timed)
        total = args.warm + (args.reps + 2) * args.synthetic_bursts
        for act in args.synthetic_activity:
            stim = synthetic_stimulus(model, act, total, args.seed)
            work.append((f"synthetic-{model.n_neurons // 1000}k-{model.n_synapses // 10**6}M",
                         f"force {100 * act:g}%", model, stim, args.synthetic_bursts, args.numba_bursts))
    rows = []
    profiles = []
    for label, wl, model, stim, nb, nb_numba in work:
        log(f"{label} ({model.n_neurons:,} neurons, {model.n_synapses:,} synapses) {wl}:")
        ref = None
        counts = None
        for b in names:
            bursts = nb_numba if b == "numba" else nb
            reps = min(args.reps, 2) if (b == "numba" and nb_numba != nb) else args.reps
            res, crcs, trace = run_backend(b, model, stim, args.warm, bursts, reps, log)
            if b == "numba":
                ref = crcs
            k = min(len(ref), len(crcs)) if ref is not None else 0
            # equality only ever against numba; None = "not compared" (numba not run, or numba
            # itself)
            res["digests_equal_numba"] = (None if b == "numba" or ref is None
                                          else crcs[:k] == ref[:k])
            res["bursts_compared"] = k if res["digests_equal_numba"] is not None else 0
            if res["digests_equal_numba"] is False:
                raise SystemExit(f"{label} {wl} {b}: burst digests differ from the numba twin's")
            if trace is not None and counts is None:
                first = args.warm + reps * bursts + 1
                counts = counts_of(model, trace, stim, first)
            rows.append({"model": label, "workload": wl, "neurons": model.n_neurons,
                         "synapses": model.n_synapses, **res})
        if args.profile and "cuda" in names:
            # per-kernel device time, kernels launched one by one (no graph) with events between
            tw = backends.twin_class("cuda")(model, profile=True)
            tw.run(args.warm, stim, record=False)
            tw.kernel_s.clear()
            tw.run(nb, stim, record=False)
            prof = {k: 1e6 * v / nb for k, v in tw.kernel_s.items()}
            profiles.append({"model": label, "workload": wl, "us_per_burst": prof})
            log("    cuda kernels (us/burst, unfused launches): "
                + ", ".join(f"{k} {v:.1f}" for k, v in prof.items()))
        ev, cand, fired = counts if counts else (float("nan"),) * 3
        for r in rows:
            if r["model"] == label and r["workload"] == wl:
                r.update(syn_events_per_burst=ev, candidates_per_burst=cand, fired_per_burst=fired)
                t = r.get("device_us_per_burst", r["wall_us_per_burst"]) * 1e-6
                r["syn_events_per_s"] = ev / t if t else None
                r["syn_events_per_s_wall"] = ev / (r["wall_us_per_burst"] * 1e-6)
                lo, hi = traffic(model, ev, cand, fired)
                if "device_us_per_burst" in r:
                    r["device_GBps"] = lo / t / 1e9
                    r["device_GBps_with_atomics"] = hi / t / 1e9
    fmt = "{:24s} {:10s} {:6s} {:>9} {:>9} {:>11} {:>11} {:>11} {:>10} {:>8}"
    print(fmt.format("model", "workload", "twin", "fired/b", "syn ev/b", "wall us/b", "dev us/b",
                     "trace us/b", "syn ev/s", "GB/s"))
    for r in rows:
        f = lambda k, spec: format(r[k], spec) if r.get(k) is not None else "-"  # noqa: E731
        print(fmt.format(r["model"][:24], r["workload"], r["backend"], f("fired_per_burst", ".0f"),
                         f("syn_events_per_burst", ".3g"), f("wall_us_per_burst", ".1f"),
                         f("device_us_per_burst", ".1f"), f("trace_wall_us_per_burst", ".1f"),
                         f("syn_events_per_s", ".3g"), f("device_GBps", ".0f")))
    if args.json_out:
        os.makedirs(os.path.dirname(os.path.abspath(args.json_out)), exist_ok=True)
        with open(args.json_out, "w") as fh:
            json.dump({"tool": "bench/bench_gpu.py", "argv": sys.argv[1:] if argv is None else argv,
                       "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": info,
                       "anchors_us": ANCHORS_US, "settings": vars(args), "results": rows,
                       "cuda_kernel_profile": profiles},
                      fh, indent=1)
        log(f"wrote {args.json_out}")


if __name__ == "__main__":
    main()
