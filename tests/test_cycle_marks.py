"""Per-region costs from timing marks (feagi_hal_mark): the QEMU icount plugin's ``mark=`` option and
the simavr harness's GPIOR2 regions, as used by bench/bench_cycles.py.

Independent expectation: a region around the same work costs exactly the same, and a counted loop's
cost is linear in its iteration count (instructions on QEMU, cycles on simavr).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from feagi_embed.boards import load_board
from feagi_embed.targets import build_elf, elf_symbols, run_elf

from .test_targets import runnable

PROGRAM = Path(__file__).parent / "data" / "marks" / "marks.c"


@pytest.mark.parametrize("board", ["stm32f4", "rp2040", "esp32c3", "esp32", "mega2560"])
def test_marked_regions_are_exact(board, tmp_path):
    runnable(board)
    b = load_board(board)
    br = build_elf(b, [PROGRAM], out_dir=tmp_path, name="marks")
    mark = elf_symbols(br.elf)["feagi_hal_mark"].addr if b.emulator_kind == "qemu" else None
    r = run_elf(b, br.elf, timeout=60, mark=mark)
    assert r.exit_code == 0 and r.stdout == "ok\n", r.stderr
    assert len(r.regions) == 5, r.stderr
    n10, n10b, n20, n30, n40 = r.regions
    assert n10 == n10b
    per_iteration = n20 - n10
    assert per_iteration > 0 and n30 - n20 == per_iteration and n40 - n30 == per_iteration
    # the whole run costs more than the marked regions
    assert r.metric is not None and r.metric > sum(r.regions)


def test_elf_symbols_native(tmp_path):
    runnable("native")
    br = build_elf("native", [PROGRAM], out_dir=tmp_path, name="marks")
    syms = elf_symbols(br.elf)
    assert syms["feagi_hal_mark"].kind == "func" and syms["feagi_hal_mark"].region == "flash"
    assert syms["sink"].kind == "object" and syms["sink"].region == "ram" and syms["sink"].size == 4
    assert syms["iterations"].region == "flash" and syms["iterations"].size == 20
