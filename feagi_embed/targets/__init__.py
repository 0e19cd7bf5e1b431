"""Build C sources for a board with the local cross toolchain and run them in an emulator.

Typical use (the self-test in ``tests/test_targets.py`` does exactly this)::

    from feagi_embed.targets import run_on_target
    r = run_on_target("stm32f4", ["src/"], include_dirs=["include/"], defines={"N": 3})
    r.stdout, r.exit_code, r.metric, r.metric_kind, r.sizes.flash, r.sizes.ram

Per board (``boards/<name>.toml``): native gcc; arm-none-eabi-gcc on qemu-system-arm
(netduinoplus2 = STM32F405 for stm32f4/nucleo_*; mps2-an385 = Cortex-M3 running the Cortex-M0+
build with the RP2040 memory map for rp2040);
riscv64-unknown-elf-gcc -march=rv32imc on qemu-system-riscv32 virt (esp32c3); avr-gcc on libsimavr
(uno, mega2560); xtensa-lx106-elf-gcc on qemu-system-xtensa -M sim -cpu lx106 (esp32, esp32s3:
stand-in core). HAL sources are in ``firmware/hal`` (contract in ``feagi_hal.h``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from feagi_embed.boards import Board
from feagi_embed.targets.elfinfo import ElfSizes, Symbol, elf_sizes, elf_symbols
from feagi_embed.targets.emulators import (
    RunResult,
    avr_run_harness,
    icount_plugin,
    missing_run_tools,
    run_elf,
)
from feagi_embed.targets.toolchain import (
    BuildResult,
    TargetError,
    ToolMissingError,
    _as_board,
    build_command,
    build_elf,
    firmware_dir,
    hal_dir,
    missing_build_tools,
)

__all__ = [
    "BuildResult", "ElfSizes", "RunResult", "Symbol", "TargetError", "TargetResult", "ToolMissingError",
    "avr_run_harness", "build_command", "build_elf", "can_build", "can_run", "elf_sizes", "elf_symbols",
    "firmware_dir", "hal_dir", "icount_plugin", "missing_build_tools", "missing_run_tools", "run_elf",
    "run_on_target",
]


@dataclass(frozen=True)
class TargetResult:
    """Build + run of one program on one board.

    Attributes:
        board: board id.
        build: the :class:`BuildResult` (ELF path, compiler command, seconds).
        sizes: section sizes and flash/RAM (pyelftools).
        run: the :class:`RunResult`, or ``None`` when the board is size-only (no emulator).
    """

    board: str
    build: BuildResult
    sizes: ElfSizes
    run: RunResult | None

    @property
    def stdout(self) -> str:
        return self.run.stdout if self.run else ""

    @property
    def exit_code(self) -> int | None:
        return self.run.exit_code if self.run else None

    @property
    def metric(self) -> int | None:
        return self.run.metric if self.run else None

    @property
    def metric_kind(self) -> str | None:
        return self.run.metric_kind if self.run else None

    @property
    def elf(self) -> Path:
        return self.build.elf


def can_build(board: Board | str) -> bool:
    """True when the board's compiler is installed."""
    return not missing_build_tools(board)


def can_run(board: Board | str) -> bool:
    """True when the board can be built and executed here (emulator or native)."""
    b = _as_board(board)
    if b.emulator_kind == "none" and b.architecture != "native":
        return False
    return can_build(b) and not missing_run_tools(b)


def run_on_target(board: Board | str, sources: Iterable[str | os.PathLike[str]],
                  include_dirs: Iterable[str | os.PathLike[str]] = (),
                  defines: Mapping[str, object] | None = None, *, out_dir: str | os.PathLike[str] | None = None,
                  extra_cflags: Sequence[str] = (), timeout: float = 60.0, max_cycles: int | None = None,
                  icount: bool = True, name: str = "firmware") -> TargetResult:
    """Build ``sources`` (files or folders of ``*.c``) for ``board`` with its HAL, read the ELF's
    section sizes, and run it in the board's emulator (skipped for size-only boards).

    Raises:
        ToolMissingError: compiler or emulator missing.
        TargetError: the build failed.
    """
    b = _as_board(board)
    br = build_elf(b, sources, include_dirs, defines, out_dir, extra_cflags, name)
    sizes = elf_sizes(br.elf)
    run = None
    if b.emulator_kind != "none" or b.architecture == "native":
        run = run_elf(b, br.elf, timeout=timeout, max_cycles=max_cycles, icount=icount)
    return TargetResult(b.name, br, sizes, run)
