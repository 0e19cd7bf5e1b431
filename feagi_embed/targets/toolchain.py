"""Cross-build C sources for a board with the local toolchain, linking the board's HAL."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from feagi_embed.boards import Board, load_board
from feagi_embed.errors import FeagiEmbedError


class TargetError(FeagiEmbedError):
    """A build or run that failed; ``command`` and ``output`` say how."""

    def __init__(self, message: str, command: Sequence[str] = (), output: str = ""):
        self.command = list(command)
        self.output = output
        text = message
        if command:
            text += "\n  command: " + " ".join(str(c) for c in command)
        if output:
            text += "\n  output:\n" + output.rstrip()[-4000:]
        super().__init__(text)


class ToolMissingError(TargetError):
    """A compiler, emulator or library the target needs is not installed."""


from feagi_embed.resources import firmware_dir, hal_dir  # noqa: E402,F401  (re-exported)


# HAL family -> (HAL C files, linker script or None, link with -nostdlib?)
_HAL_FILES: dict[str, tuple[tuple[str, ...], str | None, bool]] = {
    "native": (("hal_native.c", "hal_common.c"), None, False),
    "cortexm": (("hal_cortexm.c", "hal_common.c", "hal_freestanding.c"), "cortexm.ld", True),
    "riscv_virt": (("hal_riscv_virt.c", "hal_common.c", "hal_freestanding.c"), "riscv_virt.ld", True),
    "xtensa_lx106": (("hal_xtensa_lx106.c", "xtensa_lx106_rom.c", "hal_common.c", "hal_freestanding.c"),
                     "xtensa_lx106_sim.ld", True),
    "avr": (("hal_avr.c", "hal_common.c"), None, False),
    "wasm": (("hal_wasm.c", "hal_wasm_start.c", "hal_common.c"), None, True),
}

FREESTANDING_FLAGS = ("-ffreestanding", "-fno-tree-loop-distribute-patterns", "-nostdlib", "-nostartfiles",
                      "-ffunction-sections", "-fdata-sections", "-Wl,--gc-sections")
#: clang --target=wasm32 + wasm-ld (hal "wasm"): no libc, no crt; wasm-ld garbage-collects by
#: default; -mbulk-memory turns the memcpy/memset clang may emit into memory.copy/memory.fill
#: instructions (so no hal_freestanding.c); __heap_base/__data_end exported so the sizes of data
#: and .bss can be read back
WASM_FLAGS = ("-ffreestanding", "-nostdlib", "-mbulk-memory", "-Wl,--export=__heap_base",
              "-Wl,--export=__data_end")


def freestanding_flags(board: Board | str) -> tuple[str, ...]:
    """Compile + link flags of a ``-nostdlib`` board (empty for hosted ones): the gcc bare-metal
    set, or :data:`WASM_FLAGS` for the wasm32 HAL."""
    b = _as_board(board)
    if not _HAL_FILES[b.hal][2]:
        return ()
    return WASM_FLAGS if b.hal == "wasm" else FREESTANDING_FLAGS


@dataclass(frozen=True)
class BuildResult:
    """An ELF built for a board: path, the exact compiler command, and build time."""

    board: str
    elf: Path
    command: tuple[str, ...]
    seconds: float


def _as_board(board: Board | str) -> Board:
    return board if isinstance(board, Board) else load_board(board)


def missing_build_tools(board: Board | str) -> list[str]:
    """Executables the board's build needs that are not on PATH (empty when it can build)."""
    b = _as_board(board)
    return [] if shutil.which(b.cc) else [b.cc]


def _expand_sources(sources: Iterable[str | os.PathLike[str]]) -> list[Path]:
    out: list[Path] = []
    for s in sources:
        p = Path(s)
        if p.is_dir():
            out.extend(sorted(p.glob("*.c")))
        else:
            out.append(p)
    if not out:
        raise TargetError("no C sources given")
    for p in out:
        if not p.is_file():
            raise TargetError(f"source file not found: {p}")
    return out


def hal_files(board: Board | str) -> tuple[tuple[str, ...], str | None, bool]:
    """The board's HAL: (C files in ``firmware/hal``, linker script or None, freestanding?)."""
    return _HAL_FILES[_as_board(board).hal]


def link_flags(board: Board | str, hal_path: str) -> list[str]:
    """Linker-script flags (``-T`` and the memory-map ``--defsym``s) with the HAL at ``hal_path``."""
    b = _as_board(board)
    _, ldscript, _ = _HAL_FILES[b.hal]
    if not ldscript:
        return []
    out = ["-T", f"{hal_path}/{ldscript}"]
    if b.hal in ("cortexm", "riscv_virt"):
        e = b.emulator
        out += [f"-Wl,--defsym=FEAGI_FLASH_ORIGIN={int(e['flash_origin']):#x}",
                f"-Wl,--defsym=FEAGI_FLASH_SIZE={int(e['flash_size']):#x}",
                f"-Wl,--defsym=FEAGI_RAM_ORIGIN={int(e['ram_origin']):#x}",
                f"-Wl,--defsym=FEAGI_RAM_SIZE={int(e['ram_size']):#x}"]
    if "ext_ram_size" in b.emulator:  # external RAM (PSRAM) of the stand-in
        out += [f"-Wl,--defsym=FEAGI_EXT_RAM_ORIGIN={int(b.emulator['ext_ram_origin']):#x}",
                f"-Wl,--defsym=FEAGI_EXT_RAM_SIZE={int(b.emulator['ext_ram_size']):#x}"]
    return out


def build_command(board: Board | str, sources: Iterable[str | os.PathLike[str]], output: str | os.PathLike[str],
                  include_dirs: Iterable[str | os.PathLike[str]] = (),
                  defines: Mapping[str, object] | None = None,
                  extra_cflags: Sequence[str] = (), hal: bool = True) -> list[str]:
    """The compiler command line that :func:`build_elf` runs (one gcc call: compile + link).

    ``sources`` are files or folders (every ``*.c`` in a folder). The board's HAL sources and
    linker script are added when ``hal`` is true; ``firmware/hal`` is always on the include path.
    """
    b = _as_board(board)
    srcs = _expand_sources(sources)
    hd = hal_dir()
    files, _ldscript, freestanding = _HAL_FILES[b.hal]
    cmd = [b.cc, *b.cflags, "-std=c99", "-Wall", "-Wextra"]
    if freestanding:
        cmd += list(freestanding_flags(b))
    elif b.hal == "avr":
        cmd += ["-ffunction-sections", "-fdata-sections", "-Wl,--gc-sections"]
    cmd += list(extra_cflags)
    for k, v in (defines or {}).items():
        cmd.append(f"-D{k}" if v is None else f"-D{k}={v}")
    cmd += [f"-I{d}" for d in include_dirs] + [f"-I{hd}"]
    cmd += [str(s) for s in srcs]
    if hal:
        cmd += [str(hd / f) for f in files]
        cmd += link_flags(b, str(hd))
    cmd += ["-o", str(output)]
    if freestanding and b.hal != "wasm":
        cmd.append("-lgcc")
    return cmd


def build_elf(board: Board | str, sources: Iterable[str | os.PathLike[str]],
              include_dirs: Iterable[str | os.PathLike[str]] = (),
              defines: Mapping[str, object] | None = None, out_dir: str | os.PathLike[str] | None = None,
              extra_cflags: Sequence[str] = (), name: str = "firmware") -> BuildResult:
    """Build ``<out_dir>/<name>-<board>.elf`` (``.wasm`` for the wasm32 HAL) with the board's local cross toolchain and HAL.

    Raises:
        ToolMissingError: the compiler is not installed.
        TargetError: the compiler failed (its command and output are in the message).
    """
    b = _as_board(board)
    missing = missing_build_tools(b)
    if missing:
        raise ToolMissingError(f"board {b.name}: {', '.join(missing)} not installed "
                               f"(run .ci/install-toolchains.sh)")
    od = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix=f"feagi-{b.name}-"))
    od.mkdir(parents=True, exist_ok=True)
    elf = od / f"{name}-{b.name}.{'wasm' if b.hal == 'wasm' else 'elf'}"
    cmd = build_command(b, sources, elf, include_dirs, defines, extra_cflags)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        raise TargetError(f"board {b.name}: build failed (rc {proc.returncode})", cmd, proc.stdout + proc.stderr)
    return BuildResult(b.name, elf, tuple(cmd), dt)
