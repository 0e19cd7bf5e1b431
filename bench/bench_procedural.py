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


REGS = ("intercept", "rule_rows", "range_events", "runs", "list_events", "vectors_tried")


def per_neuron_regressors(model) -> dict[str, np.ndarray]:
    """Per source neuron, summed over its procedural rules (every rule a record): rule-source
    pairs, events inside runs, runs, events of non-range axis rules, vectors tried."""
    from feagi_embed.plan.procedural import _ranges, choose, procedural_rules

    n = model.n_neurons
    out = {k: np.zeros(n) for k in REGS[1:]}
    ptr = np.asarray(model.syn_ptr, np.int64)
    src_of = np.repeat(np.arange(n), np.diff(ptr))
    rule_of = np.asarray(model.syn_rule, np.int64)
    for ri in procedural_rules(choose(model, "procedural")):
        r = model.rules[ri]
        lo, hi = int(model.area_first[r.src_area]), int(model.area_first[r.src_area + 1])
        out["rule_rows"][lo:hi] += 1
        ev = np.bincount(src_of[rule_of == ri], minlength=n)
        if r.kind == "vectors":
            out["range_events"] += ev
            out["vectors_tried"][lo:hi] += len(r.vectors)
        elif _ranges(r):
            out["range_events"] += ev
            out["runs"][lo:hi] += _neuron_runs(model, r)
        else:
            out["list_events"] += ev
    return out


def _neuron_runs(model, r) -> np.ndarray:
    """Runs of consecutive targets per source neuron of an RF_RANGES axis rule (proc_axis)."""
    cx, cy, cz = (np.diff(np.asarray(p, np.int64)) for p, _ in r.axes)
    _, hd, dd = model.areas.dims[r.dst_area]
    fz, fy = cz == dd, cy == hd
    per = np.where(fz[None, None, :] & fy[None, :, None], 1,
                   np.where(fz[None, None, :], cx[:, None, None], (cx[:, None] * cy[None, :])[:, :, None]))
    per = per * ((cx[:, None, None] > 0) & (cy[None, :, None] > 0) & (cz[None, None, :] > 0))
    return np.repeat(per.reshape(-1), model.areas.npv[r.src_area])


def calibrate(samples: list[tuple[np.ndarray, dict[str, np.ndarray]]]) -> dict:
    """Least squares of (procedural − table) instructions per burst on the regressors."""
    y = np.concatenate([d for d, _ in samples]).astype(float)
    X = np.concatenate([np.column_stack([np.ones(len(d))] + [c[k] for k in REGS[1:]])
                        for d, c in samples])
    keep = [0] + [j for j in range(1, X.shape[1]) if np.ptp(X[:, j]) > 0]
    coef, *_ = np.linalg.lstsq(X[:, keep], y, rcond=None)
    res = y - X[:, keep] @ coef
    r2 = 1 - float(res @ res) / float(((y - y.mean()) ** 2).sum())
    return {"coef": {REGS[j]: float(coef[i]) for i, j in enumerate(keep)}, "r2": r2}


def burst_regressors(model, stim, bursts: int) -> dict[str, np.ndarray]:
    """Per burst b: the regressors summed over b−1's fired set (the sources step 5 expands)."""
    from feagi_embed.host.twin import Twin

    per = per_neuron_regressors(model)
    fired = Twin(model).run(bursts, stim).fired
    out = {k: np.zeros(bursts) for k in REGS[1:]}
    for b in range(1, bursts):
        ids = np.asarray(fired[b - 1], np.int64)
        for k in out:
            out[k][b] = per[k][ids].sum()
    return out


def run(boards: list[str], bursts: int | None, seed: int, log) -> dict:
    """All measurements: ``{"probes": {board: {mode: fit}}, "rows": [...]}``."""
    probes: dict = {}
    rows = []
    calib: dict = {}
    with tempfile.TemporaryDirectory(prefix="feagi-bench-proc-") as td:
        k = 0
        for board in boards:
            probes[board] = {}
            for mode in ("table", "procedural"):
                k += 1
                r = bc.measure(bc.PROBE, board, bursts or 200, seed, Path(td) / str(k), log, mode)
                probes[board][mode] = bc.fit(np.array(r["per_burst_cost"]),
                                             {n: np.array(v) for n, v in r["counts"].items()})
            ce_table = probes[board]["table"]["coef"]["syn_events"]
            samples = []
            for genome, nb in GENOMES:
                tot, per_burst = {}, {}
                for mode in MODES:
                    k += 1
                    r = bc.measure(genome, board, bursts or nb, seed, Path(td) / str(k), log, mode)
                    tot[mode] = r["totals"]
                    per_burst[mode] = np.array(r["per_burst_cost"], np.int64)
                model = bc.load_model(genome)
                nb_ = bursts or nb
                samples.append((per_burst["procedural"] - per_burst["table"],
                                burst_regressors(model, bc.random_stimulus(model, nb_, seed), nb_)))
                events = tot["table"]["syn_events"]
                row = {"genome": genome, "board": board, "bursts": bursts or nb, "events": events,
                       "cost": {m: tot[m]["cost"] for m in MODES}}
                for mode in ("procedural", "auto"):
                    eff = ce_table + (tot[mode]["cost"] - tot["table"]["cost"]) / max(events, 1)
                    row[f"effective_{mode}"] = eff
                    row[f"ratio_{mode}"] = eff / ce_table
                rows.append(row)
            calib[board] = calibrate(samples)
    return {"probes": probes, "rows": rows, "calibration": calib}


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
    out += ["", "| board | " + " | ".join(REGS) + " | R^2 |", "|---|" + "---:|" * (len(REGS) + 1)]
    for board, c in res.get("calibration", {}).items():
        out.append(f"| {board} | " + " | ".join(f"{c['coef'].get(k, float('nan')):.1f}" for k in REGS)
                   + f" | {c['r2']:.4f} |")
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
