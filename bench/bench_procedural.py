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
            for genome, nb in GENOMES:
                tot = {}
                for mode in MODES:
                    k += 1
                    r = bc.measure(genome, board, bursts or nb, seed, Path(td) / str(k), log, mode)
                    tot[mode] = r["totals"]
                events = tot["table"]["syn_events"]
                row = {"genome": genome, "board": board, "bursts": bursts or nb, "events": events,
                       "cost": {m: tot[m]["cost"] for m in MODES}}
                for mode in ("procedural", "auto"):
                    eff = ce_table + (tot[mode]["cost"] - tot["table"]["cost"]) / max(events, 1)
                    row[f"effective_{mode}"] = eff
                    row[f"ratio_{mode}"] = eff / ce_table
                rows.append(row)
    return {"probes": probes, "rows": rows}


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
