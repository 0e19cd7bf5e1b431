#!/usr/bin/env python3
"""Where the host twin's time goes besides propagation: micro-measurements behind the notes in
``docs/benchmarks.md`` (no change to ``host/twin.py``).

1. ``kernel_call``: cost of one ``run_bursts`` call through the numba dispatcher vs. ``Twin._call``
   (cached compiled entry point; its per-call signature computation timed apart), and a 1-burst
   ``Twin.run`` either way (fixed and float mode, essential_genome).
2. ``bookkeeping``: ``Twin.run``'s Python work per burst (``burst_digest`` CRC-32 and the two slice
   copies) for fired-set sizes 1 … 100 k.
3. ``argsort``: the per-burst ``np.argsort(kind="mergesort")`` + two gathers + copy-back of the
   fired set inside the kernel, re-created as a standalone njit function, for 100 … 100 k ids in
   candidate (random) order.
4. ``stimulus_compile``: ``Stimulus.compile`` for a schedule force-firing 1 % … 5 % of
   webots_basic's source voxels every burst, over 200 and 20 000 bursts; ``Twin.run`` calls it for
   bursts 1…end on every call.
5. ``state_digest``: CRC-32 of (V, cd, cc) for 55 k and 1 M neurons (``state_every=K`` pays it
   every K bursts).
6. ``propagation``: step 5 of the kernel alone (flag test, candidate append, int32 accumulate, and
   the FCL clear) on the synthetic model's shape (1 M neurons, fan-out 100 random targets) for 10 k
   and 100 k firing sources.
7. ``candidate_sweep``: a step-6-like pass (7 per-neuron arrays) over 1 M candidates in insertion
   (random) order vs. id order.

Example::

    python3 bench/twin_overheads.py --json-out bench/results/overheads.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import numba as nb
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_twin import (KernelTimer, Precompiled, genome_stimulus, load_model,  # noqa: E402
                        machine_info)
from feagi_embed.host.twin import Twin, burst_digest, state_digest  # noqa: E402


def med_time(fn, reps: int) -> float:
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


@nb.njit(cache=True)
def _sort_fired(out_ids, out_v, n_fired, fq, fq_v):
    """The kernel's per-burst fired-set sort, verbatim."""
    seg = out_ids[:n_fired]
    order = np.argsort(seg, kind="mergesort")
    ids_sorted = seg[order].copy()
    v_sorted = out_v[:n_fired][order].copy()
    out_ids[:n_fired] = ids_sorted
    out_v[:n_fired] = v_sorted
    for j in range(n_fired):
        fq[j] = ids_sorted[j]
        fq_v[j] = v_sorted[j]
    return n_fired


@nb.njit(cache=True)
def _propagate(fq, nfq, syn_ptr, syn_dst, syn_c, acc, flag, cand):
    """Step 5 of the kernel alone (flag check, candidate append, int32 accumulate) + the FCL clear."""
    n_cand = 0
    for j in range(nfq):
        src = fq[j]
        for k in range(syn_ptr[src], syn_ptr[src + 1]):
            t = syn_dst[k]
            if flag[t] & 1 == 0:
                flag[t] |= 1
                cand[n_cand] = t
                n_cand += 1
            acc[t] = np.int32(np.int64(acc[t]) + np.int64(syn_c[k]))
    for j in range(n_cand):
        i = cand[j]
        acc[i] = 0
        flag[i] = 0
    return n_cand


@nb.njit(cache=True)
def _sweep(cand, n, V, acc, thr, area, cc, cd, flag, lim):
    """A step-6-like pass over the candidates (7 per-neuron arrays touched per candidate)."""
    s = 0
    for j in range(n):
        i = cand[j]
        if flag[i] & 4:
            continue
        a = area[i]
        v = V[i] + acc[i]
        if thr[i] <= v <= lim[a]:
            V[i] = 0
            cc[i] += 1
        else:
            V[i] = (np.int64(v) * 32768 + 32768) >> 16
        acc[i] = 0
        flag[i] = 0
        s += cd[i]
    return s


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--skip-large", action="store_true",
                    help="skip 6-7 (they allocate ~1 GB: a 1 M x 100 synapse table)")
    ap.add_argument("--json-out")
    args = ap.parse_args(argv)
    res: dict = {"machine": machine_info()}

    # 1. kernel call: numba dispatcher vs Twin._call (cached entry point)
    m = load_model("essential_genome")
    disp = {}
    for mode in ("fixed", "float"):
        Twin(m, mode).run(2)
        row = {}
        for variant in ("dispatch", "shipped"):
            tw = Twin(m, mode)
            kt = KernelTimer(dispatch=variant == "dispatch")
            with kt.installed():
                ts = []
                for _ in range(args.reps):
                    t0 = time.perf_counter()
                    tw.run(1)
                    ts.append(time.perf_counter() - t0)
            row[variant + "_twin_run_1_s"] = statistics.median(ts)
            row[variant + "_call_s"] = kt.t / kt.calls
        # the signature Twin._call builds on every call (numba.typeof of ~45 arguments)
        captured = []
        orig = Twin.__dict__["_call"]
        Twin._call = lambda tw_, *a: (captured.append(a), orig(tw_, *a))[1]
        try:
            Twin(m, mode).run(1)
        finally:
            Twin._call = orig
        a = captured[0]
        row["signature_s"] = med_time(
            lambda: tuple(nb.typeof(x) for x in a[:-1]) + (nb.types.literal(a[-1]),), args.reps * 20)
        disp[mode] = row
        print(f"kernel call {mode}: numba dispatcher {row['dispatch_call_s'] * 1e3:.1f} ms/call, "
              f"Twin._call {row['shipped_call_s'] * 1e6:.1f} us/call (of which signature "
              f"{row['signature_s'] * 1e6:.1f} us); Twin.run(1) {row['dispatch_twin_run_1_s'] * 1e3:.1f} ms "
              f"vs {row['shipped_twin_run_1_s'] * 1e6:.0f} us")
    res["kernel_call"] = disp

    # 2. Python bookkeeping per burst in Twin.run
    book = {}
    rng = np.random.default_rng(0)
    for k in (1, 100, 10_000, 100_000):
        ids = np.sort(rng.choice(1_000_000, size=k, replace=False)).astype(np.uint32)
        v = np.zeros(k, np.int32)

        def one():
            for b in range(200):
                a = ids.copy()
                v.copy()
                burst_digest(b, a)
        t = med_time(one, args.reps) / 200
        book[k] = t
        print(f"bookkeeping: {k:>7} fired ids: {t * 1e6:8.2f} us/burst (2 copies + burst_digest)")
    res["bookkeeping_s_per_burst"] = book

    # 3. per-burst fired-set sort inside the kernel
    srt = {}
    for k in (100, 10_000, 100_000):
        ids = rng.choice(1_000_000, size=k, replace=False).astype(np.uint32)
        out_v = np.zeros(k, np.int32)
        fq = np.zeros(k, np.uint32)
        fq_v = np.zeros(k, np.int32)
        _sort_fired(ids.copy(), out_v, k, fq, fq_v)
        work = ids.copy()

        def one():
            work[:] = ids
            _sort_fired(work, out_v, k, fq, fq_v)
        t = med_time(one, args.reps * 4)
        srt[k] = t
        print(f"argsort: {k:>7} fired ids in random order: {t * 1e3:8.3f} ms/burst")
    res["argsort_s_per_burst"] = srt

    # 4. Stimulus.compile (Twin.run compiles bursts 1…end on every call)
    sc = {}
    wb = load_model("webots_basic")
    for frac in (0.01, 0.05):
        for nb_ in (200, 20_000):
            doc = genome_stimulus(wb, frac, 1, nb_)
            t = med_time(lambda: doc.compile(wb, nb_), 3)
            k = int(Precompiled.tiled(doc, wb, 1).arrays[0][1])
            sc[f"{frac}/{nb_}"] = {"forced_per_burst": k, "bursts": nb_, "s": t, "s_per_burst": t / nb_}
            print(f"Stimulus.compile webots_basic {100 * frac:g} % ({k} neurons/burst), {nb_} bursts: "
                  f"{t * 1e3:.1f} ms ({t / nb_ * 1e6:.2f} us per scheduled burst)")
    res["stimulus_compile"] = sc

    # 5. state digest
    sd = {}
    for n in (55_363, 1_000_007):
        V = np.zeros(n, np.int32)
        cd = np.zeros(n, np.uint16)
        cc = np.zeros(n, np.uint16)
        t = med_time(lambda: state_digest(V, cd, cc), args.reps)
        sd[n] = t
        print(f"state_digest {n:>9} neurons: {t * 1e3:.3f} ms")
    res["state_digest_s"] = sd
    # 6. propagation alone on the synthetic model's shape; 7. candidate order in step 6
    if not args.skip_large:
        n, fan = 1_000_000, 100
        syn_dst = rng.integers(0, n, n * fan, dtype=np.uint32)
        syn_c = np.full(n * fan, 655, np.int32)
        syn_ptr = np.arange(n + 1, dtype=np.int64) * fan
        acc = np.zeros(n, np.int32)
        flag = np.zeros(n, np.uint8)
        cand = np.zeros(n, np.uint32)
        prop = {}
        for k in (10_000, 100_000):
            fq = np.sort(rng.choice(n, k, replace=False)).astype(np.uint32)
            _propagate(fq, k, syn_ptr, syn_dst, syn_c, acc, flag, cand)
            t = med_time(lambda: _propagate(fq, k, syn_ptr, syn_dst, syn_c, acc, flag, cand),
                         args.reps)
            prop[k] = {"s": t, "ns_per_event": t / (k * fan) * 1e9}
            print(f"propagation 1 M neurons x 100: {k:>7} sources: {t * 1e3:.1f} ms/burst "
                  f"({t / (k * fan) * 1e9:.1f} ns per synaptic event, incl. FCL clear)")
        res["propagation"] = prop
        del syn_dst, syn_c
        V = np.zeros(n, np.int32)
        acc = rng.integers(0, 1000, n).astype(np.int32)
        thr = np.full(n, 65536, np.int32)
        area = np.zeros(n, np.uint16)
        cc = np.zeros(n, np.uint16)
        cd = np.zeros(n, np.uint16)
        lim = np.full(1, 2**31 - 1, np.int64)
        sw = {}
        c_rand = rng.permutation(n).astype(np.uint32)
        for name, c in (("insertion (random) order", c_rand), ("id order", np.sort(c_rand))):
            _sweep(c, n, V, acc, thr, area, cc, cd, flag, lim)
            t = med_time(lambda: _sweep(c, n, V, acc, thr, area, cc, cd, flag, lim), args.reps)
            sw[name] = {"s": t, "ns_per_candidate": t / n * 1e9}
            print(f"candidate sweep, 1 M candidates in {name}: {t * 1e3:.1f} ms "
                  f"({t / n * 1e9:.1f} ns per candidate)")
        res["candidate_sweep"] = sw
    if args.json_out:
        os.makedirs(os.path.dirname(os.path.abspath(args.json_out)), exist_ok=True)
        with open(args.json_out, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
