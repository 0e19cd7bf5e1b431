"""Memory footprint of the C firmware layout for every shared genome, and which boards it fits.

Usage: python3 bench/bench_memory.py [--json-out FILE]   (prints Markdown tables)

Bytes are predicted by feagi_embed.plan.layout_c (the same plan `feagi-embed report` prints and
the generated header checks); RAM per neuron and flash per synapse are totals divided by counts.
"packed" is the same model with every per-area packing its proofs allow (``layout_c(narrow_v=True,
v8=True, nonneg=True)``: uint16/uint8 membrane potentials where ``plan.narrow_v_proof`` proves
them), which boards get only when they need it; its last column counts the areas stored in 8 / 16 / 32 bits.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from feagi_embed.boards import list_boards, load_board
from feagi_embed.build import c_plan
from feagi_embed.plan import budget_for, layout_c, plan_fits
from feagi_embed.connectome import develop
from feagi_embed.errors import FeagiEmbedError
from feagi_embed.genome import load_genome
from feagi_embed.quantize import quantize

GENOMES = Path(__file__).resolve().parent.parent / "feagi_embed" / "genomes"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json-out")
    args = ap.parse_args()
    boards = [load_board(b) for b in list_boards() if b != "native"]
    rows = []
    for path in sorted(GENOMES.glob("*.json")):
        try:
            model = quantize(develop(load_genome(path)))
        except FeagiEmbedError:
            continue
        plan = c_plan(model, load_board("native"))
        packed = layout_c(model, queue_len=plan.constants["queue_len"], narrow_v=True, v8=True,
                          nonneg=True)
        widths = [sum(1 for k, v in packed.per_area.items() if v["neurons"]
                      and (packed.narrow_v[k].bits if k in packed.narrow_v else 32) == w)
                  for w in (8, 16, 32)]
        # each board gets its own plan (16-bit V and heap placement only where a board needs them)
        fits = {b.name: plan_fits(c_plan(model, b), budget_for(b)) for b in boards}
        rows.append({"genome": path.stem, "neurons": model.n_neurons, "synapses": model.n_synapses,
                     "ram": plan.ram_bytes, "flash": plan.flash_bytes, "fits": fits,
                     "ram_packed": packed.ram_bytes, "v_widths_8_16_32": widths})
    print("| genome | neurons | synapses | RAM B | flash B | RAM B/neuron | flash B/synapse | fits | "
          "RAM B packed | RAM B/neuron packed | areas V 8/16/32 bit |")
    print("|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---|")
    for r in rows:
        fb = (r["flash"] / r["synapses"]) if r["synapses"] else 0
        print(f"| {r['genome']} | {r['neurons']:,} | {r['synapses']:,} | {r['ram']:,} | "
              f"{r['flash']:,} | {r['ram'] / r['neurons']:.2f} | {fb:.2f} | "
              f"{', '.join(b for b, ok in r['fits'].items() if ok) or '-'} | "
              f"{r['ram_packed']:,} | {r['ram_packed'] / r['neurons']:.2f} | "
              f"{' / '.join(str(x) for x in r['v_widths_8_16_32'])} |")
    print()
    print("| board | static RAM B | boot heap B | flash budget B | largest shared genome that fits (neurons) |")
    print("|---|---:|---:|---:|---|")
    for b in boards:
        ok = [r for r in rows if r["fits"][b.name]]
        best = max(ok, key=lambda r: r["neurons"]) if ok else None
        print(f"| {b.name} | {budget_for(b).static_ram:,} | {budget_for(b).heap:,} | {b.flash_bytes:,} | "
              f"{best['genome'] + ' (' + format(best['neurons'], ',') + ')' if best else '-'} |")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
