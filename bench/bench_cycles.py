"""Cycles per synaptic event and per neuron update of the C firmware on emulated MCUs.

Usage:
    python3 bench/bench_cycles.py [--bursts N] [--seed 1] [--only GENOME[:BOARD]] \
        [--precision fixed|fp32|both] [--json-out bench/results/cycles_<date>.json]
        (prints Markdown tables; ``--precision both`` measures each workload in fixed point and
        in fp32, side by side in one run)

Method:
1. Exact cost of every burst. ``feagi-embed build`` writes the project for a genome and a stimulus;
   ``bench/c/cycles_main.c`` replaces its ``src/main.c``: the same burst loop with a mark before and
   after every ``feagi_burst()`` call. The emulator reports the cost between the marks: simavr
   cycles (AVR; GPIOR2 marks, ``firmware/hal/avr_run.c``) or QEMU executed guest instructions (our
   TCG plugin ``firmware/hal/icount_plugin.c`` with ``mark=<address of feagi_hal_mark>``).
   Instructions are not cycles: QEMU has no timing model for these cores. Compiler flags are the
   board's own (``boards/<board>.toml``). Queueing the stimulus and printing are outside the marks.
2. Bit-exact check. The run's B lines must equal the numba twin's burst digests, every burst.
3. Exact counts per burst b from the twin's trace (nothing estimated): synaptic events E (sum of the
   fan-outs of b-1's fired set, docs/model.md §3 step 5), neuron updates U (fire candidates that
   step 6 processes: distinct synaptic targets of b-1's fired set + the power neuron + injected
   neurons; cross-checked with ``bench_twin.trace_counts``), sources S (size of b-1's fired set),
   fired F (b's fired set, forced included), forced and injected queue entries, bit-scan steps (the
   runtime's ``bm_next`` shifts a bitmap word from bit 0 to each member: sum of (id & 31) over the
   candidate and fired sets of b and b-1, the four scans a member costs) and h^2 for h = candidates
   in the accumulator hole (their sums live in a side list searched linearly: quadratic).
4. Separation by design: the cost probe (:func:`probe_genome`, 119 neurons) has areas with fan-out
   32 and 2, a never-firing and an always-firing target area and an injection-only area; its
   stimulus (:func:`probe_stimulus`) draws every count independently per burst. Least squares
   cost_b = c0 + cE*E + cU*U + cF*F + cS*S + c_forced*forced + c_inj*injected + c_bit*bit_scan
   + c_h*h_b^2 + c_h'*h_(b-1)^2 per board gives the per-item costs (standard errors, R^2).
5. Validation on shared genomes with a seeded random stimulus (:func:`random_stimulus`: per burst
   idle, force-fire, inject or both): each burst's cost is predicted from the probe's coefficients
   of the same board with only c0 refitted (it depends on the genome: N/32 bitmap words, refractory
   countdowns); the tables give R^2 and the relative error per burst, and which share of the time
   goes to events, updates, bit scans and the hole side list.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bench_twin import trace_counts
from feagi_embed.host.twin import Twin

from feagi_embed import __version__
from feagi_embed.boards import load_board
from feagi_embed.build import FP32_CFLAGS, build_project
from feagi_embed.trace import parse_protocol
from feagi_embed.connectome import develop
from feagi_embed.genome import load_genome
from feagi_embed.quantize import Model, quantize
from feagi_embed.stimulus import KIND_FORCE, Stimulus
from feagi_embed.targets import build_elf, elf_symbols, missing_build_tools, missing_run_tools, run_elf

GENOMES = ROOT / "feagi_embed" / "genomes"
BENCH_MAIN = ROOT / "bench" / "c" / "cycles_main.c"

PROBE = "probe"
#: (genome, boards, bursts). Small genomes run everywhere (AVR mega2560 has 8 KB RAM; the rp2040 stand-in,
#: QEMU microbit, 16 KB); gesture_recognition_12_1 (8,358 neurons) fits the 496 KB of the lx106 sim
#: machine; webots_basic (16,034 neurons, 121,776 synapses) is the high-connectivity case.
#: The schedule is compiled into flash (13 B per entry), so big genomes get fewer bursts.
WORKLOADS: list[tuple[str, list[str], int]] = [
    (PROBE, ["mega2560", "stm32f4", "rp2040", "esp32c3", "esp32"], 200),
    ("test_timer", ["mega2560", "stm32f4", "rp2040", "esp32c3", "esp32"], 300),
    ("webots_pioneer2", ["mega2560", "stm32f4", "rp2040", "esp32c3", "esp32"], 300),
    ("gesture_recognition_12_1", ["stm32f4", "esp32c3", "esp32"], 300),
    ("webots_basic", ["stm32f4", "esp32c3"], 150),
]
#: at most this many force-fires and this many injections per burst
K_MAX = 200

CORE = "core"
REGRESSORS = ("intercept", "syn_events", "neuron_updates", "sources", "fired", "forced", "injected",
              "bit_scan", "hole_sq", "hole_sq_prev")


def load_model(genome: str) -> Model:
    """Developed and quantized model of a bundled genome (or of the cost probe, ``"probe"``)."""
    if genome == PROBE:
        return quantize(develop(load_genome(probe_genome())))
    return quantize(develop(load_genome(GENOMES / f"{genome}.json")))


def _area(aid: str, name: str, w: int, **genes) -> dict:
    out = {f"_____10c-{aid}-cx-__name-t": name, f"_____10c-{aid}-cx-___bbx-i": w,
           f"_____10c-{aid}-cx-___bby-i": 1, f"_____10c-{aid}-cx-___bbz-i": 1}
    for code, value in genes.items():
        out[f"_____10c-{aid}-{'cx' if code == 'dstmap-d' else 'nx'}-{code}"] = value
    return out


def probe_genome() -> dict:
    """The cost probe: a flat 2.x genome whose per-burst counts the stimulus sets independently.

    - ``src_a`` (16 neurons) → ``dst`` all-to-all: fan-out 32 (many events onto few candidates);
    - ``src_b`` (16) → ``dst`` and → ``fir`` block-to-block: fan-out 2 (few events per source);
    - ``dst`` (32): threshold 1000, never fires: its candidates take the integrate + leak path;
    - ``fir`` (16): threshold 0.001, no refractory period or consecutive limit: every candidate fires;
    - ``sen`` (32): no synapses in or out, so it lies in the accumulator hole (side list).
    PSP 0.01, so ``dst`` stays far below its threshold.
    """
    def rule(m):
        return [m, [1, 1, 1], 1, False]

    bp: dict = {}
    for a in (_area("c__sra", "src_a", 16, **{"pstcr_-f": 0.01, "dstmap-d": {"c__dst": [rule("all_to_all")]}}),
              _area("c__srb", "src_b", 16, **{"pstcr_-f": 0.01, "dstmap-d": {
                  "c__dst": [rule("block_to_block")], "c__fir": [rule("block_to_block")]}}),
              _area("c__dst", "dst", 32, **{"fire_t-f": 1000.0, "leak_c-f": 0.5, "c_fr_c-i": 0}),
              _area("c__fir", "fir", 16, **{"fire_t-f": 0.001, "c_fr_c-i": 0, "refrac-i": 0}),
              _area("c__sen", "sen", 32, **{"fire_t-f": 1000.0})):
        bp.update(a)
    return {"version": "2.0", "genome_title": "feagi-embed cycle probe", "blueprint": bp,
            "neuron_morphologies": {"all_to_all": {"type": "patterns", "class": "core", "parameters": {
                "patterns": [[["*", "*", "*"], ["*", "*", "*"]]]}}},
            "physiology": {"simulation_timestep": 0.025}}


def probe_stimulus(model: Model, bursts: int, seed: int) -> Stimulus:
    """Per burst, independently with probability 1/2 each: force-fire 1-8 of ``src_a``, 1-16 of
    ``src_b``; inject 0.5 into 1-16 of ``dst``, 1.0 into 1-16 of ``fir`` (they fire), 0.5 into
    1-16 of ``sen`` (hole). Synaptic events, neuron updates, fired, forced, injected and hole counts
    therefore vary independently from burst to burst."""
    rng = np.random.default_rng(seed)
    plan = [("c__sra", 16, 8, "force", None), ("c__srb", 16, 16, "force", None),
            ("c__dst", 32, 16, "inject", 0.5), ("c__fir", 16, 16, "inject", 1.0),
            ("c__sen", 32, 16, "inject", 0.5)]
    entries = []
    for b in range(1, bursts + 1):
        for area, w, kmax, kind, value in plan:
            if rng.random() < 0.5:
                continue
            xs = np.sort(rng.choice(w, size=int(rng.integers(1, kmax + 1)), replace=False))
            e = {"bursts": [b, b], "area": area, "voxels": [[int(x), 0, 0] for x in xs], "kind": kind}
            if value is not None:
                e["value"] = value
            entries.append(e)
    return Stimulus.from_json({"stimuli": entries}, "<bench_cycles probe>")


def random_stimulus(model: Model, bursts: int, seed: int, frac: float = 0.04) -> Stimulus:
    """Seeded mixed schedule (see the module docstring, step 1), as a real :class:`Stimulus`.

    Per burst: mode idle / force / inject / both with equal odds; k_f, k_i uniform in
    [1, min(K_MAX, max(3, frac * eligible voxels))]; voxels drawn without replacement per area; injected values
    drawn from {0.25, 0.5, 1, 2, 4} with random sign (never 0, within the sensory budget).
    """
    rng = np.random.default_rng(seed)
    deg = np.diff(model.syn_ptr)
    kinds, dims, gids = model.areas.kinds, model.areas.dims, model.areas.genome_ids
    vox_force, vox_inj = [], []  # (area, voxel index)
    for a, kind in enumerate(kinds):
        if kind == CORE:
            continue
        w, h, d = dims[a]
        nvox = w * h * d
        lo, hi = int(model.area_first[a]), int(model.area_first[a + 1])
        vox_inj += [(a, v) for v in range(nvox)]
        if deg[lo:hi].sum() > 0:
            vox_force += [(a, v) for v in range(nvox)]
    budget = float(model.max_sensory)
    entries = []

    def add(pool, k, b, kind):
        if not pool or k <= 0:
            return
        pick = rng.choice(len(pool), size=min(k, len(pool)), replace=False)
        by_area: dict[int, list[list[int]]] = {}
        for i in pick:
            a, v = pool[int(i)]
            _, h, d = dims[a]
            by_area.setdefault(a, []).append([v // (h * d), (v // d) % h, v % d])
        for a, vox in sorted(by_area.items()):
            e = {"bursts": [b, b], "area": gids[a], "voxels": vox, "kind": kind}
            if kind == "inject":
                val = float(rng.choice([0.25, 0.5, 1.0, 2.0, 4.0])) * float(rng.choice([-1, 1]))
                e["value"] = max(-budget, min(budget, val))
            entries.append(e)

    kf_max = min(K_MAX, max(3, int(frac * len(vox_force))))
    ki_max = min(K_MAX, max(3, int(frac * len(vox_inj))))
    for b in range(1, bursts + 1):
        mode = int(rng.integers(4))
        if mode in (1, 3):
            add(vox_force, int(rng.integers(1, kf_max + 1)), b, "force")
        if mode in (2, 3):
            add(vox_inj, int(rng.integers(1, ki_max + 1)), b, "inject")
    return Stimulus.from_json({"stimuli": entries}, "<bench_cycles>")


def candidate_sets(model: Model, fired: list[np.ndarray], arrays) -> tuple[list[np.ndarray], np.ndarray]:
    """Per burst: the sorted fire candidate ids step 6 processes (distinct synaptic targets of the
    previous burst's fired set, the power neuron, injected neurons) and the synaptic event count
    (sum of the previous fired set's fan-outs). Same definition as ``bench_twin.trace_counts``."""
    deg = np.diff(model.syn_ptr)
    power = model.power_neuron
    ptr, nrn, _, kind = arrays
    cands, ev = [], np.zeros(len(fired), np.int64)
    for b in range(len(fired)):
        parts = [np.empty(0, np.int64)]
        if b > 0 and len(fired[b - 1]):
            src = fired[b - 1].astype(np.int64)
            d = deg[src]
            ev[b] = int(d.sum())
            if ev[b]:
                parts += [model.syn_dst[model.syn_ptr[i]:model.syn_ptr[i + 1]].astype(np.int64)
                          for i in src[d > 0]]
        if power >= 0:
            parts.append(np.array([power], np.int64))
        s = slice(int(ptr[b]), int(ptr[b + 1]))
        parts.append(nrn[s][kind[s] != KIND_FORCE].astype(np.int64))
        cands.append(np.unique(np.concatenate(parts)))
    return cands, ev


def burst_counts(model: Model, trace, stim: Stimulus, bursts: int,
                 hole: tuple[int, int] = (0, 0)) -> dict[str, np.ndarray]:
    """Exact per-burst regressors from the twin trace (module docstring, step 5)."""
    arrays = stim.compile(model, bursts)
    cands, ev = candidate_sets(model, trace.fired, arrays)
    check = trace_counts(model, trace.fired, arrays)  # the twin benchmark's independent count
    assert np.array_equal(check["syn_events"], ev)
    assert np.array_equal(check["candidates"], [len(c) for c in cands])
    fired = np.array([len(f) for f in trace.fired], np.int64)

    def prev(x):
        return np.concatenate(([0], x[:-1]))

    lo, hi = hole
    h = np.array([int(((c >= lo) & (c < hi)).sum()) for c in cands], np.int64)
    # bm_next finds a member by shifting its word from bit 0: (id & 31) steps per member
    scan_c = np.array([int((c & 31).sum()) for c in cands], np.int64)
    scan_f = np.array([int((f.astype(np.int64) & 31).sum()) for f in trace.fired], np.int64)
    ptr, nrn, _, kind = arrays
    forced = np.array([len(np.unique(nrn[ptr[b]:ptr[b + 1]][kind[ptr[b]:ptr[b + 1]] == KIND_FORCE]))
                       for b in range(bursts)], np.int64)
    injected = np.array([int((kind[ptr[b]:ptr[b + 1]] != KIND_FORCE).sum()) for b in range(bursts)], np.int64)
    return {"syn_events": ev, "neuron_updates": np.array([len(c) for c in cands], np.int64),
            "sources": prev(fired), "fired": fired, "forced": forced, "injected": injected,
            "bit_scan": scan_c + prev(scan_c) + scan_f + prev(scan_f),
            "hole_sq": h * h, "hole_sq_prev": prev(h * h), "hole_candidates": h}


def fit(cost: np.ndarray, counts: dict[str, np.ndarray]) -> dict:
    """Least squares cost_b = c0 + cE*E + cU*U + cS*S + cF*F; coefficients, standard errors, R^2."""
    X = np.column_stack([np.ones(len(cost))] + [counts[k].astype(float) for k in REGRESSORS[1:]])
    y = cost.astype(float)
    # drop regressors that never vary (e.g. no synapse ever fires) so the fit stays determined
    keep = [0] + [j for j in range(1, X.shape[1]) if np.ptp(X[:, j]) > 0]
    Xk = X[:, keep]
    coef, *_ = np.linalg.lstsq(Xk, y, rcond=None)
    res = y - Xk @ coef
    dof = max(1, len(y) - len(keep))
    s2 = float(res @ res) / dof
    cov = s2 * np.linalg.pinv(Xk.T @ Xk)
    se = np.sqrt(np.maximum(np.diag(cov), 0))
    ss_tot = float(((y - y.mean()) ** 2).sum())
    out = {"coef": {}, "stderr": {}}
    for j, name in enumerate(REGRESSORS):
        if j in keep:
            i = keep.index(j)
            out["coef"][name] = float(coef[i])
            out["stderr"][name] = float(se[i])
        else:
            out["coef"][name] = None
            out["stderr"][name] = None
    out["r2"] = 1.0 - float(res @ res) / ss_tot if ss_tot > 0 else 1.0
    out["max_abs_residual"] = float(np.abs(res).max())
    out["rank"] = int(np.linalg.matrix_rank(Xk))
    return out


def measure(genome: str, board: str, bursts: int, seed: int, work: Path, log=print,
            precision: str = "fixed", synapses: str = "table") -> dict:
    """Build and run one workload; return its exact per-burst costs and counts (module docstring).
    ``precision="fp32"``: the firmware built with ``--precision fp32`` (checked against the f32
    twin; the board's flags plus ``-ffp-contract=off``). ``synapses``: table / procedural / auto
    storage of mapping rules (bench_procedural.py).

    Raises:
        RuntimeError: the firmware failed, or a burst digest differs from the numba twin.
    """
    b = load_board(board)
    model = load_model(genome)
    stim = probe_stimulus(model, bursts, seed) if genome == PROBE else random_stimulus(model, bursts, seed)
    tr = Twin(model, "float" if precision == "fp32" else "fixed").run(bursts, stim)
    res = build_project(model, b, work / "proj", stimulus=stim, bursts=bursts, state_every=0,
                        precision=precision, synapses=synapses)
    proj = res.out_dir
    lib = proj / "lib" / "feagi_runtime" / "src"
    br = build_elf(b, [proj / "src" / "feagi_model.c", BENCH_MAIN, lib], [proj / "include", lib],
                   out_dir=work / "build", name="cycles",
                   extra_cflags=FP32_CFLAGS if precision == "fp32" else ())
    mark = elf_symbols(br.elf)["feagi_hal_mark"].addr if b.emulator_kind == "qemu" else None
    t0 = time.perf_counter()
    run = run_elf(b, br.elf, timeout=600, mark=mark)
    dt = time.perf_counter() - t0
    if run.exit_code != 0:
        raise RuntimeError(f"{genome} on {board}: exit {run.exit_code}\n{run.stderr[-2000:]}")
    got, _, _ = parse_protocol(run.stdout)
    if got != list(tr.burst_crc):
        first = next((i + 1 for i, (x, y) in enumerate(zip(got, tr.burst_crc)) if x != y), len(got) + 1)
        raise RuntimeError(f"{genome} on {board}: burst digests differ from the twin at burst {first}")
    cost = np.array(run.regions, np.int64)
    if len(cost) != bursts:
        raise RuntimeError(f"{genome} on {board}: {len(cost)} timed regions for {bursts} bursts")
    hole = (res.plan.constants["hole_lo"], res.plan.constants["hole_hi"])
    counts = burst_counts(model, tr, stim, bursts, hole)
    log(f"{genome:26s} {board:9s} {run.metric_kind:12s} bursts={bursts} mean={cost.mean():,.0f} ({dt:.1f} s)")
    return {
        "genome": genome, "board": board, "precision": precision, "emulator": b.emulator_kind,
        "machine": str(b.emulator.get("machine", b.emulator.get("mcu", ""))), "cpu": b.emulator.get("cpu"),
        "metric": run.metric_kind, "cc": b.cc, "cflags": list(b.cflags), "compiler_command": list(br.command),
        "neurons": model.n_neurons, "synapses": model.n_synapses, "bursts": bursts, "seed": seed,
        "digests_equal_twin": True, "per_burst_cost": cost.tolist(),
        "counts": {k: v.tolist() for k, v in counts.items()},
        "totals": {"cost": int(cost.sum()), **{k: int(v.sum()) for k, v in counts.items()}},
        "emulator_seconds": dt,
    }


def validate(row: dict, probe_fit: dict) -> dict:
    """Predict a real workload's per-burst costs from the probe's coefficients (same board), with
    only the fixed per-burst cost refitted (it depends on the genome: N/32 bitmap words, the
    refractory countdown); report how well that explains the measured costs."""
    cost = np.array(row["per_burst_cost"], float)
    var = np.zeros(len(cost))
    for k in REGRESSORS[1:]:
        c = probe_fit["coef"].get(k)
        if c is not None:
            var += c * np.array(row["counts"][k], float)
    c0 = float(np.mean(cost - var))
    pred = c0 + var
    res = cost - pred
    ss_tot = float(((cost - cost.mean()) ** 2).sum())
    rel = np.abs(res) / np.maximum(cost, 1)

    def share(*keys):
        return sum((probe_fit["coef"].get(k) or 0.0) * float(np.sum(row["counts"][k])) for k in keys) / cost.sum()

    return {"intercept": c0, "r2": 1 - float(res @ res) / ss_tot if ss_tot > 0 else 1.0,
            "median_rel_error": float(np.median(rel)), "p95_rel_error": float(np.quantile(rel, 0.95)),
            "share_events": share("syn_events"), "share_updates": share("neuron_updates", "fired"),
            "share_bit_scan": share("bit_scan"), "share_hole": share("hole_sq", "hole_sq_prev")}


def compiler_versions(boards: set[str]) -> dict[str, str]:
    """First line of ``<cc> --version`` per board compiler."""
    out = {}
    for name in sorted(boards):
        cc = load_board(name).cc
        try:
            out[cc] = subprocess.run([cc, "--version"], capture_output=True, text=True,
                                     check=False).stdout.splitlines()[0]
        except (OSError, IndexError):
            out[cc] = "?"
    return out


CORE = {"mega2560": "AVR ATmega2560, simavr", "uno": "AVR ATmega328P, simavr",
        "stm32f4": "Cortex-M4, QEMU netduinoplus2", "rp2040": "Cortex-M0 stand-in, QEMU microbit",
        "esp32c3": "RV32IMC, QEMU virt", "esp32": "Xtensa lx106 stand-in, QEMU sim"}


def fmt(x: float | None, se: float | None = None) -> str:
    if x is None:
        return "-"
    s = f"{x:,.1f}" if abs(x) < 1000 else f"{x:,.0f}"
    return s + (f" ± {se:.1f}" if se is not None else "")


def _prec(r: dict) -> str:
    """Board-cell suffix of an fp32 row."""
    return ", fp32" if r.get("precision") == "fp32" else ""


def probe_table(rows: list[dict]) -> str:
    """Markdown table of the probe fits (one row per board)."""
    lines = [("| board (emulated core) | unit | bursts | **per synaptic event** | **per neuron update** | "
              "per fired neuron (extra) | per source neuron | per forced neuron | per injection | "
              "per bit-scan step | per hole candidate² (this / next burst) | fixed per burst | R² | "
              "max abs. residual |"),
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        f, c, se = r["fit"], r["fit"]["coef"], r["fit"]["stderr"]
        lines.append(
            f"| {r['board']}{_prec(r)} ({CORE.get(r['board'], r['emulator'])}) | {r['metric']} | {r['bursts']} | "
            f"**{fmt(c['syn_events'], se['syn_events'])}** | **{fmt(c['neuron_updates'], se['neuron_updates'])}** | "
            f"{fmt(c['fired'], se['fired'])} | {fmt(c['sources'], se['sources'])} | "
            f"{fmt(c['forced'], se['forced'])} | {fmt(c['injected'], se['injected'])} | "
            f"{fmt(c['bit_scan'], se['bit_scan'])} | {fmt(c['hole_sq'])} / {fmt(c['hole_sq_prev'])} | "
            f"{fmt(c['intercept'], se['intercept'])} | {f['r2']:.5f} | {f['max_abs_residual']:,.0f} |")
    return "\n".join(lines)


def validation_table(rows: list[dict]) -> str:
    """Markdown table: real genomes predicted from the probe coefficients."""
    lines = [("| genome | board | unit | neurons | synapses | bursts | syn. events | neuron updates | "
              "mean per burst | fixed per burst (refitted) | R² | median / p95 rel. error per burst | "
              "share: events / updates+fires / bit scans / hole side list |"),
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        v = r["validation"]
        lines.append(
            f"| {r['genome']} | {r['board']}{_prec(r)} | {r['metric']} | {r['neurons']:,} | {r['synapses']:,} | "
            f"{r['bursts']} | {r['totals']['syn_events']:,} | {r['totals']['neuron_updates']:,} | "
            f"{r['totals']['cost'] / r['bursts']:,.0f} | {fmt(v['intercept'])} | {v['r2']:.4f} | "
            f"{100 * v['median_rel_error']:.1f} % / {100 * v['p95_rel_error']:.1f} % | "
            f"{100 * v['share_events']:.0f} / {100 * v['share_updates']:.0f} / {100 * v['share_bit_scan']:.0f} / "
            f"{100 * v['share_hole']:.0f} % |")
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bursts", type=int, help="bursts per workload (default: per workload, WORKLOADS)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", action="append", default=[],
                    help="GENOME or GENOME:BOARD (repeatable; the probe always runs on the boards used)")
    ap.add_argument("--precision", choices=["fixed", "fp32", "both"], default="fixed",
                    help="firmware arithmetic (both: each workload in fixed point and in fp32)")
    ap.add_argument("--json-out")
    args = ap.parse_args(argv)
    precisions = ["fixed", "fp32"] if args.precision == "both" else [args.precision]
    todo = []
    for genome, boards, nb in WORKLOADS:
        for board in boards:
            if args.only and not any(o == genome or o == f"{genome}:{board}" for o in args.only):
                continue
            todo.append((genome, board, args.bursts or nb))
    used = {bd for _, bd, _ in todo}
    todo = [(PROBE, bd, args.bursts or WORKLOADS[0][2]) for bd in WORKLOADS[0][1]
            if bd in used and (PROBE, bd) not in {(g, x) for g, x, _ in todo}] + todo
    probes, rows, skipped = {}, [], []
    todo = [(g, bd, nb, p) for g, bd, nb in todo for p in precisions]
    with tempfile.TemporaryDirectory(prefix="feagi-bench-cycles-") as td:
        for i, (genome, board, nb, prec) in enumerate(todo):
            miss = missing_build_tools(board) + missing_run_tools(board)
            if miss:
                skipped.append({"genome": genome, "board": board, "missing": miss})
                print(f"skip {genome} on {board}: missing {miss}", file=sys.stderr)
                continue
            r = measure(genome, board, nb, args.seed, Path(td) / str(i),
                        log=lambda m: print(m, file=sys.stderr), precision=prec)
            if genome == PROBE:
                r["fit"] = fit(np.array(r["per_burst_cost"]), {k: np.array(v) for k, v in r["counts"].items()})
                probes[(board, prec)] = r
            else:
                r["validation"] = validate(r, probes[(board, prec)]["fit"])
                rows.append(r)
    print(probe_table(list(probes.values())))
    print()
    print(validation_table(rows))
    if args.json_out:
        git = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, check=False).stdout.strip()
        meta = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                "git": git, "feagi_embed": __version__, "host": platform.platform(),
                "qemu": subprocess.run(["qemu-system-arm", "--version"], capture_output=True, text=True,
                                       check=False).stdout.splitlines()[:1],
                "compilers": compiler_versions({r["board"] for r in rows} | {bd for bd, _ in probes}),
                "command": " ".join(["python3", "bench/bench_cycles.py", *(argv or sys.argv[1:])])}
        text = json.dumps({"meta": meta, "probes": list(probes.values()), "rows": rows, "skipped": skipped},
                          indent=1)
        # one line per numeric list (per-burst costs and counts)
        text = re.sub(r"\[\n\s*([-0-9.eE,\n ]+?)\n\s*\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", text)
        Path(args.json_out).write_text(text + "\n")


if __name__ == "__main__":
    main()
