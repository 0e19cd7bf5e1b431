#!/usr/bin/env python3
"""Throughput of the numba host twin (``feagi_embed.host.twin.Twin``) on CPU.

Workloads
---------
Real genomes (default ``webots_basic``, ``learning_v1_1b``, ``essential_genome``): load → develop →
quantize, then two stimulus schedules:

* ``idle``: no stimulus — only ``___power`` fires (and whatever it drives). This is what
  ``bench_feagi.py`` measures the FEAGI engine on, so it is the like-for-like comparison.
* ``active``: every burst, force-fire a fixed seeded random subset (``--stim-frac`` of the neurons,
  at least one voxel per area) of every non-core area that has outgoing synapses. Written as a real
  :class:`~feagi_embed.stimulus.Stimulus` (one ``"force"`` entry per area over bursts 1…N); its
  arrays come from ``Stimulus.compile`` for 2 bursts, tiled with numpy to N bursts (checked equal to
  ``Stimulus.compile`` over 500 bursts, whose per-burst cost is reported as
  ``stim_compile_s_per_burst``), and handed to ``Twin.run`` precompiled, so the timing excludes
  the stimulus compile that ``Twin.run`` otherwise repeats for bursts 1…end on every call.

Synthetic (``--synthetic``): a :class:`~feagi_embed.quantize.Model` built directly with numpy — the
7 core areas + one custom area of 100×100×100 neurons (1,000,007 neurons, so FEAGI's large-brain
membrane-reset path), fan-out 100 uniformly random targets per neuron (100 M synapses, uint32
targets, int32 contributions), contribution q(0.01), threshold 1.0, leak 0.5, no refractory: targets
practically never cross the threshold, so activity is what the stimulus forces. Each burst
force-fires a fresh seeded random 1 % (10 k) or 10 % (100 k) of the custom area's neurons.
Fixed-point mode only (the float arrays of that model are left ``None``).

Timing
------
Each repetition runs a *fresh* ``Twin`` for bursts 1…N (``state_every=0``: one state digest at the
end), after a warm-up run that triggers numba compilation (excluded). Wall time is the whole
``Twin.run`` call. Variants (``--variants``):

* ``shipped`` (default): ``Twin.run`` exactly as in the working tree;
* ``dispatch``: the same, but every kernel call goes through the numba dispatcher
  ``run_bursts(...)`` instead of ``Twin._call``'s cached entry point — the behaviour before commit
  65fd704, kept to measure the dispatcher's per-call cost (about 0.4 s: the ``literally()`` mode
  flag makes numba re-run its untyped pipeline on every call). Same trace (digests checked).

"in call %" is the share of the wall time spent inside the kernel calls (``Twin._call``, i.e.
signature lookup + compiled ``run_bursts``); the rest is Python per-burst bookkeeping in
``Twin.run`` (two slice copies and one CRC-32 ``burst_digest`` per burst), the stimulus compile and
the final state digest. No change to ``host/twin.py``; its sha256 (at import) goes into the JSON.
Reported: median over ``--reps`` repetitions; every run of every variant must reproduce the first
run's per-burst digests (a prefix of them for the shorter ``dispatch`` runs).

Counts (from the trace and the model, not timed)
-----------------------------------------------
* synaptic events = Σ over bursts b of the outgoing synapse counts (``syn_ptr``) of the neurons fired
  in burst b−1 (those are what step 5 of ``docs/model.md`` propagates in burst b);
* neuron updates = the exact number of fire candidates processed by step 6 (distinct synaptic
  targets of b−1's fired set ∪ power neuron ∪ injected neurons), recomputed from the trace;
  force-fired neurons that are not candidates are not counted (they only join the fire queue).

Example::

    python3 bench/bench_twin.py --reps 5 --synthetic --json-out bench/results/twin.json
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import platform
import statistics
import sys
import time
import warnings

import numpy as np

from feagi_embed.model import EXC_ALWAYS, LARGE_BRAIN_NEURONS, Model
from feagi_embed.quantize import q
from feagi_embed.stimulus import KIND_FORCE, Stimulus

import feagi_embed.host.twin as twin_mod
from feagi_embed.host.twin import Twin

GENOME_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "feagi_embed", "genomes")
DEFAULT_GENOMES = ["webots_basic", "learning_v1_1b", "essential_genome"]


# ----------------------------------------------------------------------------- models
def genome_path(name: str) -> str:
    """A bundled genome by name, or a path."""
    if os.path.exists(name):
        return name
    p = os.path.join(GENOME_DIR, name if name.endswith(".json") else name + ".json")
    if not os.path.exists(p):
        raise SystemExit(f"error: genome {name!r}: not a file and not a bundled genome")
    return os.path.normpath(p)


def load_model(name: str) -> Model:
    """load_genome → develop → quantize (development warnings silenced)."""
    from feagi_embed.connectome import develop
    from feagi_embed.genome import load_genome
    from feagi_embed.quantize import quantize

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return quantize(develop(load_genome(genome_path(name))))


CORE_IDS = [b"___death", b"___fatig", b"___fear_", b"___hope_", b"___pain_", b"___pleas",
            b"___power"]
CORE_NAMES = ["Death", "Fatigue", "Fear", "Hope", "Pain", "Pleasure", "Power"]


def synthetic_model(n: int = 1_000_000, fanout: int = 100, *, contribution: float = 0.01,
                    threshold: float = 1.0, leak: float = 0.5, seed: int = 0,
                    frac_bits: int = 16) -> Model:
    """7 core areas (1 neuron each, ``___power`` last) + one custom area of ``n`` neurons with
    ``fanout`` uniformly random targets each (within the custom area), in the layout
    :func:`feagi_embed.quantize.quantize` produces. Fixed-point arrays only (``*_f32`` are None).

    Memory: ``syn_dst`` uint32 + ``syn_c`` int32 = 8 bytes/synapse; ``syn_w`` is ``np.zeros``
    (never read: no mp-driven area), so its pages are never touched.
    """
    side = round(n ** (1 / 3))
    dims = [side, side, n // (side * side)] if side ** 3 == n else [n, 1, 1]
    assert dims[0] * dims[1] * dims[2] == n
    n_core = len(CORE_IDS)
    n_tot = n_core + n
    s = n * fanout
    rng = np.random.default_rng(seed)
    counts = np.array([1] * n_core + [n], np.int64)
    area_first = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    neuron_area = np.repeat(np.arange(n_core + 1, dtype=np.uint16), counts)
    syn_ptr = np.zeros(n_tot + 1, np.int64)
    syn_ptr[n_core + 1:] = np.arange(1, n + 1, dtype=np.int64) * fanout
    syn_dst = rng.integers(n_core, n_tot, size=s, dtype=np.uint32)
    syn_c = np.full(s, int(q(contribution, frac_bits)), np.int32)
    syn_w = np.zeros(s, np.int32)  # calloc'ed, untouched
    thr = np.full(n_tot, int(np.ceil(np.float32(threshold) * (1 << frac_bits))), np.int32)
    a = n_core + 1
    k = int(round(float(np.float32(1) - np.float32(leak)) * 65536))
    k_core = 65536
    ids = CORE_IDS + [b"csynth00"]
    meta = {
        "genome": "<synthetic>", "genome_sha256": None,
        "ids": [base64.b64encode(i).decode() for i in ids],
        "genome_ids": [i.decode() for i in ids], "names": CORE_NAMES + ["synthetic"],
        "dims": [[1, 1, 1]] * n_core + [dims], "npv": [1] * a,
        "kinds": ["core"] * n_core + ["custom"],
        "power_neuron": n_core - 1,
        "large_brain": n_tot >= LARGE_BRAIN_NEURONS,
        "simulation_timestep": 0.025, "max_sensory": 255.0, "mp_psp_max": 255, "degen_psp_max": 0,
    }
    return Model.from_metadata(
        meta, frac_bits=frac_bits, area_first=area_first, neuron_area=neuron_area,
        threshold=thr, area_limit=np.full(a, 2**31 - 1, np.int32),
        area_leak_k=np.array([k_core] * n_core + [k], np.int32),
        area_exc_mode=np.full(a, EXC_ALWAYS, np.uint8), area_exc_t=np.zeros(a, np.uint32),
        area_refractory=np.zeros(a, np.uint16), area_snooze=np.zeros(a, np.uint16),
        area_cfl=np.full(a, 65535, np.uint16), area_mp_acc=np.zeros(a, bool),
        area_mp_driven=np.zeros(a, bool), syn_ptr=syn_ptr, syn_dst=syn_dst, syn_c=syn_c,
        syn_w=syn_w, fanout=np.ones(n_tot, np.int32),
        area_psp=np.array([int(q(1.0, frac_bits))] * a, np.int32), area_degen=np.zeros(a, np.int32),
        report={"synthetic": {"n": n, "fanout": fanout, "contribution": contribution,
                              "threshold": threshold, "leak": leak, "seed": seed}})


# ----------------------------------------------------------------------------- stimuli
def stim_voxels(model: Model, frac: float, seed: int) -> dict[int, np.ndarray]:
    """``{area index: int [k, 3] voxels}``: a seeded random ``frac`` (≥ 1 voxel) of every non-core
    area with outgoing synapses. Shared with ``bench_feagi.py`` (same neurons there)."""
    out: dict[int, np.ndarray] = {}
    if frac <= 0:
        return out
    deg = np.diff(model.syn_ptr)
    for a, kind in enumerate(model.areas.kinds):
        lo, hi = int(model.area_first[a]), int(model.area_first[a + 1])
        if kind == "core" or deg[lo:hi].sum() == 0:
            continue
        w, h, d = model.areas.dims[a]
        nvox = w * h * d
        k = max(1, int(round(frac * nvox)))
        rng = np.random.default_rng([seed, a])
        v = np.sort(rng.choice(nvox, size=k, replace=False))
        out[a] = np.stack([v // (h * d), (v // d) % h, v % d], axis=1)
    return out


def genome_stimulus(model: Model, frac: float, seed: int, bursts: int) -> Stimulus:
    """The ``active`` schedule as a real stimulus document (force-fire every burst 1…bursts)."""
    entries = [{"bursts": [1, bursts], "area": model.areas.genome_ids[a],
                "voxels": vox.tolist(), "kind": "force"}
               for a, vox in stim_voxels(model, frac, seed).items()]
    return Stimulus.from_json({"stimuli": entries}, "<bench>")


class Precompiled:
    """Stimulus stand-in whose ``compile`` returns arrays computed once (so timing excludes it)."""

    def __init__(self, ptr, nrn, val, kind):
        self.arrays = (ptr, nrn, val, kind)

    @classmethod
    def of(cls, stim: Stimulus, model: Model, bursts: int, real: bool = False) -> "Precompiled":
        return cls(*stim.compile(model, bursts, real=real))

    @classmethod
    def tiled(cls, stim: Stimulus, model: Model, bursts: int, real: bool = False) -> "Precompiled":
        """A schedule that is the same every burst 1…bursts: ``stim.compile`` for 2 bursts (checked
        identical), tiled with numpy (fast and independent of how ``Stimulus.compile`` is
        implemented; it was a Python loop with one tuple per neuron and burst until 5ecea64)."""
        ptr, nrn, val, kind = stim.compile(model, 2, real=real)
        k = int(ptr[1])
        if int(ptr[2]) != 2 * k or not (np.array_equal(nrn[:k], nrn[k:]) and
                                        np.array_equal(val[:k], val[k:]) and
                                        np.array_equal(kind[:k], kind[k:])):
            raise ValueError("schedule is not the same every burst")
        return cls(np.arange(bursts + 1, dtype=np.int64) * k, np.tile(nrn[:k], bursts),
                   np.tile(val[:k], bursts), np.tile(kind[:k], bursts))

    @classmethod
    def random_force(cls, model: Model, area: int, k: int, bursts: int, seed: int) -> "Precompiled":
        """Force-fire a fresh seeded random ``k`` neurons of ``area`` every burst."""
        lo, hi = int(model.area_first[area]), int(model.area_first[area + 1])
        rng = np.random.default_rng(seed)
        nrn = np.empty(k * bursts, np.uint32)
        for b in range(bursts):
            nrn[b * k:(b + 1) * k] = lo + rng.choice(hi - lo, size=k, replace=False)
        ptr = np.arange(bursts + 1, dtype=np.int64) * k
        return cls(ptr, nrn, np.zeros(k * bursts, np.int32), np.full(k * bursts, KIND_FORCE, np.uint8))

    def last_burst(self) -> int:
        """Last burst with an entry (``Stimulus.last_burst``'s contract)."""
        ptr = self.arrays[0]
        nz = np.flatnonzero(np.diff(ptr))
        return int(nz[-1]) + 1 if len(nz) else 0

    def compile(self, model, bursts, real=False):
        ptr = self.arrays[0]
        if bursts > len(ptr) - 1:
            raise ValueError(f"precompiled stimulus covers {len(ptr) - 1} bursts, {bursts} asked")
        return self.arrays


# ----------------------------------------------------------------------------- measurement
class KernelTimer:
    """Times the kernel calls ``Twin.run`` makes, without changing ``host/twin.py``.

    ``Twin.run`` calls ``self._call(*args)`` (which, since commit 65fd704, calls the compiled
    ``run_bursts`` specialization's entry point directly after the first call), or, in older
    versions, the module attribute ``run_bursts`` (the numba dispatcher). The wrapper is installed
    in place of whichever exists. ``dispatch=True`` forces every call through the numba dispatcher
    ``twin_mod.run_bursts`` (the behaviour before 65fd704), to measure what that costs."""

    def __init__(self, dispatch: bool = False):
        self.dispatch = dispatch
        self.t = 0.0
        self.calls = 0

    @contextlib.contextmanager
    def installed(self):
        if hasattr(Twin, "_call"):
            orig = Twin.__dict__["_call"]

            def timed(tw, *a):
                t0 = time.perf_counter()
                r = twin_mod.run_bursts(*a) if self.dispatch else orig(tw, *a)
                self.t += time.perf_counter() - t0
                self.calls += 1
                return r

            Twin._call = timed
            try:
                yield self
            finally:
                Twin._call = orig
        else:
            orig = twin_mod.run_bursts

            def timed(*a):
                t0 = time.perf_counter()
                r = orig(*a)
                self.t += time.perf_counter() - t0
                self.calls += 1
                return r

            twin_mod.run_bursts = timed
            try:
                yield self
            finally:
                twin_mod.run_bursts = orig


def trace_counts(model: Model, fired: list[np.ndarray], stim_arrays=None) -> dict:
    """Synaptic events and exact fire-candidate counts per burst, recomputed from the trace."""
    deg = np.diff(model.syn_ptr)
    n = model.n_neurons
    power = model.power_neuron
    mask = np.zeros(n, bool)
    ev = np.zeros(len(fired), np.int64)
    cand = np.zeros(len(fired), np.int64)
    for b in range(len(fired)):
        parts = []
        if b > 0 and len(fired[b - 1]):
            src = fired[b - 1].astype(np.int64)
            d = deg[src]
            ev[b] = int(d.sum())
            if ev[b]:
                starts = model.syn_ptr[src]
                # flat indices of all outgoing synapses of src: starts repeated + ramp
                off = np.repeat(starts - np.concatenate(([0], np.cumsum(d)[:-1])), d)
                parts.append(model.syn_dst[np.arange(ev[b], dtype=np.int64) + off])
        if power >= 0:
            parts.append(np.array([power], np.uint32))
        if stim_arrays is not None:
            ptr, nrn, _, kind = stim_arrays
            s = slice(int(ptr[b]), int(ptr[b + 1]))
            inj = nrn[s][kind[s] != KIND_FORCE]
            if len(inj):
                parts.append(inj)
        for p in parts:
            mask[p] = True
        cand[b] = int(mask.sum()) if parts else 0
        for p in parts:
            mask[p] = False
    return {"syn_events": ev, "candidates": cand}


def bench(model: Model, stim, plan: dict[str, int], reps: int, mode: str, batch: int, log
          ) -> list[dict]:
    """Warm up, then for each ``variant: bursts`` of ``plan`` ``reps`` fresh-twin runs; medians and
    counts. Every run's per-burst digests must equal the first run's (prefix for shorter runs)."""
    t0 = time.perf_counter()
    Twin(model, mode).run(3, stim, batch=batch)  # numba compile / cache load
    warm = time.perf_counter() - t0
    ref_crc: list[int] | None = None
    out = []
    for variant, bursts in plan.items():
        walls, kernels, calls = [], [], []
        for _ in range(reps):
            tw = Twin(model, mode)
            kt = KernelTimer(dispatch=variant == "dispatch")
            with kt.installed():
                t0 = time.perf_counter()
                trace = tw.run(bursts, stim, batch=batch)
                wall = time.perf_counter() - t0
            walls.append(wall)
            kernels.append(kt.t)
            calls.append(kt.calls)
            crc = [int(c) for c in trace.burst_crc]
            if ref_crc is None:
                ref_crc = crc
            n = min(len(crc), len(ref_crc))
            if crc[:n] != ref_crc[:n]:
                raise RuntimeError(f"{variant}: trace differs from the first run's")
        counts = trace_counts(model, trace.fired, stim.arrays if stim is not None else None)
        fired = np.array([len(f) for f in trace.fired], np.int64)
        ev = int(counts["syn_events"].sum())
        cand = int(counts["candidates"].sum())
        wall = statistics.median(walls)
        kern = statistics.median(kernels)
        r = {
            "mode": mode, "variant": variant, "bursts": bursts, "reps": reps, "batch": batch,
            "warmup_s": round(warm, 3),
            "wall_s": [round(w, 6) for w in walls], "run_bursts_s": [round(k, 6) for k in kernels],
            "run_bursts_calls": calls[0],
            "wall_median_s": wall, "run_bursts_median_s": kern,
            "ms_per_burst": 1e3 * wall / bursts, "run_bursts_ms_per_burst": 1e3 * kern / bursts,
            "bursts_per_s": bursts / wall,
            "fired_total": int(fired.sum()), "fired_per_burst": float(fired.mean()),
            "syn_events_total": ev, "syn_events_per_burst": ev / bursts,
            "syn_events_per_s": ev / wall,
            "neuron_updates_total": cand, "neuron_updates_per_burst": cand / bursts,
            "neuron_updates_per_s": cand / wall,
            "final_digest": f"{trace.final_digest:08x}",
        }
        log(f"    {mode:5s} {variant:8s} {bursts} bursts: wall median {wall:.4f} s (run_bursts "
            f"{kern:.4f} s in {calls[0]} calls), {r['bursts_per_s']:.0f} bursts/s, "
            f"{r['syn_events_per_s']:.3g} syn ev/s, fired/burst {r['fired_per_burst']:.1f}, "
            f"digest {r['final_digest']}")
        out.append(r)
    return out


def machine_info() -> dict:
    import numba

    info = {"python": platform.python_version(), "numba": numba.__version__,
            "numpy": np.__version__, "nproc": os.cpu_count(), "platform": platform.platform()}
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu"] = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
        with open("/proc/meminfo") as f:
            info["mem_total_kib"] = int(next(l.split()[1] for l in f if l.startswith("MemTotal")))
    except (OSError, StopIteration):
        pass
    try:  # SMT: how many of the logical CPUs share one physical core
        with open("/sys/devices/system/cpu/cpu0/topology/thread_siblings_list") as f:
            sib = f.read().strip()
        info["threads_per_core"] = sum(
            (int(b) - int(a) + 1) if "-" in part else 1
            for part in sib.split(",") for a, _, b in [part.partition("-")])
    except (OSError, ValueError):
        pass
    return info


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return float("nan")


# ----------------------------------------------------------------------------- CLI
FMT = ("{model:18s} {workload:10s} {mode:5s} {variant:8s} {neurons:>9} {synapses:>11} {bursts:>6} "
       "{fired_per_burst:>9} {syn_events_per_burst:>10} {ms_per_burst:>10} {bursts_per_s:>9} "
       "{syn_events_per_s:>10} {neuron_updates_per_s:>10} {in_kernel:>9}")
HDR = dict(model="model", workload="workload", mode="mode", variant="variant", neurons="neurons",
           synapses="synapses", bursts="bursts", fired_per_burst="fired/b",
           syn_events_per_burst="syn ev/b", ms_per_burst="ms/burst", bursts_per_s="bursts/s",
           syn_events_per_s="syn ev/s", neuron_updates_per_s="updates/s", in_kernel="in call %")


def row_text(r: dict) -> str:
    return FMT.format(
        model=r["model"], workload=r["workload"], mode=r["mode"], variant=r["variant"],
        neurons=r["neurons"], synapses=r["synapses"], bursts=r["bursts"],
        fired_per_burst=f"{r['fired_per_burst']:.1f}",
        syn_events_per_burst=f"{r['syn_events_per_burst']:.4g}",
        ms_per_burst=f"{r['ms_per_burst']:.4g}", bursts_per_s=f"{r['bursts_per_s']:.0f}",
        syn_events_per_s=f"{r['syn_events_per_s']:.3g}",
        neuron_updates_per_s=f"{r['neuron_updates_per_s']:.3g}",
        in_kernel=f"{100 * r['run_bursts_median_s'] / r['wall_median_s']:.0f}")


def _short(x: int) -> str:
    """1000000 → '1M', 100000 → '100k'."""
    for div, suf in ((10**9, "G"), (10**6, "M"), (10**3, "k")):
        if x >= div and x % div == 0:
            return f"{x // div}{suf}"
    return str(x)


def _sha256(path: str) -> str:
    import hashlib

    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


#: sha256 of the twin source as imported (host/twin.py changes under active development)
TWIN_SHA256 = _sha256(twin_mod.__file__)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--genome", action="append", default=None,
                    help=f"bundled genome name or path (repeatable; default {', '.join(DEFAULT_GENOMES)});"
                         " '--genome none' for none")
    ap.add_argument("--bursts", type=int, default=20000,
                    help="bursts per repetition, real genomes, shipped variant")
    ap.add_argument("--dispatch-bursts", type=int, default=1024,
                    help="bursts per repetition, real genomes, dispatch variant (each batch call "
                         "costs ~0.4 s there)")
    ap.add_argument("--reps", type=int, default=5, help="repetitions (median reported)")
    ap.add_argument("--workload", choices=["idle", "active"], nargs="+", default=["idle", "active"])
    ap.add_argument("--stim-frac", type=float, default=0.05,
                    help="active: fraction of voxels force-fired per area with outgoing synapses")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--modes", nargs="+", choices=["fixed", "float"], default=["fixed", "float"],
                    help="twin modes for the real genomes (synthetic: fixed only)")
    ap.add_argument("--batch", type=int, default=256, help="Twin.run batch (bursts per compiled call)")
    ap.add_argument("--variants", nargs="+", choices=["shipped", "dispatch"], default=["shipped"],
                    help="shipped: Twin.run as is; dispatch: every kernel call through the numba "
                         "dispatcher (pre-65fd704 behaviour)")
    ap.add_argument("--synthetic", action="store_true",
                    help="also the synthetic 1 M-neuron / 100 M-synapse model")
    ap.add_argument("--synthetic-neurons", type=int, default=1_000_000)
    ap.add_argument("--synthetic-fanout", type=int, default=100)
    ap.add_argument("--synthetic-activity", type=float, nargs="+", default=[0.01, 0.10])
    ap.add_argument("--synthetic-bursts", type=int, default=30)
    ap.add_argument("--json-out")
    args = ap.parse_args(argv)
    genomes = DEFAULT_GENOMES if args.genome is None else [g for g in args.genome if g != "none"]

    def log(m):
        print(m, file=sys.stderr, flush=True)

    rows = []
    for g in genomes:
        t0 = time.perf_counter()
        model = load_model(g)
        log(f"{g}: {model.n_neurons} neurons, {model.n_synapses} synapses, F={model.frac_bits} "
            f"(load+develop+quantize {time.perf_counter() - t0:.2f} s)")
        base = {"model": os.path.basename(genome_path(g)).removesuffix(".json"),
                "neurons": model.n_neurons, "synapses": model.n_synapses}
        for wl in args.workload:
            for mode in args.modes:
                stim, extra = None, {}
                if wl == "active":
                    nb_max = max(args.bursts, args.dispatch_bursts)
                    doc = genome_stimulus(model, args.stim_frac, args.seed, nb_max)
                    stim = Precompiled.tiled(doc, model, nb_max, real=mode == "float")
                    # what Twin.run(real Stimulus) would pay per call: Stimulus.compile(1…end)
                    n_c = min(nb_max, 500)
                    t0 = time.perf_counter()
                    ref = doc.compile(model, n_c, real=mode == "float")
                    t_c = time.perf_counter() - t0
                    assert all(np.array_equal(x, y[:len(x)]) for x, y in zip(ref, stim.arrays))
                    extra = {"stim_compile_s_per_burst": t_c / n_c,
                             "forced_per_burst": int(stim.arrays[0][1] - stim.arrays[0][0]),
                             "stim_frac": args.stim_frac}
                log(f"  {wl}:")
                plan = {v: args.bursts if v == "shipped" else args.dispatch_bursts
                        for v in args.variants}
                for r in bench(model, stim, plan, args.reps, mode, args.batch, log):
                    rows.append({**base, "workload": wl, **extra, **r})
    if args.synthetic:
        t0 = time.perf_counter()
        model = synthetic_model(args.synthetic_neurons, args.synthetic_fanout, seed=args.seed)
        log(f"synthetic: {model.n_neurons} neurons, {model.n_synapses} synapses "
            f"(built in {time.perf_counter() - t0:.1f} s, RSS {rss_mib():.0f} MiB)")
        area = len(model.areas.ids) - 1
        n_area = int(model.area_first[area + 1] - model.area_first[area])
        for act in args.synthetic_activity:
            k = int(round(act * n_area))
            stim = Precompiled.random_force(model, area, k, args.synthetic_bursts, args.seed)
            log(f"  activity {100 * act:g} % ({k} forced/burst):")
            plan = {v: args.synthetic_bursts for v in args.variants}
            for r in bench(model, stim, plan, args.reps, "fixed", args.batch, log):
                rows.append({"model": f"synthetic-{_short(n_area)}-{_short(model.n_synapses)}",
                             "neurons": model.n_neurons,
                             "synapses": model.n_synapses, "workload": f"force {100 * act:g}%",
                             "forced_per_burst": k, "activity": act, **r})
            log(f"    RSS {rss_mib():.0f} MiB")
        del model
    print(FMT.format(**HDR))
    for r in rows:
        print(row_text(r))
    if args.json_out:
        os.makedirs(os.path.dirname(os.path.abspath(args.json_out)), exist_ok=True)
        doc = {"tool": "bench/bench_twin.py", "argv": sys.argv[1:] if argv is None else argv,
               "date": time.strftime("%Y-%m-%dT%H:%M:%S"), "machine": machine_info(),
               "twin_py_sha256": TWIN_SHA256,
               "settings": vars(args), "results": rows}
        with open(args.json_out, "w") as f:
            json.dump(doc, f, indent=1)
        log(f"wrote {args.json_out}")


if __name__ == "__main__":
    main()
