#!/usr/bin/env python3
"""WGPU twin dispatch paths side by side in one process: dispatches and submissions per burst,
host encoding time per burst, wall time per burst, digests against the numba twin.

Variants (each its own ``WgpuTwin``, run interleaved, ``record=False``):

* ``ref`` (``--old-ref``, default ``defed30``): ``host/gpu`` of that git commit (five kernels per
  burst, one bind group per dispatch, one submission per batch), imported from a temporary
  package built with ``git show`` (no checkout);
* ``3-dispatch``: the working tree with ``fused=False`` (k_in, k_dyn, k_scan3; shared bind group;
  chunked submissions);
* ``fused``: ``fused=True`` (one dispatch per batch, models that allow it);
* ``auto``: the default choice per batch.

Encoding: thread CPU time of encoding ``--bursts`` bursts into one compute pass (without
submitting), per burst, minimum of 5 — the host cost per dispatch of wgpu-py and wgpu-core.
Wall: minimum over ``--reps`` timed ``run(--bursts)`` calls after a warm-up. Timing on a shared
or CPU adapter (lavapipe) is noisy: compare the variants of one run only.

Example::

    python3 bench/bench_wgpu_paths.py --genome webots_basic essential_genome --synthetic 100000
"""

from __future__ import annotations

import argparse
import importlib
import importlib.machinery
import importlib.util
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_twin as bt  # noqa: E402
from bench_gpu import synthetic_stimulus  # noqa: E402

from feagi_embed.host.twin import Twin  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def old_module(ref: str):
    """``host/gpu/wgpu.py`` of git commit ``ref`` as a module (package
    ``feagi_embed.host._wgpu_ref`` in a temporary directory; relative imports resolve to the
    working tree's ``feagi_embed``)."""
    tmp = tempfile.mkdtemp(prefix="wgpu-ref-")
    for f in ("__init__.py", "common.py", "wgpu.py", "kernels.wgsl"):
        data = subprocess.run(["git", "-C", ROOT, "show", f"{ref}:host/gpu/{f}"], check=True,
                              capture_output=True).stdout
        with open(os.path.join(tmp, f), "wb") as fh:
            fh.write(data)
    name = "feagi_embed.host._wgpu_ref"
    spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
    spec.submodule_search_locations = [tmp]
    sys.modules[name] = importlib.util.module_from_spec(spec)
    return importlib.import_module(name + ".wgpu")


def encode_us(tw, bursts: int) -> float:
    """Thread CPU µs per burst of encoding ``bursts`` bursts (no submission), min of 5."""
    plan = getattr(tw, "_plan", None) or [
        ("k_in", tw._grid), ("k_dyn", tw._grid), ("k_scan1", max(tw._nblk, tw._grid)),
        ("k_scan2", 1), ("k_scan3", tw._nblk)]
    if getattr(tw, "fused", None) is True:
        plan = [("k_fused", 1)]
        bursts = 1  # one dispatch runs the batch
    shared = getattr(tw, "shared_group", False)
    best = float("inf")
    for _ in range(5):
        t0 = time.thread_time()
        cp = (enc := tw._dev.create_command_encoder()).begin_compute_pass()
        if shared:
            cp.set_bind_group(0, tw._groups[False, "k_in"])
        for _ in range(bursts):
            for name, wgs in plan:
                cp.set_pipeline(tw._pipes[name][0])
                if not shared:
                    cp.set_bind_group(0, tw._groups[False, name])
                cp.dispatch_workgroups(wgs)
        cp.end()
        enc.finish()
        best = min(best, time.thread_time() - t0)
    return 1e6 * best / (bursts if plan[0][0] != "k_fused" else 64)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--genome", nargs="*", default=["webots_basic", "essential_genome"])
    ap.add_argument("--synthetic", type=int, nargs="*", default=[100_000],
                    help="synthetic models of these neuron counts (fan-out 20, 1 %% forced)")
    ap.add_argument("--bursts", type=int, default=64)
    ap.add_argument("--reps", type=int, default=4)
    ap.add_argument("--old-ref", default="defed30")
    args = ap.parse_args(argv)
    from feagi_embed.host.gpu import wgpu as W

    old = old_module(args.old_ref) if args.old_ref else None
    work = []
    for g in args.genome:
        m = bt.load_model(g)
        work.append((g, "idle", m, None))
        work.append((g, "active 5%", m, bt.genome_stimulus(m, 0.05, 1, 8 + (args.reps + 2)
                                                           * args.bursts)))
    for n in args.synthetic:
        m = bt.synthetic_model(n, 20, seed=1)
        work.append((f"synthetic-{n // 1000}k", "force 1%", m,
                     synthetic_stimulus(m, 0.01, 8 + (args.reps + 2) * args.bursts, 1)))
    B = args.bursts
    for label, wl, m, stim in work:
        ref = Twin(m).run(8 + args.reps * B, stim)
        tws = {}
        if old is not None:
            tws["ref " + args.old_ref] = old.WgpuTwin(m)
        tws["3-dispatch"] = W.WgpuTwin(m, fused=False)
        try:
            tws["fused"] = W.WgpuTwin(m, fused=True)
        except W.GpuUnavailable:
            pass
        tws["auto"] = W.WgpuTwin(m)
        crcs = {k: list(tw.run(8, stim, record=False).burst_crc) for k, tw in tws.items()}
        count0 = {k: (getattr(tw, "dispatches", 0), getattr(tw, "submits", 0))
                  for k, tw in tws.items()}
        walls = {k: [] for k in tws}
        for _ in range(args.reps):
            for k, tw in tws.items():
                t0 = time.perf_counter()
                crcs[k] += tw.run(B, stim, record=False).burst_crc
                walls[k].append(time.perf_counter() - t0)
        print(f"{label} ({m.n_neurons:,} neurons, {m.n_synapses:,} synapses) {wl}:", flush=True)
        for k, tw in tws.items():
            eq = crcs[k] == ref.burst_crc[:len(crcs[k])]
            d, s = (getattr(tw, "dispatches", 0) - count0[k][0],
                    getattr(tw, "submits", 0) - count0[k][1])
            per = (f"{d / (args.reps * B):5.2f} dispatches {s / (args.reps * B):5.3f} submits"
                   if hasattr(tw, "dispatches") else "5 dispatches per burst, 1 submit per batch")
            print(f"  {k:12s} wall {1e6 * min(walls[k]) / B:9.1f} us/burst  encode "
                  f"{encode_us(tw, B):6.1f} us/burst  {per} per burst (state digests included)"
                  f"  digests equal numba: {eq}", flush=True)
            if not eq:
                raise SystemExit(f"{label} {wl} {k}: burst digests differ from the numba twin's")


if __name__ == "__main__":
    main()
