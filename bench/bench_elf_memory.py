"""Predicted (capacity plan) vs measured (ELF) memory of generated firmware, per board.

Usage: python3 bench/bench_elf_memory.py [--json-out FILE]    (prints a Markdown table)

For each (genome, board) pair that fits: ``feagi-embed build`` (no test stimulus: the demo main,
input queue of 16), compile with the board's local cross toolchain, and compare with
``feagi_embed.targets.memreport.measured_memory`` (pyelftools): the plan's arrays matched to ELF
symbols, the ELF's RAM (.data + .bss, stack reserve excluded) and flash (text + rodata + data)
totals, and the runtime's own overhead (everything else: code, CRC table, scalars, HAL, libc).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from feagi_embed.boards import load_board
from feagi_embed.build import build_project
from feagi_embed.plan import CapacityError
from feagi_embed.connectome import develop
from feagi_embed.genome import load_genome
from feagi_embed.quantize import quantize
from feagi_embed.targets import missing_build_tools
from feagi_embed.targets.memreport import compile_project, measured_memory

GENOMES = Path(__file__).resolve().parent.parent / "feagi_embed" / "genomes"
PAIRS = [("test_timer", b) for b in ("native", "uno", "mega2560", "stm32f4", "rp2040", "esp32c3", "esp32")] + [
    ("webots_basic", "stm32f4"), ("gesture_recognition_12_1", "esp32"), ("essential_genome", "esp32c3"),
    ("essential_genome", "esp32"), ("learning_v1_1b", "esp32c3")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json-out")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as td:
        for i, (genome, board) in enumerate(PAIRS):
            b = load_board(board)
            if missing_build_tools(b):
                continue
            model = quantize(develop(load_genome(GENOMES / f"{genome}.json")))
            try:
                res = build_project(model, b, Path(td) / f"{i}")
            except CapacityError:
                continue
            elf = compile_project(res.out_dir, b, Path(td) / f"{i}-build")
            m = measured_memory(res.plan, elf)
            rows.append({"genome": genome, "board": board, "cc": b.cc, **{
                r: {k: v for k, v in m["regions"][r].items()} for r in ("ram", "flash")},
                "heap": sum(a["predicted"] for a in m["arrays"] if a["status"] == "heap"),
                "differs": [a["name"] for a in m["arrays"] if a["status"] == "differs"],
                "dropped": [a["name"] for a in m["arrays"] if a["status"] == "dropped"]})
    print("| genome | board | RAM predicted | RAM arrays measured | RAM ELF total | RAM overhead | boot heap | "
          "flash predicted | flash arrays measured | flash ELF total | flash overhead (code…) | "
          "arrays of another size | arrays unused in this build |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for r in rows:
        ram, fl = r["ram"], r["flash"]
        print(f"| {r['genome']} | {r['board']} | {ram['predicted']:,} | {ram['measured_arrays']:,} | "
              f"{ram['measured']:,} | {ram['runtime_overhead']:,} | {r['heap']:,} | {fl['predicted']:,} | "
              f"{fl['measured_arrays']:,} | {fl['measured']:,} | {fl['runtime_overhead']:,} | "
              f"{', '.join(r['differs']) or 'none'} | {', '.join(r['dropped']) or '-'} |")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
