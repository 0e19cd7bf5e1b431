"""Cycles per synaptic event of procedural synapses vs tables, side by side (issue 14 part 5).

Usage:
    python3 bench/bench_procedural.py [--boards stm32f4,esp32c3] [--bursts N] [--seed 1] \
        [--json-out bench/results/procedural_<date>.json]        (prints Markdown tables)
    python3 bench/bench_procedural.py --flash [--json-out …]   (stored bytes per synapse)

Method (bench/bench_cycles.py does the measuring: exact instructions per burst between marks,
QEMU TCG plugin; digests checked against the numba twin every burst):
1. The cost probe of bench_cycles (an all-to-all pattern, fan-out 32, and two block_to_block
   mappings, fan-out 1 each) is run twice on each board, with ``--synapses table`` and
   ``--synapses procedural`` (every rule a record), same stimulus. The least-squares fit of
   bench_cycles gives the marginal instructions per synaptic event (cE) and per fired source (cS)
   of either build.
2. Real genomes, same seeded stimulus, table vs procedural vs auto builds: everything but the
   propagation is identical (same fired sets, same candidates), so the difference of the total
   instructions divided by the synaptic events is the extra cost per event of the procedural
   path; ``effective = cE(table) + (cost(mode) − cost(table)) / events`` is its cost per event,
   and the ratio ``effective / cE(table)`` is the number the issue bounds (≤ 1.5).
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import bench_cycles as bc  # noqa: E402

from feagi_embed import __version__  # noqa: E402

#: (genome, bursts): the rule-heavy bundled genomes that fit the emulated boards' RAM
GENOMES = [("gesture_recognition_12_1", 120), ("webots_basic", 80), ("test_timer", 200)]
MODES = ("table", "procedural", "auto")


def run(boards: list[str], bursts: int | None, seed: int, log) -> dict:
    """All measurements: ``{"probes": {board: {mode: fit}}, "rows": [...]}``."""
    probes: dict = {}
    rows = []
    fits: dict = {}
    with tempfile.TemporaryDirectory(prefix="feagi-bench-proc-") as td:
        k = 0
        for board in boards:
            probes[board] = {}
            per_burst: dict = {}
            for mode in ("table", "procedural"):
                k += 1
                r = bc.measure(bc.PROBE, board, bursts or 200, seed, Path(td) / str(k), log, synapses=mode)
                probes[board][mode] = bc.fit(np.array(r["per_burst_cost"]),
                                             {n: np.array(v) for n, v in r["counts"].items()})
                per_burst[(bc.PROBE, mode)] = np.array(r["per_burst_cost"], float)
            ce_table = probes[board]["table"]["coef"]["syn_events"]
            for genome, nb in GENOMES:
                tot = {}
                for mode in MODES:
                    k += 1
                    r = bc.measure(genome, board, bursts or nb, seed, Path(td) / str(k), log, synapses=mode)
                    tot[mode] = r["totals"]
                    per_burst[(genome, mode)] = np.array(r["per_burst_cost"], float)
                events = tot["table"]["syn_events"]
                row = {"genome": genome, "board": board, "bursts": bursts or nb, "events": events,
                       "cost": {m: tot[m]["cost"] for m in MODES}}
                for mode in ("procedural", "auto"):
                    eff = ce_table + (tot[mode]["cost"] - tot["table"]["cost"]) / max(events, 1)
                    row[f"effective_{mode}"] = eff
                    row[f"ratio_{mode}"] = eff / ce_table
                rows.append(row)
            fits[board] = fit_cost(_samples(per_burst, bursts, seed), ce_table)
    return {"probes": probes, "rows": rows, "cost_fit": fits}


def _samples(per_burst: dict, bursts: int | None, seed: int) -> list:
    """:func:`fit_cost` samples of one board: every workload's procedural and auto builds
    against its table build."""
    out = []
    for genome, nb in [(bc.PROBE, 200)] + GENOMES:
        model = bc.load_model(genome)
        for mode in ("procedural", "auto"):
            if (genome, mode) not in per_burst:
                continue
            xb, mb = burst_terms(model, mode, genome, bursts or nb, seed)
            out.append((per_burst[(genome, mode)] - per_burst[(genome, "table")], xb, mb))
    return out


#: per-burst regressors of the cost-model fit (:func:`fit_cost`), names as in ``COST``
FIT_TERMS = ("rule_event", "rule_list_event", "rule_run", "rule_vector", "rule_row",
             "rule_single", "source")


def _runs_per_source(model, r) -> np.ndarray:
    """Runs of consecutive targets ``proc_axis`` walks for every neuron of ``r``'s source area."""
    from feagi_embed.plan.procedural import runs_per_source

    return runs_per_source(model, r)


def neuron_terms(model, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """Per source neuron, what its firing costs the ``mode`` build beyond the table build:
    ``(X [N, len(FIT_TERMS)], moved [N])`` with the :data:`FIT_TERMS` counts (procedural events
    inside runs / of list rules, runs, vectors tried, rule x source decodes, single-target rule
    decodes, and 1 for every neuron when the build has rules: the per-source dispatch) and
    ``moved`` the synapses that left the tables (the table build's events)."""
    from feagi_embed.plan.procedural import _ranges, _single, choose, procedural_rules

    n = model.n_neurons
    x = np.zeros((n, len(FIT_TERMS)))
    moved = np.zeros(n)
    chosen = procedural_rules(choose(model, mode))
    if not chosen:
        return x, moved
    col = {k: j for j, k in enumerate(FIT_TERMS)}
    src_of = np.repeat(np.arange(n), np.diff(np.asarray(model.syn_ptr, np.int64)))
    syn_rule = np.asarray(model.syn_rule, np.int64)
    first = np.asarray(model.area_first, np.int64)
    for ri in chosen:
        r = model.rules[ri]
        lo, hi = int(first[r.src_area]), int(first[r.src_area + 1])
        ev = np.bincount(src_of[syn_rule == ri], minlength=n)[lo:hi].astype(float)
        moved[lo:hi] += ev
        if _single(r, model):
            x[lo:hi, col["rule_single"]] += 1
            continue
        x[lo:hi, col["rule_row"]] += 1
        if r.kind == "vectors":
            x[lo:hi, col["rule_event"]] += ev
            x[lo:hi, col["rule_vector"]] += len(r.vectors)
        elif _ranges(r):
            x[lo:hi, col["rule_event"]] += ev
            x[lo:hi, col["rule_run"]] += _runs_per_source(model, r)
        else:
            x[lo:hi, col["rule_list_event"]] += ev
    x[:, col["source"]] = 1.0
    return x, moved


def burst_terms(model, mode: str, genome: str, bursts: int, seed: int):
    """Per burst b: the :func:`neuron_terms` summed over b-1's fired set (the twin's trace, same
    stimulus as ``bench_cycles.measure``): ``(X [bursts, K], moved [bursts])``."""
    from feagi_embed.host.twin import Twin

    stim = (bc.probe_stimulus(model, bursts, seed) if genome == bc.PROBE
            else bc.random_stimulus(model, bursts, seed))
    fired = Twin(model, "fixed").run(bursts, stim).fired
    xn, mn = neuron_terms(model, mode)
    xb, mb = np.zeros((bursts, xn.shape[1])), np.zeros(bursts)
    for b in range(1, bursts):
        f = np.asarray(fired[b - 1], np.int64)
        xb[b], mb[b] = xn[f].sum(axis=0), mn[f].sum()
    return xb, mb


def fit_cost(samples: list[tuple[np.ndarray, np.ndarray, np.ndarray]], ce_table: float) -> dict:
    """Least squares of the :data:`FIT_TERMS` costs from ``(extra cost [B], X [B, K], moved
    [B])`` samples (one per workload and build: the build's minus the table build's cost per
    burst): ``extra + ce_table * moved = X @ coef + fixed[sample]`` (a fixed per-burst difference
    per sample). Returns ``{"coef", "stderr", "r2", "n"}``."""
    y = np.concatenate([e + ce_table * m for e, _, m in samples])
    x = np.concatenate([xx for _, xx, _ in samples])
    used = [j for j in range(x.shape[1]) if np.any(x[:, j])]
    # one fixed per-burst difference per sample (plan constants, code placement), not reported
    fixed = np.zeros((len(y), len(samples)))
    row = 0
    for k, (e, _, _) in enumerate(samples):
        fixed[row:row + len(e), k] = 1.0
        row += len(e)
    xu = np.concatenate([x[:, used], fixed], axis=1)
    coef, *_ = np.linalg.lstsq(xu, y, rcond=None)
    res = y - xu @ coef
    dof = max(len(y) - xu.shape[1], 1)
    cov = np.linalg.pinv(xu.T @ xu) * float(res @ res) / dof
    ss = float(((y - y.mean()) ** 2).sum())
    out = {"coef": {}, "stderr": {}, "n": int(len(y)),
           "r2": 1 - float(res @ res) / ss if ss > 0 else 1.0}
    for k, j in enumerate(used):
        out["coef"][FIT_TERMS[j]] = float(coef[k])
        out["stderr"][FIT_TERMS[j]] = float(np.sqrt(max(cov[k, k], 0.0)))
    return out


def tables(res: dict) -> str:
    """Markdown: probe coefficients per mode, then the real-genome side-by-side rows."""
    out = ["| board | build | instr./event cE | instr./source cS | R^2 |", "|---|---|---:|---:|---:|"]
    for board, fits in res["probes"].items():
        for mode, f in fits.items():
            c, s = f["coef"], f["stderr"]
            out.append(f"| {board} | {mode} | {c['syn_events']:.1f} ± {s['syn_events']:.1f} | "
                       f"{c['sources']:.1f} ± {s['sources']:.1f} | {f['r2']:.4f} |")
    out += ["", "| genome | board | events | instr. table | procedural | auto | "
            "per event procedural (ratio) | per event auto (ratio) |",
            "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in res["rows"]:
        c = r["cost"]
        out.append(f"| {r['genome']} | {r['board']} | {r['events']:,} | {c['table']:,} | "
                   f"{c['procedural']:,} | {c['auto']:,} | {r['effective_procedural']:.1f} "
                   f"({r['ratio_procedural']:.2f}x) | {r['effective_auto']:.1f} "
                   f"({r['ratio_auto']:.2f}x) |")
    if res.get("cost_fit"):
        out += ["", "| board | " + " | ".join(FIT_TERMS) + " | R^2 | bursts |",
                "|---|" + "---:|" * (len(FIT_TERMS) + 2)]
        for board, f in res["cost_fit"].items():
            cells = [f"{f['coef'][k]:.1f} ± {f['stderr'][k]:.1f}" if k in f["coef"] else "-"
                     for k in FIT_TERMS]
            out.append(f"| {board} | " + " | ".join(cells) + f" | {f['r2']:.4f} | {f['n']} |")
    return "\n".join(out)


SYNAPSE_BUFFERS = ("syn_ptr", "syn_dst", "syn_c", "syn_w", "area_sp_base")


def flash_rows() -> list[dict]:
    """Per bundled genome: stored synapse bytes (CSR offsets, targets, contributions, weights and
    the rule records) and total model flash of the C plan, table vs auto vs procedural."""
    from feagi_embed.cli import bundled_genomes
    from feagi_embed.errors import FeagiEmbedError
    from feagi_embed.plan import layout

    rows = []
    for g in bundled_genomes():
        try:
            model = bc.load_model(g)
        except (FeagiEmbedError, OSError):
            continue
        row = {"genome": model.provenance.genome_name, "neurons": model.n_neurons,
               "synapses": model.n_synapses}
        for mode in MODES:
            plan = layout(model, synapses=mode)
            syn = sum(b.nbytes for b in plan.buffers
                      if b.name in SYNAPSE_BUFFERS or b.name.startswith(("rule_", "area_rule_")))
            row[mode] = {"flash": plan.flash_bytes, "synapse_bytes": syn,
                         "per_synapse": syn / max(model.n_synapses, 1),
                         "procedural_synapses": model.n_synapses - plan.constants["s"]}
        rows.append(row)
    return rows


def flash_table(rows: list[dict]) -> str:
    """Markdown of :func:`flash_rows`."""
    out = ["| genome | neurons | synapses | synapse B/synapse table | procedural | auto | "
           "model flash table | procedural | auto | synapses procedural (auto) |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        if not r["synapses"]:
            continue
        out.append(f"| {r['genome']} | {r['neurons']:,} | {r['synapses']:,} | "
                   + " | ".join(f"{r[m]['per_synapse']:.2f}" for m in MODES) + " | "
                   + " | ".join(f"{r[m]['flash']:,}" for m in MODES)
                   + f" | {r['auto']['procedural_synapses']:,} |")
    return "\n".join(out)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--boards", default="stm32f4,esp32c3")
    ap.add_argument("--bursts", type=int)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json-out")
    ap.add_argument("--flash", action="store_true",
                    help="only the stored flash bytes per synapse of every bundled genome")
    args = ap.parse_args(argv)
    if args.flash:
        rows = flash_rows()
        print(flash_table(rows))
        if args.json_out:
            Path(args.json_out).write_text(json.dumps(rows, indent=1) + "\n")
        return
    res = run(args.boards.split(","), args.bursts, args.seed,
              lambda m: print(m, file=sys.stderr))
    print(tables(res))
    if args.json_out:
        git = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=False).stdout.strip()
        meta = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                "git": git, "feagi_embed": __version__, "host": platform.platform(),
                "command": " ".join(["python3", "bench/bench_procedural.py",
                                     *(argv or sys.argv[1:])])}
        Path(args.json_out).write_text(json.dumps({"meta": meta, **res}, indent=1) + "\n")


if __name__ == "__main__":
    main()
