"""``feagi-embed build`` / ``report``: Model + board → checked Plan → project folder.

Orchestration only: the plan comes from :mod:`feagi_embed.plan`, the sources from
:mod:`feagi_embed.codegen`, the PlatformIO / Makefile files from
:mod:`feagi_embed.targets.project`.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .boards import Board, load_board
from .codegen import emit_c_model, emit_micropython
from .codegen.cgen import ctype
from .model import Model
from .plan import Budget, Plan, budget_for, check_fit, plan_fits, plan_for, queue_len_for
from .resources import firmware_dir
from .stimulus import Stimulus
from .targets.project import render_project_files

#: bursts the generated demo/test ``main.c`` runs when no test stimulus gives a length
DEFAULT_TEST_BURSTS = 100


@dataclass
class BuildResult:
    """What a build wrote: the project folder, the plan, the board and the files."""

    out_dir: Path
    plan: Plan
    board: Board
    files: list[Path]

    @property
    def heap(self) -> dict[str, int]:
        """MicroPython builds: the heap estimate by part plus ``available``."""
        return dict(self.plan.estimate, available=budget_for(self.board).mpy_heap)


def _board(board: Board | str) -> Board:
    return board if isinstance(board, Board) else load_board(board)


def test_bursts(stimulus: Stimulus | None, bursts: int | None) -> int:
    """Bursts of the generated test main: ``bursts``, else the stimulus length or
    :data:`DEFAULT_TEST_BURSTS`."""
    return int(bursts or max((stimulus or Stimulus()).last_burst(), DEFAULT_TEST_BURSTS))


def c_plan(model: Model, board: Board, stimulus: Stimulus | None = None,
           bursts: int | None = None) -> Plan:
    """The C plan of ``model`` for ``board`` (input queue sized for the test schedule)."""
    q = queue_len_for(model, stimulus, bursts or 1) if stimulus is not None else 16
    return plan_for(model, budget_for(board), "c", queue_len=q)


def check_stimulus(model: Model, plan: Plan, stimulus: Stimulus | None, bursts: int,
                   board: str = "board") -> None:
    """Check that a stimulus only injects values the plan can hold.

    Areas with 16-bit membrane potentials (``plan.narrow_v``) accept sensory values that are
    multiples of their ``sensory_step``; the firmware refuses others at run time.

    Raises:
        StimulusError: names the burst, area, value and the allowed step.
    """
    if stimulus is None or not plan.narrow_v:
        return
    from .stimulus import KIND_FORCE, StimulusError
    ptr, nrn, val, kind = stimulus.compile(model, bursts)
    names = model.areas.names
    first = np.asarray(model.area_first, np.int64)
    keys = list(plan.per_area)
    for key, proof in plan.narrow_v.items():
        a = keys.index(key)
        mask = (nrn >= first[a]) & (nrn < first[a + 1]) & (kind != KIND_FORCE)
        bad = mask & ((val.astype(np.int64) & ((1 << proof.shift) - 1)) != 0)
        if bad.any():
            j = int(np.flatnonzero(bad)[0])
            b = int(np.searchsorted(ptr, j, side="right"))
            raise StimulusError(
                f"stimulus injects {val[j] / (1 << model.frac_bits):.4g} into area "
                f"{names[a] if a < len(names) else a} at burst {b}, but on {board} that area's "
                f"membrane potential is stored in 16 bits: sensory values must be multiples of "
                f"{proof.sensory_step:g} (at most {model.max_sensory:g})")


def report(model: Model, board: Board, plan: Plan) -> dict[str, Any]:
    """Memory report: ``{"board", "fits", "regions": {"ram"|"heap"|"flash": {"used",
    "available", …}}, "narrow_v", "arrays", "areas", "frac_bits"}`` (bytes, predicted)."""
    bud = budget_for(board)
    js = plan.to_json()
    regions = {"ram": {"used": plan.static_bytes, "available": bud.static_ram}}
    if bud.heap:
        regions["heap"] = {"used": plan.heap_bytes, "available": bud.heap,
                           "largest_block": bud.heap_block}
    regions["flash"] = {"used": plan.flash_bytes, "available": bud.flash_reachable}
    if bud.flash_array_max:
        regions["flash"]["largest_array"] = bud.flash_array_max
    arrays = [{"name": a["name"], "ctype": ctype(a["dtype"]), "length": a["length"],
               "region": a["region"], "bytes": a["bytes"]} for a in js["arrays"]]
    return {"board": board.name, "fits": plan_fits(plan, bud), "regions": regions,
            "narrow_v": js["narrow_v"], "arrays": arrays,
            "areas": [dict(v, name=k) for k, v in js["areas"].items()],
            "frac_bits": model.frac_bits}


def _copy_runtime(out: Path) -> list[Path]:
    """The runtime library: ``lib/feagi_runtime/src`` (the HAL contract too: PlatformIO does not
    see ``hal/``)."""
    lib = out / "lib" / "feagi_runtime" / "src"
    lib.mkdir(parents=True, exist_ok=True)
    fw = firmware_dir()
    written = []
    for src in (fw / "feagi_runtime.c", fw / "feagi_runtime.h", fw / "hal" / "feagi_hal.h"):
        shutil.copyfile(src, lib / src.name)
        written.append(lib / src.name)
    return written


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
    b = _board(board)
    bud = budget_for(b)
    stim = stimulus or Stimulus()
    n = test_bursts(stim, bursts)
    plan = c_plan(model, b, stim, n)
    check_fit(plan, bud)  # before any file is written
    check_stimulus(model, plan, stim, n, b.name)
    out = Path(out_dir)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        emitted = emit_c_model(model, plan, bud, tmp, stimulus=stim, bursts=n,
                               state_every=state_every, with_main=True,
                               arduino=b.pio_framework == "arduino")
        out.mkdir(parents=True, exist_ok=True)
        for p in emitted:
            dest = out / ("include" if p.suffix == ".h" else "src") / p.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, dest)
            written.append(dest)
    written += _copy_runtime(out)
    prov = model.provenance
    files = render_project_files(b, {"genome_name": prov.genome_name,
                                     "genome_sha256": prov.genome_sha256,
                                     "tool_version": __version__})
    for rel, text in files.items():
        p = out / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        written.append(p)
    return BuildResult(out, plan, b, written)


def build_micropython(model: Model, board: Board | str | None, out_dir: str | Path, *,
                      stimulus: Stimulus | None = None, bursts: int | None = None,
                      state_every: int = 10) -> BuildResult:
    """Write the MicroPython package for ``board`` (``feagi-embed build --lang micropython``;
    ``board=None``: for the unix port, unchecked).

    With a stimulus (or ``bursts``) the package carries a compiled test schedule that ``main.py``
    runs, printing the device protocol; without, ``main.py`` runs the burst loop forever.

    Raises:
        CapacityError: the heap estimate exceeds the board's MicroPython heap, or the board has no
            MicroPython port (nothing is written).
        BoardError: unknown board.
    """
    b = _board(board) if board is not None else None
    bud: Budget | None = budget_for(b) if b is not None else None
    plan = plan_for(model, bud or Budget("unix", 0), "micropython",
                    queue_len=queue_len_for(model, stimulus, bursts))
    if bud is not None:
        check_fit(plan, bud)  # before any file is written
    files = emit_micropython(model, plan, bud, out_dir, stimulus=stimulus, bursts=bursts,
                             state_every=state_every, check=False)
    return BuildResult(Path(out_dir), plan, b, files)
