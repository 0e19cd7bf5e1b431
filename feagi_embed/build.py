"""``feagi-embed build`` / ``report``: Model + board → checked Plan → project folder.

Orchestration only: the plan comes from :mod:`feagi_embed.plan`, the sources from
:mod:`feagi_embed.codegen`, the PlatformIO / Makefile files from
:mod:`feagi_embed.targets.project`.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .boards import Board, load_board
from .codegen.env import render
from .errors import FeagiEmbedError
from .codegen import emit_c_model, emit_micropython
from .codegen.cgen import ctype
from .model import Model
from .plan import Budget, Plan, budget_for, check_fit, input_queue_len, plan_fits, plan_for
from .resources import firmware_dir
from .stimulus import Stimulus
from .targets.project import render_project_files

#: bursts the generated demo/test ``main.c`` runs when no test stimulus gives a length
DEFAULT_TEST_BURSTS = 100
#: the project manifest: which genome and board a folder was generated for, and which files
#: feagi-embed owns (regenerated on every build)
MANIFEST = ".feagi-embed.json"
#: files a build creates once and never overwrites (the user's code and settings)
USER_FILES = {"src/feagi_user.cpp": "c/feagi_user.cpp.j2",
              "platformio_user.ini": "platformio/platformio_user.ini.j2"}


class ProjectFolderError(FeagiEmbedError):
    """``build`` would write into a folder made for another genome or board (or not by
    feagi-embed at all)."""


def check_project_folder(out: Path, genome: str, genome_sha256: str | None, board: str,
                         force: bool) -> None:
    """Refuse to write a project into ``out`` when it holds another project.

    A missing or empty folder is fine; so is one whose manifest names the same genome (sha256)
    and board. Otherwise (another genome or board, or files without a manifest) the build is
    refused unless ``force``: user files (:data:`USER_FILES`) are never overwritten even then.

    Raises:
        ProjectFolderError: names the folder, what it was made for and what was asked.
    """
    if force or not out.exists() or not any(out.iterdir()):
        return
    man = out / MANIFEST
    if not man.is_file():
        raise ProjectFolderError(
            f"{out}: folder exists and was not made by feagi-embed build (no {MANIFEST}); "
            "expected an empty or new folder (or --force)")
    try:
        old = json.loads(man.read_text())
    except (OSError, ValueError) as e:
        raise ProjectFolderError(f"{man}: unreadable manifest ({e}); expected JSON "
                                 "(or --force)") from None
    if old.get("genome_sha256") != genome_sha256 or old.get("board") != board:
        raise ProjectFolderError(
            f"{out}: made for genome {old.get('genome')} (sha256 {old.get('genome_sha256')}) "
            f"on board {old.get('board')}; this build is {genome} (sha256 {genome_sha256}) on "
            f"{board}. Use another "
            "--out, or --force to regenerate it (your src/feagi_user.cpp and "
            "platformio_user.ini are kept)")


def _write_user_files(out: Path, ctx: dict) -> list[Path]:
    """Create :data:`USER_FILES` that do not exist yet (never overwrite one)."""
    written = []
    for rel, tpl in USER_FILES.items():
        p = out / rel
        if p.exists():
            continue
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(render(tpl, **ctx))
        written.append(p)
    return written


def _previously_generated(out: Path) -> set[str]:
    """Files the last build into ``out`` generated (from its manifest; empty if none)."""
    try:
        return set(json.loads((out / MANIFEST).read_text()).get("generated", []))
    except (OSError, ValueError, AttributeError):
        return set()


def _remove_stale(out: Path, previous: set[str], written: list[Path]) -> None:
    """Delete files an earlier build generated that this one no longer writes (never a user
    file, never anything outside ``out``)."""
    now = {str(p.relative_to(out)) for p in written}
    for rel in sorted(previous - now - set(USER_FILES)):
        p = (out / rel).resolve()
        if p.is_file() and out.resolve() in p.parents:
            p.unlink()


def _write_manifest(out: Path, model: Model, board: Board, generated: list[Path]) -> Path:
    prov = model.provenance
    man = out / MANIFEST
    man.write_text(json.dumps({
        "generated_by": f"feagi-embed {__version__}", "genome": prov.genome_name,
        "genome_sha256": prov.genome_sha256, "board": board.name,
        "generated": sorted(str(p.relative_to(out)) for p in generated),
        "user_files": sorted(USER_FILES)}, indent=1) + "\n")
    return man


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
           bursts: int | None = None, queue_len: int | None = None, io_need: int = 0) -> Plan:
    """The C plan of ``model`` for ``board``; the input queue takes every sensor voxel and the
    test schedule's largest burst each burst (:func:`~feagi_embed.plan.input_queue_len`), or
    ``queue_len`` entries."""
    q = input_queue_len(model, stimulus, bursts or 1, queue_len, io_need)
    return plan_for(model, budget_for(board), "c", queue_len=q)


def check_stimulus(model: Model, plan: Plan, stimulus: Stimulus | None, bursts: int,
                   board: str = "board") -> None:
    """Check that a stimulus only injects what the plan's narrow-V proofs cover.

    Areas with 16- or 8-bit membrane potentials (``plan.narrow_v``) accept sensory values that
    are multiples of their ``sensory_step`` (and >= 0 in areas without charge accumulation,
    ``NarrowV.nonneg_sensory``), and at most ``max_sensory`` of positive injected input
    per neuron per burst (the budget of :func:`~feagi_embed.plan.narrow_v_proof`; several
    entries may inject into one voxel in one burst). The firmware refuses the same at run time
    (``FEAGI_ERR_VALUE``, ``FEAGI_ERR_BUDGET``).

    Raises:
        StimulusError: names the file, the entry's key path, the value as given, the burst, the
            area and what is allowed.
    """
    if stimulus is None or not plan.narrow_v:
        return
    from .quantize import q
    from .stimulus import StimulusError
    f = model.frac_bits
    names = model.areas.names
    keys = list(plan.per_area)
    narrow = {keys.index(k): proof for k, proof in plan.narrow_v.items()}
    max_sensory = float(model.max_sensory)
    q_budget = int(plan.constants.get("sensory_budget_q", model.max_sensory_q))  # the proof's
    first = np.asarray(model.area_first, np.int64)
    src = stimulus.source
    rows = []  # per narrow-area positive injection: (burst, neuron, q value, entry index)
    for i, e in enumerate(stimulus.entries):
        if e["kind"] != "inject" or e["value"] == 0:
            continue
        try:
            a = model.area_index(e["area"])
        except KeyError:
            continue  # Stimulus.compile names it
        if a not in narrow:
            continue
        proof, name = narrow[a], names[a] if a < len(names) else a
        qv = int(q(e["value"], f))
        if qv & ((1 << proof.shift) - 1):
            raise StimulusError(
                f"{src}: stimuli[{i}].value: got {e['value']!r}; expected a value on the area's "
                f"grid: on {board} area {name} stores its membrane potential in {proof.bits} "
                f"bits, so sensory values must be multiples of {proof.sensory_step:g} (at most "
                f"{max_sensory:g})")
        if qv < 0 and proof.nonneg_sensory:
            raise StimulusError(
                f"{src}: stimuli[{i}].value: got {e['value']!r}; expected a value >= 0: on "
                f"{board} area {name} stores its membrane potential in {proof.bits} bits, proven "
                "for non-negative input only (the area has no charge accumulation)")
        b0, b1 = e["bursts"][0], min(e["bursts"][1], bursts)
        if qv <= 0 or b1 < b0:
            continue
        w, h, d = model.areas.dims[a]
        npv = model.areas.npv[a]
        vox = np.asarray(e["voxels"], np.int64).reshape(-1, 3)
        vox = vox[(vox[:, 0] < w) & (vox[:, 1] < h) & (vox[:, 2] < d)]  # others: compile names
        nid = first[a] + ((vox[:, 0] * h + vox[:, 1]) * d + vox[:, 2]) * npv + (npv - 1)
        nb_ = b1 - b0 + 1
        rows.append((np.repeat(np.arange(b0, b1 + 1, dtype=np.int64), len(nid)),
                     np.tile(nid, nb_), np.full(nb_ * len(nid), qv, np.int64),
                     np.full(nb_ * len(nid), i, np.int64)))
    if not rows:
        return
    b, n, v, ent = (np.concatenate(c) for c in zip(*rows))
    order = np.lexsort((ent, n, b))  # by burst, neuron, then file order
    b, n, v, ent = b[order], n[order], v[order], ent[order]
    start = np.r_[True, (b[1:] != b[:-1]) | (n[1:] != n[:-1])]
    grp = np.cumsum(start) - 1
    total = np.cumsum(v)
    base = (total - v)[start]
    run = total - base[grp]  # positive input queued into that neuron so far in that burst
    over = np.flatnonzero(run > q_budget)
    if len(over):
        j = int(over[0])
        i, a = int(ent[j]), model.area_index(stimulus.entries[int(ent[j])]["area"])
        local = int(n[j] - first[a]) // model.areas.npv[a]
        w, h, d = model.areas.dims[a]
        vox = [local // (h * d), (local // d) % h, local % d]
        raise StimulusError(
            f"{src}: stimuli[{i}]: got {run[j] / (1 << f):g} of positive sensory input into voxel "
            f"{vox} of area {names[a] if a < len(names) else a} in burst {int(b[j])}; expected "
            f"at most {q_budget / (1 << f):g} per neuron per burst: on {board} that area stores "
            f"its membrane potential in {narrow[a].bits} bits, proven for "
            f"{q_budget // model.max_sensory_q} sensory value(s) of at most {max_sensory:g} per "
            "burst")


def report(model: Model, board: Board, plan: Plan) -> dict[str, Any]:
    """Memory report: ``{"board", "fits", "regions": {"ram"|"heap"|"flash": {"used",
    "available", …}}, "narrow_v", "arrays", "areas", "frac_bits"}`` (bytes, predicted). Each area
    has its RAM bytes per neuron (``ram_per_neuron``) and, for C plans, its ``packing``: how V,
    cc, cd and the accumulator are stored (:func:`feagi_embed.plan.c.layout_c`)."""
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
            "areas": [dict(v, name=k, ram_per_neuron=(v["ram"] / v["neurons"] if v["neurons"]
                                                      else None))
                      for k, v in js["areas"].items()],
            "frac_bits": model.frac_bits}


def _copy_runtime(out: Path) -> list[Path]:
    """The runtime library ``lib/feagi_runtime/src`` (the HAL contract too: PlatformIO does not
    see ``hal/``) and ``lib/feagi_hal_native/src``, the host HAL that PlatformIO's ``native``
    environment links (its ``library.json`` limits it to that platform)."""
    fw = firmware_dir()
    written = []
    for lib, files in (("feagi_runtime", (fw / "feagi_runtime.c", fw / "feagi_runtime.h",
                                          fw / "hal" / "feagi_hal.h")),
                       ("feagi_hal_native", (fw / "hal" / "hal_native.c",
                                             fw / "hal" / "hal_common.c",
                                             fw / "hal" / "feagi_hal.h"))):
        dest = out / "lib" / lib / "src"
        dest.mkdir(parents=True, exist_ok=True)
        for src in files:
            shutil.copyfile(src, dest / src.name)
            written.append(dest / src.name)
    return written


def _write_io_glue(out: Path, io, model: Model, board: Board) -> list[Path]:
    """The io map's generated glue and the coder sources (:mod:`feagi_embed.io.glue`)."""
    from .io.glue import emit_glue, runtime_sources

    written = []
    for rel, text in emit_glue(io, model, board).items():
        p = out / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        written.append(p)
    for src in runtime_sources():
        dest = out / "lib" / "feagi_runtime" / "src" / src.name
        shutil.copyfile(src, dest)
        written.append(dest)
    return written


def build_project(model: Model, board: Board | str, out_dir: str | Path, *,
                  stimulus: Stimulus | None = None, bursts: int | None = None,
                  state_every: int = 10, queue_len: int | None = None,
                  force: bool = False, io_map: str | Path | None = None) -> BuildResult:
    """Write a PlatformIO project (plus a plain Makefile and an Arduino IDE entry) for ``board``.

    Layout: ``platformio.ini`` (+ ``platformio_user.ini``, yours), ``Makefile``, ``README.md``,
    ``<folder>.ino``, ``include/feagi_model.h`` (+ ``feagi_test_stimulus.h``),
    ``src/feagi_model.c``, ``src/main.c`` (the bare-metal test driver), ``src/feagi_arduino.cpp``
    (Arduino framework sketch), ``src/feagi_user.cpp`` (your hooks: created once, never
    overwritten), ``lib/feagi_runtime/`` (runtime + library manifests), ``lib/feagi_hal_native/``
    (host HAL of the ``native`` env), ``hal/`` (bare-metal HAL for the Makefile) and the manifest
    :data:`MANIFEST`.

    Args:
        queue_len: input-queue entries per burst (default: every sensor voxel and the test
            schedule, :func:`~feagi_embed.plan.input_queue_len`).
        force: write into a folder made for another genome or board.
        io_map: an io map (``io.toml``, :mod:`feagi_embed.io.pinmap`): adds
            ``include/feagi_io_map.h``, ``src/feagi_io_glue.cpp`` and the coders
            ``lib/feagi_runtime/src/feagi_io.{c,h}``; its sensors size the input queue too.

    Raises:
        IoMapError: a bad io map (nothing is written).
        CapacityError: the model does not fit the board (nothing is written).
        ProjectFolderError: ``out_dir`` holds another project (nothing is written).
        BoardError: unknown board.
    """
    b = _board(board)
    bud = budget_for(b)
    stim = stimulus or Stimulus()
    n = test_bursts(stim, bursts)
    io = None
    if io_map is not None:
        from .io.pinmap import load_io_map
        io = load_io_map(io_map, model, b)
    plan = c_plan(model, b, stim, n, queue_len, io.queue_need() if io else 0)
    check_fit(plan, bud)  # before any file is written
    check_stimulus(model, plan, stim, n, b.name)
    out = Path(out_dir)
    check_project_folder(out, model.provenance.genome_name, model.provenance.genome_sha256,
                         b.name, force)
    stale = _previously_generated(out)
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
    if io is not None:
        written += _write_io_glue(out, io, model, b)
    prov = model.provenance
    ctx = {"genome_name": prov.genome_name, "genome_sha256": prov.genome_sha256,
           "tool_version": __version__, "sketch_name": out.resolve().name}
    for rel, text in render_project_files(b, ctx).items():
        p = out / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        written.append(p)
    user = _write_user_files(out, dict(ctx, board=b.name, version=__version__))
    written.append(_write_manifest(out, model, b, written))
    _remove_stale(out, stale, written)
    return BuildResult(out, plan, b, written + user)


def build_micropython(model: Model, board: Board | str | None, out_dir: str | Path, *,
                      stimulus: Stimulus | None = None, bursts: int | None = None,
                      state_every: int = 10, queue_len: int | None = None) -> BuildResult:
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
                    queue_len=input_queue_len(model, stimulus, bursts, queue_len))
    if bud is not None:
        check_fit(plan, bud)  # before any file is written
    files = emit_micropython(model, plan, bud, out_dir, stimulus=stimulus, bursts=bursts,
                             state_every=state_every, check=False)
    return BuildResult(Path(out_dir), plan, b, files)
