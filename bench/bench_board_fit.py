"""Largest genome per board: the capacity check of every bundled genome and the community-sized
``bench/big_genome.py`` genome on every board (C plans, as ``feagi-embed report``).

For each board: the largest bundled genome that fits (by neurons, and by synapses), and the big
genome's static RAM, boot heap / PSRAM and flash against the board's budget (with the larger app
partition where the board has one). tests/test_board_sweep.py runs every accepted pair on the
board's emulator, bit-exact with the twin.

    python -m bench.bench_board_fit [--json bench/results/board_fit_DATE.json]
"""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def fit_row(model, board) -> dict:
    """Plan of ``model`` on ``board``: bytes per region, fits, and what is missing."""
    from feagi_embed.build import c_plan, report
    from feagi_embed.plan import fit_problems, budget_for

    plan = c_plan(model, board)
    rep = report(model, board, plan)
    bud = budget_for(board)
    return {"fits": rep["fits"], "static": plan.static_bytes, "heap": plan.heap_bytes,
            "heap_region": "psram" if bud.psram else "heap", "heap_arrays": sorted(plan.heap),
            "flash": plan.flash_bytes, "partitions": bool(rep["regions"]["flash"].get("partitions")),
            "regions": rep["regions"], "narrow_v_areas": len(plan.narrow_v),
            "problems": [p.strip() for p in fit_problems(plan, bud) if not p.startswith("    ")]}


def main(argv: list[str]) -> int:
    from bench.big_genome import big_genome
    from feagi_embed.boards import list_boards, load_board
    from feagi_embed.errors import FeagiEmbedError
    from feagi_embed.sweep import load_model

    t0 = time.time()
    models = {}
    for p in sorted((ROOT / "feagi_embed" / "genomes").glob("*.json")):
        try:
            models[p.stem] = load_model(str(p))
        except FeagiEmbedError:
            continue
    tmp = Path("/tmp/feagi_big_genome.json")
    tmp.write_text(json.dumps(big_genome()))
    big = load_model(str(tmp))
    out = {"date": time.strftime("%Y-%m-%d"), "machine": platform.platform(),
           "command": "python -m bench.bench_board_fit", "boards": {}}
    for name in list_boards():
        b = load_board(name)
        if b.architecture in ("native", "wasm32"):
            continue
        fits = {g: fit_row(m, b)["fits"] for g, m in models.items()}
        ok = [g for g, f in fits.items() if f]
        by_n = max(ok, key=lambda g: models[g].n_neurons, default=None)
        by_s = max(ok, key=lambda g: models[g].n_synapses, default=None)
        out["boards"][name] = {
            "fits": sorted(ok), "refused": sorted(g for g, f in fits.items() if not f),
            "largest_by_neurons": by_n and [by_n, models[by_n].n_neurons, models[by_n].n_synapses],
            "largest_by_synapses": by_s and [by_s, models[by_s].n_neurons, models[by_s].n_synapses],
            "big_genome": dict(fit_row(big, b), neurons=big.n_neurons, synapses=big.n_synapses)}
    out["seconds"] = round(time.time() - t0, 1)
    text = json.dumps(out, indent=1)
    if "--json" in argv:
        Path(argv[argv.index("--json") + 1]).write_text(text + "\n")
    for name, r in out["boards"].items():
        bg = r["big_genome"]
        print(f"{name:14s} {len(r['fits']):2d} fit; by neurons {r['largest_by_neurons']}; "
              f"by synapses {r['largest_by_synapses']}; big genome fits={bg['fits']} "
              f"static {bg['static']} {bg['heap_region']} {bg['heap']} flash {bg['flash']} "
              f"partitions={bg['partitions']} {bg['problems']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
