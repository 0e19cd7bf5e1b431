"""``feagi-embed build`` / ``report``: genome → checked memory plan → PlatformIO project folder."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import __version__
from .boards import Board, load_board
from .capacity import MemoryPlan, check_fit, layout
from .codegen import FIRMWARE_DIR, emit_c_model, stimulus_queue_len
from .quantize import Model
from .stimulus import Stimulus
from .targets.project import render_project_files

#: bursts the generated demo/test ``main.c`` runs when no test stimulus gives a length
DEFAULT_TEST_BURSTS = 100


def ram_budget(board: Board) -> int:
    """RAM a fixed-size model may use: the statically allocatable RAM regions of the board
    (``kind = "ram"``; heap regions such as ESP32's ``dram_heap`` need allocation at boot, which the
    generated runtime does not do yet)."""
    regions = board.regions_of_kind("ram")
    return sum(r.bytes for r in regions) if regions else board.ram_bytes


@dataclass
class BuildResult:
    """What :func:`build_project` wrote: the project folder, the plan and the budgets."""

    out_dir: Path
    plan: MemoryPlan
    board: Board
    files: list[Path]


def plan_for(model: Model, board: Board, stimulus: Stimulus | None = None,
             bursts: int | None = None) -> MemoryPlan:
    """Memory plan of ``model`` (stimulus queue sized for the test schedule, if any)."""
    if stimulus is not None:
        return layout(model, queue_len=stimulus_queue_len(model, stimulus, bursts or 1))
    return layout(model)


def report(model: Model, board: Board, plan: MemoryPlan) -> dict[str, Any]:
    """Memory report: ``{"board", "fits", "regions": {"ram"|"flash": {"used", "available"}},
    "arrays": [...], "areas": [...]}`` (bytes, predicted from the plan)."""
    ram, flash = ram_budget(board), board.flash_bytes
    js = plan.to_json()
    return {
        "board": board.name,
        "fits": plan.ram_bytes <= ram and plan.flash_bytes <= flash,
        "regions": {"ram": {"used": plan.ram_bytes, "available": ram},
                    "flash": {"used": plan.flash_bytes, "available": flash}},
        "arrays": js["arrays"],
        "areas": [dict(v, name=k) for k, v in js["areas"].items()],
        "frac_bits": model.frac_bits,
    }


def build_project(model: Model, board: Board | str, out_dir: str | Path, *,
                  stimulus: Stimulus | None = None, bursts: int | None = None,
                  state_every: int = 10) -> BuildResult:
    """Write a PlatformIO project (plus a plain Makefile) for ``board``.

    Layout: ``platformio.ini``, ``Makefile``, ``README.md``, ``include/feagi_model.h`` (+
    ``feagi_test_stimulus.h``), ``src/feagi_model.c``, ``src/main.c`` (runs the test stimulus, or
    ``DEFAULT_TEST_BURSTS`` bursts without input, printing the device protocol),
    ``lib/feagi_runtime/`` (runtime + library manifests), ``hal/`` (bare-metal HAL for the Makefile).

    Raises:
        CapacityError: the model does not fit the board (nothing is written).
        BoardError: unknown board.
    """
    b = board if isinstance(board, Board) else load_board(board)
    stim = stimulus or Stimulus()
    n = int(bursts or max(stim.last_burst(), DEFAULT_TEST_BURSTS))
    plan = plan_for(model, b, stim, n)
    check_fit(plan, ram_budget(b), b.flash_bytes, b.name)  # before any file is written
    out = Path(out_dir)
    genome = model.meta["genome"]
    sha = model.meta["genome_sha256"]
    with tempfile.TemporaryDirectory() as tmp:
        emitted = emit_c_model(model, plan, tmp, genome_path=genome, genome_sha256=sha,
                               board=b.name, stimulus=stim, bursts=n, state_every=state_every,
                               ram_budget=ram_budget(b), flash_budget=b.flash_bytes,
                               with_main=True)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for p in emitted:
            dest = out / ("include" if p.suffix == ".h" else "src") / p.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, dest)
            written.append(dest)
    lib = out / "lib" / "feagi_runtime" / "src"
    lib.mkdir(parents=True, exist_ok=True)
    for name in ("feagi_runtime.c", "feagi_runtime.h"):
        shutil.copyfile(FIRMWARE_DIR / name, lib / name)
        written.append(lib / name)
    files = render_project_files(b, {"genome_name": Path(genome).name, "genome_sha256": sha,
                                     "tool_version": __version__})
    for rel, text in files.items():
        p = out / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        written.append(p)
    return BuildResult(out, plan, b, written)


def parse_protocol(text: str) -> tuple[list[int], dict[int, int], int | None]:
    """Device protocol lines (docs/model.md §4) → (burst digests, {burst: state digest}, final)."""
    bursts: list[int] = []
    states: dict[int, int] = {}
    final = None
    for line in text.splitlines():
        f = line.split()
        if len(f) >= 4 and f[0] == "B":
            bursts.append(int(f[3], 16))
        elif len(f) >= 3 and f[0] == "S":
            states[int(f[1])] = int(f[2], 16)
        elif len(f) >= 3 and f[0] == "E":
            final = int(f[2], 16)
    return bursts, states, final


def compare_digests(reference, bursts: list[int], states: dict[int, int]) -> tuple[bool, Any]:
    """``(equal, first_divergence)`` of a target's digests against a twin :class:`Trace`;
    ``first_divergence`` is ``{"burst": b, "what": "burst digest" | "state digest" | "missing"}``."""
    for i, ref in enumerate(reference.burst_crc):
        if i >= len(bursts):
            return False, {"burst": i + 1, "what": "missing"}
        if bursts[i] != ref:
            return False, {"burst": i + 1, "what": "burst digest"}
    for b, ref in sorted(reference.state_crc.items()):
        if states.get(b) != ref:
            return False, {"burst": b, "what": "state digest"}
    return True, None


def verify(model: Model, board: Board | str, stimulus: Stimulus | None, bursts: int,
           work_dir: str | Path, state_every: int = 10) -> list[dict[str, Any]]:
    """Run the twin and every target this machine can run for ``board`` (native build, the board's
    emulator), and compare all burst and state digests with the fixed-point twin.

    Returns:
        ``[{"name", "bursts", "equal", "first_divergence", "detail"}]``; the twin is the reference.
    """
    from .host.twin import Twin
    from .targets import missing_build_tools, missing_run_tools, run_on_target

    b = board if isinstance(board, Board) else load_board(board)
    stim = stimulus or Stimulus()
    ref = Twin(model).run(bursts, stim, state_every=state_every)
    rows = [{"name": "twin (numba, fixed point)", "bursts": bursts, "equal": True,
             "first_divergence": None, "detail": "reference"}]
    flt = Twin(model, "float").run(bursts, stim, state_every=state_every)
    eq = flt.burst_crc == ref.burst_crc
    rows.append({"name": "twin (numba, f32 reference)", "bursts": bursts, "equal": eq,
                 "first_divergence": None if eq else compare_digests(ref, flt.burst_crc, {})[1],
                 "detail": "bursts only (state is f32)" + ("" if model.report.get("lossless")
                                                           else "; model is lossy")})
    proj = build_project(model, b, Path(work_dir) / "project", stimulus=stim, bursts=bursts,
                         state_every=state_every).out_dir
    targets = ["native"] + ([b.name] if b.name != "native" else [])
    for t in targets:
        tb = load_board(t)
        missing = missing_build_tools(tb) + missing_run_tools(tb)
        name = f"{t} ({tb.emulator_kind if tb.architecture != 'native' else 'host gcc'})"
        if missing:
            rows.append({"name": name, "bursts": 0, "equal": None, "first_divergence": None,
                         "detail": f"not run: missing {', '.join(missing)}"})
            continue
        r = run_on_target(tb, [proj / "src", proj / "lib" / "feagi_runtime" / "src"],
                          [proj / "include", proj / "lib" / "feagi_runtime" / "src"],
                          out_dir=Path(work_dir) / f"build-{t}", timeout=600)
        got_b, got_s, _ = parse_protocol(r.stdout)
        eq, first = compare_digests(ref, got_b, got_s)
        detail = f"{r.metric_kind}: {r.metric:,}" if r.metric else ""
        rows.append({"name": name, "bursts": len(got_b), "equal": eq, "first_divergence": first,
                     "detail": detail})
    return rows


# ---------------------------------------------------------------------------------- MicroPython
@dataclass
class MpyBuildResult:
    """What :func:`build_micropython` wrote: the package folder, files and heap estimate."""

    out_dir: Path
    board: Board
    files: list[Path]
    heap: dict[str, int]


def build_micropython(model: Model, board: Board | str, out_dir: str | Path, *,
                      stimulus: Stimulus | None = None, bursts: int | None = None,
                      state_every: int = 10) -> MpyBuildResult:
    """Write the MicroPython package for ``board`` (``feagi-embed build --lang micropython``).

    With a stimulus (or ``bursts``) the package carries a compiled test schedule that ``main.py``
    runs, printing the device protocol; without, ``main.py`` runs the burst loop forever.

    Raises:
        CapacityError: the heap estimate exceeds the board's MicroPython heap, or the board has no
            MicroPython port (nothing is written).
        BoardError: unknown board.
    """
    from .codegen.micropython import check_heap, emit_micropython, mpy_layout, queue_len_for

    b = board if isinstance(board, Board) else load_board(board)
    # before any file is written
    heap = check_heap(mpy_layout(model, queue_len=queue_len_for(model, stimulus, bursts)), b)
    files = emit_micropython(model, out_dir, board=b, stimulus=stimulus, bursts=bursts,
                             state_every=state_every)
    return MpyBuildResult(Path(out_dir), b, files, heap)


def verify_micropython(model: Model, stimulus: Stimulus | None, bursts: int,
                       work_dir: str | Path, state_every: int = 10,
                       with_twin_row: bool = True) -> list[dict[str, Any]]:
    """Run the generated MicroPython package in the WebAssembly port (pure engine) and the unix
    port (viper kernels) where installed, and compare every digest with the fixed-point twin.

    Returns:
        Rows as :func:`verify` (the twin row first when ``with_twin_row``).
    """
    from .codegen.micropython import emit_micropython, missing_mpy_tools, run_unix, run_wasm
    from .host.twin import Twin

    stim = stimulus or Stimulus()
    ref = Twin(model).run(bursts, stim, state_every=state_every)
    rows = []
    if with_twin_row:
        rows.append({"name": "twin (numba, fixed point)", "bursts": bursts, "equal": True,
                     "first_divergence": None, "detail": "reference"})
    pkg = Path(work_dir) / "micropython"
    emit_micropython(model, pkg, board=None, stimulus=stim, bursts=bursts,
                     state_every=state_every)
    for which, name, runner in (("wasm", "micropython wasm (pure Python, Node)", run_wasm),
                                ("unix", "micropython unix (viper, x64)", run_unix)):
        missing = missing_mpy_tools(which)
        if missing:
            rows.append({"name": name, "bursts": 0, "equal": None, "first_divergence": None,
                         "detail": f"not run: missing {', '.join(missing)}"})
            continue
        r = runner(pkg)
        got_b, got_s, _ = parse_protocol(r.stdout)
        eq, first = compare_digests(ref, got_b, got_s)
        detail = f"{r.seconds:.2f} s" if r.returncode == 0 else \
            f"exit {r.returncode}: {r.stderr.strip().splitlines()[-1:] or ''}"
        rows.append({"name": name, "bursts": len(got_b), "equal": eq, "first_divergence": first,
                     "detail": detail})
    return rows
