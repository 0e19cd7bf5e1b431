"""Run an ELF in the board's emulator: QEMU (+ the icount TCG plugin), simavr (+ the avr_run
harness), or natively. Returns stdout text, exit code and a deterministic cost metric."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from feagi_embed.boards import Board
from feagi_embed.targets.toolchain import (
    TargetError,
    ToolMissingError,
    _as_board,
    hal_dir,
)

SIMAVR_INCLUDE = Path("/usr/include/simavr")


@dataclass(frozen=True)
class RunResult:
    """One emulator run.

    Attributes:
        stdout: text the firmware printed (HAL putc).
        exit_code: the firmware's exit code (124 = timeout; 126 = simavr crash; 99 = HAL fault).
        metric: deterministic cost (``metric_kind``: ``"cycles"`` from simavr, ``"instructions"``
            from the QEMU plugin; ``None`` natively).
        stderr: emulator diagnostics.
        command: the emulator command line.
        seconds: wall time of the run.
        timed_out: the run hit the time (or cycle) limit.
        regions: cost of each timed region, in order (``metric_kind`` units): on simavr the
            GPIOR2 1 -> 2 regions (``feagi_hal_mark``); on QEMU the differences of consecutive
            pairs of marks (``run_elf(..., mark=ADDR)``: marks 1-2, 3-4, ...). Empty otherwise.
    """

    stdout: str
    exit_code: int
    metric: int | None
    metric_kind: str | None
    stderr: str
    command: tuple[str, ...]
    seconds: float
    timed_out: bool
    regions: tuple[int, ...] = ()


def cache_dir() -> Path:
    """Where helper tools are built (env ``FEAGI_EMBED_CACHE``, else ``~/.cache/feagi-embed``)."""
    env = os.environ.get("FEAGI_EMBED_CACHE")
    base = Path(env) if env else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "feagi-embed"
    base.mkdir(parents=True, exist_ok=True)
    return base


def _build_tool(src: Path, stem: str, args: list[str], headers: tuple[Path, ...] = ()) -> Path:
    """Compile a host helper once per content of its source and ``headers``; reuse it afterwards."""
    content = src.read_bytes() + b"".join(h.read_bytes() for h in headers)
    digest = hashlib.sha256(content + " ".join(args).encode()).hexdigest()[:16]
    out = cache_dir() / f"{stem}-{digest}"
    if out.exists():
        return out
    if not shutil.which("gcc"):
        raise ToolMissingError("host gcc is needed to build " + src.name)
    tmp = Path(tempfile.mkdtemp(dir=cache_dir())) / out.name
    cmd = ["gcc", "-O2", *args[:1], str(src), "-o", str(tmp), *args[1:]]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise TargetError(f"cannot build {src.name}", cmd, proc.stdout + proc.stderr)
    os.replace(tmp, out)
    return out


def icount_plugin() -> Path:
    """The QEMU TCG instruction-count plugin (``firmware/hal/icount_plugin.c``), built on demand."""
    return _build_tool(hal_dir() / "icount_plugin.c", "libicount.so", ["-shared", "-fPIC"])


def avr_run_harness() -> Path:
    """The libsimavr harness (``firmware/hal/avr_run.c``), built on demand."""
    if not (SIMAVR_INCLUDE / "sim_avr.h").is_file():
        raise ToolMissingError("libsimavr headers missing (apt-get install libsimavr-dev)")
    return _build_tool(hal_dir() / "avr_run.c", "avr_run", avr_harness_args(),
                       (hal_dir() / "avr_sim.h",))


def avr_harness_args() -> list[str]:
    """gcc arguments of the libsimavr harnesses: simavr's headers, ``firmware/hal`` (for
    ``avr_sim.h``, their shared set-up) and the libraries."""
    return [f"-I{SIMAVR_INCLUDE}", f"-I{hal_dir()}", "-lsimavr", "-lelf"]


def missing_run_tools(board: Board | str) -> list[str]:
    """What the board's emulator needs and is not installed (empty when it can run)."""
    b = _as_board(board)
    kind = b.emulator_kind
    if kind == "qemu":
        return [] if shutil.which(str(b.emulator["binary"])) and shutil.which("gcc") else [str(b.emulator["binary"])]
    if kind == "simavr":
        miss = []
        if not (SIMAVR_INCLUDE / "sim_avr.h").is_file():
            miss.append("libsimavr-dev")
        if not shutil.which("gcc"):
            miss.append("gcc")
        return miss
    if kind == "node":
        return [] if shutil.which(str(b.emulator.get("binary", "node"))) else [str(b.emulator.get("binary", "node"))]
    return []


def qemu_command(board: Board, elf: Path, plugin: Path | None, log: Path | None,
                 icount_range: tuple[int, int] | None = None, mark: int | None = None) -> list[str]:
    """QEMU command line: no display/monitor/serial; semihosting console on stdout."""
    e = board.emulator
    cmd = [str(e["binary"]), "-M", str(e["machine"])]
    if e.get("cpu"):
        cmd += ["-cpu", str(e["cpu"])]
    cmd += ["-display", "none", "-monitor", "none", "-serial", "none"]
    if board.hal == "xtensa_lx106":
        cmd += ["-semihosting"]  # simcall write lands on QEMU's stdout
    else:
        cmd += ["-chardev", "stdio,id=feagi0", "-semihosting-config", "enable=on,target=native,chardev=feagi0"]
    cmd += [str(a) for a in e.get("extra_args", [])]
    if plugin is not None:
        arg = str(plugin)
        if icount_range:
            arg += f",lo={icount_range[0]:#x},hi={icount_range[1]:#x}"
        if mark is not None:
            arg += f",mark={mark:#x}"
        cmd += ["-plugin", arg, "-d", "plugin"]
        if log is not None:
            cmd += ["-D", str(log)]
    cmd += ["-kernel", str(elf)]
    return cmd


def _run(cmd: list[str], timeout: float) -> tuple[str, str, int, bool, float]:
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False)
        out, err, rc, to = proc.stdout, proc.stderr, proc.returncode, False
    except subprocess.TimeoutExpired as ex:
        out, err, rc, to = ex.stdout or b"", ex.stderr or b"", 124, True
    dt = time.perf_counter() - t0
    return out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), rc, to, dt


def run_elf(board: Board | str, elf: str | os.PathLike[str], timeout: float = 60.0,
            max_cycles: int | None = None, icount: bool = True,
            icount_range: tuple[int, int] | None = None, mark: int | None = None) -> RunResult:
    """Run ``elf`` on the board's emulator (or natively) with a wall-clock ``timeout``.

    ``max_cycles`` caps simavr runs (exit 124 when reached). ``icount`` loads the QEMU plugin;
    ``icount_range=(lo, hi)`` also counts instructions with lo <= pc < hi (reported in stderr as
    ``icount_range_insns``). ``mark=ADDR`` (QEMU) logs the instruction count every time the
    instruction at ADDR runs; consecutive pairs become :attr:`RunResult.regions` (on simavr the
    regions come from GPIOR2 writes, see ``firmware/hal/avr_run.c``).

    Raises:
        ToolMissingError: the emulator is not installed.
    """
    b = _as_board(board)
    elf = Path(elf)
    miss = missing_run_tools(b)
    if miss:
        raise ToolMissingError(f"board {b.name}: {', '.join(miss)} not installed (run .ci/install-toolchains.sh)")
    kind = b.emulator_kind
    if kind == "none":
        if b.architecture != "native":
            raise TargetError(f"board {b.name} has no emulator: size-only")
        cmd = [str(elf)]
        out, err, rc, to, dt = _run(cmd, timeout)
        return RunResult(out, rc, None, None, err, tuple(cmd), dt, to)
    if kind == "node":  # wasm32: firmware/hal/wasm_run.mjs provides the HAL's imports
        cmd = [str(b.emulator.get("binary", "node")), str(hal_dir() / "wasm_run.mjs"), str(elf)]
        out, err, rc, to, dt = _run(cmd, timeout)
        return RunResult(out, rc, None, None, err, tuple(cmd), dt, to)
    if kind == "simavr":
        harness = avr_run_harness()
        cmd = [str(harness), str(elf), str(b.emulator["mcu"]), str(int(b.emulator["frequency"])),
               str(max_cycles if max_cycles is not None else 4_000_000_000)]
        out, err, rc, to, dt = _run(cmd, timeout)
        m = re.search(r"avr_run: cycles=(\d+)", err)
        regions = tuple(int(x) for x in re.findall(r"avr_run: region=(\d+)", err))
        return RunResult(out, rc, int(m.group(1)) if m else None, "cycles", err, tuple(cmd), dt, to or rc == 124,
                         regions)
    plugin = icount_plugin() if icount else None
    with tempfile.TemporaryDirectory(prefix="feagi-qemu-") as td:
        log = Path(td) / "icount.log"
        if mark is not None and plugin is None:
            raise TargetError("run_elf: mark= needs the icount plugin (icount=True)")
        cmd = qemu_command(b, elf, plugin, log if plugin else None, icount_range, mark)
        out, err, rc, to, dt = _run(cmd, timeout)
        text = log.read_text(errors="replace") if log.exists() else ""
    m = re.search(r"icount_insns: (\d+)", text)
    if "icount_range_insns" in text:
        err += "".join(line + "\n" for line in text.splitlines() if line.startswith("icount_range_insns"))
    marks = [int(x) for x in re.findall(r"icount_mark: (\d+)", text)]
    regions = tuple(marks[i + 1] - marks[i] for i in range(0, len(marks) - 1, 2))
    return RunResult(out, rc, int(m.group(1)) if m else None, "instructions" if plugin else None,
                     err, tuple(cmd), dt, to, regions)
