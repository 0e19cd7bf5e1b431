#!/usr/bin/env python3
"""Twin speed (issue 15): numba over cores, ``step()`` vs batched ``run``, CUDA wall vs a floor
probe, and the ``run --json`` output share — each number printed with its comparison in one run.

Sections (``--sections``, default all that can run here):

* ``numba``: ``bench_twin.synthetic_model`` (1 M neurons, fan-out 100, 100 M synapses); every
  burst force-fires a fresh seeded random 1 % / 10 % of the custom area (precompiled arrays: no
  stimulus compile in the timing). ``Twin(threads=T)`` for each ``--threads``: median wall per
  burst over ``--reps`` runs after a warm-up, synaptic events per second (events = Σ fan-out of
  the previous burst's fired set), events/s per thread, speed-up over ``threads=1``; the burst
  digests of every ``T`` are compared with ``threads=1`` (``equal``).
* ``step``: bundled genomes, a fresh 5 % force-fire of the voxels of every non-core area with
  outgoing synapses each burst. Batched: one ``run(N)`` over the precompiled schedule
  (``final_state=False``; GPU twins with the trace copied back, and once more digest-only,
  ``record=False``). Streamed: ``N`` calls of ``step(ids, values, kinds)`` with the same
  entries. Each timed over the second half of 2·N bursts (the first half warms the twin: numba
  compilation, every CUDA graph shape). Ratio streamed / batched; digests (all 2·N) compared
  streamed vs batched (``equal``) and batched vs the numba twin (``equal_numba``; numba first in
  ``--step-backends``). Backends: ``numba``, ``cuda`` (automatic path choice), ``cuda-grid``
  (``CudaTwin(fused=False)``: ``k_in``, ``k_dyn``, ``k_scan3`` per burst), ``cuda-fused``
  (``fused=True``: every burst of a batch in one ``k_fused`` launch), ``wgpu``; a CUDA name with
  ``-mapped`` appended (``cuda-grid-mapped``) steps through page-locked I/O, with ``-staged``
  through staged copies (``CudaTwin.mapped_step`` True / False; the default is mapped); CUDA
  rows add the device time per burst of the batched runs.
* ``cuda``: the synthetic model at 1 % / 10 %: ``CudaTwin.run(N, record=False)`` wall and device
  time per burst after a warm-up that captures the graphs (never inside timed repetitions), the
  digests compared with ``threads=1`` numba over the first ``--numba-bursts`` bursts (or marked
  "not compared"), and :func:`floor_probe` on the same fired sets, in the same process: ratios
  wall / floor and device / floor.
* ``cpufloor``: what the machine's cores give any propagation, with the numba kernel's own
  threads: per thread ``T``, ``10 M / T`` (target, contribution) pairs (uint16 range-relative
  target, int32 contribution: the parallel kernel's 6 bytes per event) read in order and added
  into that thread's own 62,500-neuron int32 accumulator (L2-resident), and a plain read of a
  512 MB array: events/s, GB/s and the speed-up over ``T = 1``. The twin's speed-up on ``T``
  threads is bounded by these (``threads_per_core`` in the machine info says whether the logical
  CPUs are SMT siblings).
* ``json``: ``feagi-embed run --json`` on learning_v1_1b (300 bursts, a random stimulus): time of
  the simulation vs the streamed JSON writer (to /dev/null), and the previous one-shot
  ``json.dump`` for comparison.

Floor probe: per burst, the least device work any implementation does — read the burst's
stimulus entries, add every synaptic event of the fired sources (one warp per source, coalesced
reads of target and contribution, one int32 ``atomicAdd`` each) and one dense pass over the
neurons (accumulator read, threshold test, accumulator cleared) — as one CUDA graph of all bursts,
timed with CUDA events.

Example::

    python3 bench/bench_speed.py --json-out bench/results/speed.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_twin as bt  # noqa: E402

from feagi_embed.host.twin import Twin  # noqa: E402
from feagi_embed.stimulus import KIND_FORCE  # noqa: E402


def log(m):
    print(m, file=sys.stderr, flush=True)


def fresh_force(model, area: int, frac: float, bursts: int, seed: int):
    """``bt.Precompiled.random_force`` for ``frac`` of ``area``."""
    lo, hi = int(model.area_first[area]), int(model.area_first[area + 1])
    return bt.Precompiled.random_force(model, area, max(1, int(round(frac * (hi - lo)))), bursts,
                                       seed)


def events_of(model, fired) -> np.ndarray:
    """Synaptic events of each burst: Σ fan-out over the previous burst's fired set."""
    deg = np.diff(model.syn_ptr)
    ev = [0] + [int(deg[f.astype(np.int64)].sum()) for f in fired[:-1]]
    return np.asarray(ev, np.int64)


# ----------------------------------------------------------------------------- numba
def numba_section(model, acts, threads, bursts, reps, seed):
    rows = []
    area = len(model.areas.ids) - 1
    for act in acts:
        total = 2 + (reps + 1) * bursts
        pre = fresh_force(model, area, act, total, seed)
        ref_crc = None
        base = None
        for T in threads:
            t0 = time.perf_counter()
            tw = Twin(model, threads=T)
            setup = time.perf_counter() - t0
            t0 = time.perf_counter()
            tr = tw.run(2, pre, final_state=False)  # compile / load
            warm = time.perf_counter() - t0
            crcs = list(tr.burst_crc)
            fired = list(tr.fired)
            walls = []
            for _ in range(reps):
                t0 = time.perf_counter()
                tr = tw.run(bursts, pre, final_state=False)
                walls.append(time.perf_counter() - t0)
                crcs += tr.burst_crc
                fired += tr.fired
            ev = events_of(model, fired)[2:].mean()
            us = 1e6 * statistics.median(walls) / bursts
            if ref_crc is None:
                ref_crc, base = crcs, us
            r = {"section": "numba", "activity": act, "threads": T, "setup_s": setup,
                 "warm_s": warm, "wall_us_per_burst": us, "syn_events_per_burst": float(ev),
                 "syn_events_per_s": ev / (us * 1e-6),
                 "syn_events_per_s_per_thread": ev / (us * 1e-6) / T,
                 "speedup_vs_1": base / us, "equal_threads_1": crcs == ref_crc,
                 "bursts_compared": len(crcs)}
            rows.append(r)
            log(f"  numba {100 * act:g}% T={T:2d}: {us:10.1f} us/burst"
                f"  {r['syn_events_per_s']:.3g} ev/s"
                f"  ({r['syn_events_per_s_per_thread']:.3g}/thread)  x{r['speedup_vs_1']:.2f}"
                f"  equal={r['equal_threads_1']}  setup {setup:.1f} s warm {warm:.1f} s")
    return rows


# ----------------------------------------------------------------------------- cpu floor
def _cpu_floor_kernels():
    import numba as nb

    @nb.njit(parallel=True, cache=False)
    def scatter(idx, val, acc, parts, rng):
        n = idx.shape[0]
        for p in nb.prange(parts):
            lo, hi = n * p // parts, n * (p + 1) // parts
            base = p * rng
            for k in range(lo, hi):
                acc[base + np.int64(idx[k])] += val[k]

    @nb.njit(parallel=True, cache=False)
    def read(a, parts):
        n = a.shape[0]
        tot = np.zeros(parts, np.int64)
        for p in nb.prange(parts):
            s = np.int64(0)
            for k in range(n * p // parts, n * (p + 1) // parts):
                s += a[k]
            tot[p] = s
        return tot.sum()

    return scatter, read


def cpu_floor_section(threads, reps, seed, events=10_000_000, rng=62_500):
    import numba as nb

    scatter, read = _cpu_floor_kernels()
    g = np.random.default_rng(seed)
    idx = g.integers(0, rng, events, dtype=np.uint16)
    val = g.integers(-1000, 1000, events, dtype=np.int32)
    big = np.ones(64 * 2 ** 20, np.int64)  # 512 MB
    rows, base = [], {}
    for T in threads:
        nb.set_num_threads(T)
        acc = np.zeros(T * rng, np.int32)
        scatter(idx, val, acc, T, rng)
        read(big, T)
        ts, tr = [], []
        for _ in range(reps):
            t0 = time.perf_counter()
            scatter(idx, val, acc, T, rng)
            ts.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            read(big, T)
            tr.append(time.perf_counter() - t0)
        ev_s = events / min(ts)
        gb_s = big.nbytes / min(tr) / 1e9
        base.setdefault("ev", ev_s)
        base.setdefault("gb", gb_s)
        r = {"section": "cpufloor", "threads": T, "scatter_events_per_s": ev_s,
             "scatter_speedup_vs_1": ev_s / base["ev"], "read_gb_per_s": gb_s,
             "read_speedup_vs_1": gb_s / base["gb"]}
        rows.append(r)
        log(f"  cpu floor T={T:2d}: scatter {ev_s:.3g} ev/s (x{r['scatter_speedup_vs_1']:.2f})"
            f"  read {gb_s:6.1f} GB/s (x{r['read_speedup_vs_1']:.2f})")
    nb.set_num_threads(nb.config.NUMBA_NUM_THREADS)
    return rows


# ----------------------------------------------------------------------------- step
def step_inputs(model, bursts: int, seed: int):
    """A fresh seeded 5 % force-fire of every non-core area with outgoing synapses, each burst:
    ``(parts, Precompiled)`` — the per-burst id arrays (for ``step``) and the same schedule for
    ``run``."""
    deg = np.diff(model.syn_ptr)
    per = []
    rng = np.random.default_rng(seed)
    for a, kind in enumerate(model.areas.kinds):
        lo, hi = int(model.area_first[a]), int(model.area_first[a + 1])
        if kind != "core" and deg[lo:hi].sum():
            per.append((lo, hi))
    parts = []
    for _ in range(bursts):
        ids = [lo + rng.choice(hi - lo, size=max(1, round(0.05 * (hi - lo))), replace=False)
               for lo, hi in per]
        parts.append(np.sort(np.concatenate(ids)).astype(np.uint32) if ids
                     else np.empty(0, np.uint32))
    k = np.array([len(p) for p in parts], np.int64)
    ptr = np.concatenate(([0], np.cumsum(k)))
    nrn = np.concatenate(parts)
    return parts, bt.Precompiled(ptr, nrn, np.zeros(len(nrn), np.int32),
                                 np.full(len(nrn), KIND_FORCE, np.uint8))


def step_twin_factory(b: str, threads: int):
    """``model -> twin`` for a ``--step-backends`` name, or ``None`` when it cannot run here."""
    from feagi_embed.host.gpu import backends

    if b == "numba":
        return lambda m: Twin(m, threads=threads)
    base = b.split("-")[0]
    if not backends.available(base)[0]:
        return None
    cls = backends.twin_class(base)
    name = b.removesuffix("-mapped").removesuffix("-staged")
    if b != name:  # step() through page-locked I/O or staged copies (CudaTwin.mapped_step)
        cls = type(cls.__name__ + "Step", (cls,), {"mapped_step": b.endswith("-mapped")})
    if name in ("cuda-grid", "cuda-fused"):
        return lambda m: cls(m, fused=name == "cuda-fused")
    return cls


def step_section(names, backends_, bursts, seed, threads):
    """Per genome and backend: a fresh twin runs 2·``bursts`` bursts in two ``run`` calls, the
    first a warm-up (compilation, the CUDA graph of every batch shape the second call uses), the
    second timed; the same once more digest-only (GPU twins, ``record=False``) and once as
    2·``bursts`` ``step`` calls (the second half timed). Every burst digest is compared: streamed
    vs batched (``equal``) and batched vs the numba twin (``equal_numba``)."""
    rows = []
    for g in names:
        model = bt.load_model(g)
        parts, pre = step_inputs(model, 2 * bursts, seed)
        k = np.array([len(p) for p in parts[bursts:]], np.int64)
        ref = None
        for b in backends_:
            mk = step_twin_factory(b, threads)
            if mk is None:
                log(f"  step {g}: {b} not available")
                continue
            gpu = b != "numba"

            def batched_run(record):
                tw = mk(model)
                kw = {"record": record} if gpu else {}
                warm = tw.run(bursts, pre, final_state=False, **kw)
                d0 = getattr(tw, "device_s", 0.0)
                t0 = time.perf_counter()
                tr = tw.run(bursts, pre, final_state=False, **kw)
                wall = time.perf_counter() - t0
                dev = getattr(tw, "device_s", None)
                return tw, warm.burst_crc + tr.burst_crc, wall, None if dev is None else dev - d0

            tw, crcs, batched, device = batched_run(True)
            nr = nr_device = None
            if gpu:  # digest-only batched run (no fired ids copied back)
                _, crcs_nr, nr, nr_device = batched_run(False)
                assert crcs_nr == crcs, (g, b, "record=False digests")
            if b == "numba":
                ref = crcs
            st = mk(model)
            warm = [st.step(p, None, KIND_FORCE) for p in parts[:bursts]]
            t0 = time.perf_counter()
            out = warm + [st.step(p, None, KIND_FORCE) for p in parts[bursts:]]
            streamed = time.perf_counter() - t0
            from feagi_embed.trace import burst_digest

            got = [r.burst_crc if r.burst_crc is not None else burst_digest(r.burst, r.fired)
                   for r in out]
            r = {"section": "step", "genome": g, "backend": b, "bursts": bursts,
                 "inputs_per_burst": float(k.mean()), "neurons": model.n_neurons,
                 "synapses": int(model.n_synapses),
                 "batched_us_per_burst": 1e6 * batched / bursts,
                 "step_us_per_burst": 1e6 * streamed / bursts, "ratio": streamed / batched,
                 "equal": got == crcs,
                 "equal_numba": None if ref is None else crcs == ref}
            extra = ""
            if nr is not None:
                r["batched_digest_only_us_per_burst"] = 1e6 * nr / bursts
                extra += f"  digest-only {r['batched_digest_only_us_per_burst']:8.1f}"
            if device is not None:
                r["fused"] = bool(getattr(tw, "fused", False))
                r["device_us_per_burst"] = 1e6 * device / bursts
                r["device_digest_only_us_per_burst"] = 1e6 * nr_device / bursts
                extra += (f"  device {r['device_us_per_burst']:7.1f} /"
                          f" {r['device_digest_only_us_per_burst']:7.1f}")
            rows.append(r)
            log(f"  step {g:18s} {b:10s}: batched {r['batched_us_per_burst']:8.1f} us/b{extra}"
                f"  step {r['step_us_per_burst']:8.1f} us/b  ratio {r['ratio']:.2f}"
                f"  equal={r['equal']}  equal_numba={r['equal_numba']}")
    return rows


# ----------------------------------------------------------------------------- cuda + floor
FLOOR_SRC = r"""
extern "C" __global__ void f_stim(const unsigned* __restrict__ ent, int n_ent, unsigned* flag) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n_ent) flag[ent[2 * i] & 0x7fffffffu] = 1u;
}
extern "C" __global__ void f_prop(const unsigned* __restrict__ fq, int nfq,
                                  const long long* __restrict__ ptr,
                                  const unsigned* __restrict__ dst, const int* __restrict__ c,
                                  int* acc) {
    int lane = threadIdx.x & 31;
    for (int w = (blockIdx.x * blockDim.x + threadIdx.x) >> 5; w < nfq;
         w += (gridDim.x * blockDim.x) >> 5) {
        unsigned s = fq[w];
        for (long long k = ptr[s] + lane; k < ptr[s + 1]; k += 32) atomicAdd(&acc[dst[k]], c[k]);
    }
}
extern "C" __global__ void f_dense(int n, int* acc, const int* __restrict__ thr, unsigned* flag,
                                   unsigned* count) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        int a = acc[i];
        if (a >= thr[i] || flag[i]) atomicAdd(count, 1u);
        acc[i] = 0;
        flag[i] = 0;
    }
}
"""


def floor_probe(model, fired_sets, stim_sets):
    """Device µs per burst of the floor work (module docstring) over the given bursts: burst ``i``
    propagates ``fired_sets[i]`` and reads ``stim_sets[i]`` (u32 entry pairs)."""
    import cupy as cp

    mod = cp.RawModule(code=FLOOR_SRC)
    f_stim, f_prop, f_dense = (mod.get_function(k) for k in ("f_stim", "f_prop", "f_dense"))
    n = model.n_neurons
    ptr = cp.asarray(model.syn_ptr.astype(np.int64))
    dst = cp.asarray(model.syn_dst)
    c = cp.asarray(model.syn_c)
    thr = cp.asarray(model.threshold)
    acc = cp.zeros(n, cp.int32)
    flag = cp.zeros(n, cp.uint32)
    count = cp.zeros(1, cp.uint32)
    fqs = [cp.asarray(f.astype(np.uint32)) for f in fired_sets]
    sts = [cp.asarray(s) for s in stim_sets]
    sms = cp.cuda.runtime.getDeviceProperties(0)["multiProcessorCount"]
    s = cp.cuda.Stream(non_blocking=True)

    def enqueue():
        for fq, st in zip(fqs, sts):
            ne = st.size // 2
            if ne:
                f_stim(((ne + 255) // 256,), (256,), (st, np.int32(ne), flag))
            if fq.size:
                f_prop((8 * sms,), (256,), (fq, np.int32(fq.size), ptr, dst, c, acc))
            f_dense(((n + 255) // 256,), (256,), (np.int32(n), acc, thr, flag, count))

    with s:
        s.begin_capture()
        enqueue()
        g = s.end_capture()
        g.launch(stream=s)  # warm
        s.synchronize()
        times = []
        for _ in range(5):
            e0, e1 = cp.cuda.Event(), cp.cuda.Event()
            e0.record(s)
            g.launch(stream=s)
            e1.record(s)
            e1.synchronize()
            times.append(cp.cuda.get_elapsed_time(e0, e1) * 1e3 / len(fqs))
    return statistics.median(times)


def cuda_section(model, acts, bursts, reps, seed, numba_bursts):
    from feagi_embed.host.gpu.common import pack_entries
    from feagi_embed.host.gpu.cuda import CudaTwin

    rows = []
    area = len(model.areas.ids) - 1
    for act in acts:
        warm = 4
        total = warm + (reps + 1) * bursts
        pre = fresh_force(model, area, act, total, seed)
        ref = Twin(model, threads=os.cpu_count() or 1).run(numba_bursts, pre, final_state=False)
        tw = CudaTwin(model)
        tw.run(warm, pre, record=False, final_state=False)  # compile + graph capture
        tw.run(bursts, pre, record=False, final_state=False)  # captures the batch shape
        walls, devs = [], []
        for _ in range(reps):
            d0 = tw.device_s
            t0 = time.perf_counter()
            tw.run(bursts, pre, record=False, final_state=False)
            walls.append(time.perf_counter() - t0)
            devs.append(tw.device_s - d0)
        # digests: a fresh twin over the numba bursts
        chk = CudaTwin(model).run(numba_bursts, pre, record=True, final_state=False)
        equal = chk.burst_crc == ref.burst_crc
        ids_equal = all(np.array_equal(a, b) for a, b in zip(ref.fired, chk.fired))
        wall = 1e6 * statistics.median(walls) / bursts
        dev = 1e6 * statistics.median(devs) / bursts
        # floor on numba's fired sets of the checked bursts (sources of burst i+1 = fired of i)
        ptr, nrn, val, kind = pre.arrays
        fired = ref.fired
        stim = [pack_entries(nrn[ptr[i]:ptr[i + 1]], kind[ptr[i]:ptr[i + 1]],
                             val[ptr[i]:ptr[i + 1]]).reshape(-1) for i in range(1, len(fired))]
        floor = floor_probe(model, fired[:-1], stim)
        ev = float(events_of(model, fired)[1:].mean())
        r = {"section": "cuda", "activity": act, "bursts": bursts, "reps": reps,
             "wall_us_per_burst": wall, "device_us_per_burst": dev, "floor_us_per_burst": floor,
             "wall_over_floor": wall / floor, "device_over_floor": dev / floor,
             "syn_events_per_burst": ev, "digests_equal_numba": equal,
             "fired_ids_equal_numba": ids_equal,
             "fired_per_burst": [len(f) for f in ref.fired],
             "cuda_fired_per_burst": [len(f) for f in chk.fired],
             "bursts_compared": len(ref.burst_crc)}
        rows.append(r)
        log(f"  cuda {100 * act:g}%: wall {wall:8.1f} us/b  device {dev:8.1f}  floor {floor:8.1f}"
            f"  wall/floor {wall / floor:.2f}  device/floor {dev / floor:.2f}  equal numba={equal}"
            f" ids {ids_equal} ({len(ref.burst_crc)} bursts; fired numba {r['fired_per_burst']}"
            f" cuda {r['cuda_fired_per_burst']})")
    return rows


# ----------------------------------------------------------------------------- json
def json_section(genome, bursts, seed):
    from feagi_embed.runner import JsonTraceWriter, trace_report

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    from tests.gpu_models import random_stimulus

    model = bt.load_model(genome)
    stim = random_stimulus(model, bursts, per_burst=200, seed=seed)
    pre = bt.Precompiled.of(stim, model, bursts)
    Twin(model).run(1)
    tw = Twin(model)
    sim = out = 0.0
    with open(os.devnull, "w") as dev:
        w = JsonTraceWriter(model, dev)
        full = []
        while tw.burst < bursts:
            t0 = time.perf_counter()
            part = tw.run(min(10, bursts - tw.burst), pre, state_every=10)
            t1 = time.perf_counter()
            w.write(part)
            out += time.perf_counter() - t1
            sim += t1 - t0
            full.append(part)
        t0 = time.perf_counter()
        w.close()
        out += time.perf_counter() - t0
        from feagi_embed.trace import Trace

        tr = Trace()
        for p in full:
            tr.fired += p.fired
            tr.burst_crc += p.burst_crc
            tr.state_crc.update(p.state_crc)
        t0 = time.perf_counter()
        json.dump(trace_report(model, tr), dev)  # the previous one-shot output
        old = time.perf_counter() - t0
    # the whole command, as a user runs it (genome load, develop, quantize, kernel, output)
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        sf = os.path.join(tmp, "s.json")
        with open(sf, "w") as fh:
            json.dump(stim.to_json(), fh)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "feagi_embed", "run", genome, "-n", str(bursts),
                        "--stimulus", sf, "--json"], stdout=subprocess.DEVNULL, check=True)
        cmd = time.perf_counter() - t0
    r = {"section": "json", "genome": genome, "bursts": bursts, "sim_s": sim, "output_s": out,
         "output_share_of_sim_plus_output": out / (sim + out), "command_wall_s": cmd,
         "output_share_of_command": out / cmd, "old_json_dump_s": old,
         "fired_total": int(sum(len(f) for f in tr.fired))}
    log(f"  json {genome}: simulation {sim:.3f} s, streamed output {out:.3f} s "
        f"({100 * out / (sim + out):.1f} % of the two; {100 * out / cmd:.1f} % of the whole "
        f"`run --json` command, {cmd:.2f} s); one-shot json.dump {old:.3f} s")
    return [r]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sections", nargs="+", default=["numba", "step", "cuda", "json"])
    ap.add_argument("--neurons", type=int, default=1_000_000)
    ap.add_argument("--fanout", type=int, default=100)
    ap.add_argument("--activity", type=float, nargs="+", default=[0.01, 0.10])
    ap.add_argument("--threads", type=int, nargs="+", default=None,
                    help="numba thread counts (default 1, 2, 4, 8, … up to the cores)")
    ap.add_argument("--numba-bursts", type=int, default=6)
    ap.add_argument("--cuda-bursts", type=int, default=64)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--step-genomes", nargs="*", default=bt.DEFAULT_GENOMES)
    ap.add_argument("--step-bursts", type=int, default=300)
    ap.add_argument("--step-backends", nargs="+", default=["numba", "cuda-grid", "cuda-fused"],
                    help="numba, cuda, cuda-grid, cuda-fused (each with -mapped too), wgpu (numba "
                    "first: the reference)")
    ap.add_argument("--step-threads", type=int, default=1)
    ap.add_argument("--json-genome", default="learning_v1_1b")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json-out")
    args = ap.parse_args(argv)
    cores = os.cpu_count() or 1
    threads = args.threads or sorted({1, *[t for t in (2, 4, 8, 16, 32) if t <= cores], cores})
    info = bt.machine_info()
    rows = []
    model = None
    if "numba" in args.sections or "cuda" in args.sections:
        t0 = time.perf_counter()
        model = bt.synthetic_model(args.neurons, args.fanout, seed=args.seed)
        log(f"synthetic model {model.n_neurons:,} neurons {model.n_synapses:,} synapses "
            f"({time.perf_counter() - t0:.1f} s)")
    if "numba" in args.sections:
        rows += numba_section(model, args.activity, threads, args.numba_bursts, args.reps,
                              args.seed)
    if "cpufloor" in args.sections:
        rows += cpu_floor_section(threads, max(3, args.reps), args.seed)
    if "step" in args.sections:
        rows += step_section(args.step_genomes, args.step_backends, args.step_bursts, args.seed,
                             args.step_threads)
    if "cuda" in args.sections:
        from feagi_embed.host.gpu import backends

        ok, why = backends.available("cuda")
        info["cuda"] = why
        if ok:
            rows += cuda_section(model, args.activity, args.cuda_bursts, args.reps, args.seed,
                                 args.numba_bursts)
        else:
            log(f"cuda: not run ({why})")
    if "json" in args.sections:
        rows += json_section(args.json_genome, 300, args.seed)
    for r in rows:
        print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()}))
    if args.json_out:
        os.makedirs(os.path.dirname(os.path.abspath(args.json_out)), exist_ok=True)
        with open(args.json_out, "w") as fh:
            json.dump({"tool": "bench/bench_speed.py",
                       "argv": sys.argv[1:] if argv is None else argv,
                       "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": info,
                       "results": rows}, fh, indent=1)
        log(f"wrote {args.json_out}")


if __name__ == "__main__":
    main()
