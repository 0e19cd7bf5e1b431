"""``feagi-embed sweep``: genomes × boards × stimuli × executors, each cell a Dask task.

A *cell* is ``(genome, board, stimulus, executor)``; its result answers "does this genome fit this
board, and does this executor compute, under this stimulus, the same bursts and states as the
fixed-point numba twin?". The task graph per sweep:

- per genome: the :class:`~feagi_embed.quantize.Model`, built once on the client and scattered to
  the workers (``client.scatter``);
- per (genome, stimulus): the twin's reference :class:`~feagi_embed.host.twin.Trace`
  (:func:`reference_task`);
- per (genome, board): the capacity report and the generated C sources (:func:`project_task`): the
  model files once, plus the test driver (``main.c`` + ``feagi_test_stimulus.h``) of every stimulus;
- per (genome, board, target architecture): the model, runtime and HAL compiled to object files
  once (:func:`compile_task`; object bytes travel, so workers need no shared file system);
- per cell (:func:`cell_task`, :func:`twin_cell_task`): link the stimulus' driver with the objects,
  run natively or in the board's emulator, compare every digest with the reference; a refused
  board gives the refusal with its numbers and runs nothing.

Executors: ``twin`` (numba fixed point, the reference itself), ``float`` (f32 reference, burst
digests only), ``cuda``, ``wgpu`` (GPU twins) — these do not depend on the board and have one cell
per (genome, stimulus) with board ``host``; ``native`` (the board's project built with host gcc)
and ``emulator`` (the board's project cross-built and run in its emulator; ``emulator:B1+B2`` only
on boards B1, B2) have one cell per board.

Every task is a pure function of its arguments. Results are cached on disk by the client
(:class:`ResultCache`), keyed by genome sha256, board (and its definition file), stimulus hash,
executor, bursts, state interval, queue length and tool version (feagi-embed version + a hash of
the C runtime and templates), so a rerun computes only what changed; compiled objects are cached
the same way by the content of the sources and the compiler command.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import os
import pickle
import shutil
import subprocess
import tempfile
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .errors import FeagiEmbedError
from .stimulus import Stimulus

#: bumped whenever :func:`random_stimulus` draws differently for the same (model, bursts, seed)
RANDOM_STIMULUS_VERSION = 3
#: executors with one cell per (genome, stimulus), independent of the board
TWIN_EXECUTORS = ("twin", "float", "cuda", "wgpu")
#: executors with one cell per (genome, board, stimulus)
BOARD_EXECUTORS = ("native", "emulator")
#: the board column of board-independent cells
HOST = "host"
#: statuses a cell can have
STATUSES = ("equal", "differs", "refused", "not run", "error")


class SweepError(FeagiEmbedError):
    """Bad sweep input (unknown executor, board, stimulus file, scheduler address...)."""


# ------------------------------------------------------------------ model metadata (one place)
def _genome_sha(model) -> str:
    return str(model.provenance.genome_sha256)


# ------------------------------------------------------------------------- seeded stimuli
def random_stimulus(model, bursts: int, seed: int, nonneg_areas: Sequence[int] = ()) -> Stimulus:
    """The seeded random stimulus of a sweep column: :meth:`Stimulus.random
    <feagi_embed.stimulus.Stimulus.random>` over the model's input (IPU) areas (force-fires and
    integer sensory values, exact on every fixed-point grid), at most
    :data:`~feagi_embed.plan.DEFAULT_QUEUE_LEN` entries a burst so that it fits the default input
    queue of every board. The same ``(model, bursts, seed)`` always gives the same schedule
    (``RANDOM_STIMULUS_VERSION`` changes when the drawing does).

    Args:
        model: :class:`~feagi_embed.model.Model`.
        bursts: schedule length (bursts 1…bursts), >= 1.
        seed: non-negative integer seed.
        nonneg_areas: areas that take values >= 0 only on the cell's board
            (:func:`~feagi_embed.plan.nonneg_areas`): there the drawn values are made
            non-negative, the draws staying the same (as ``verify`` does).

    Raises:
        ValueError: ``bursts`` < 1 or ``seed`` < 0.
    """
    from .plan import DEFAULT_QUEUE_LEN

    if bursts < 1 or seed < 0:
        raise ValueError(f"random_stimulus: bursts={bursts}, seed={seed}; expected bursts >= 1, "
                         "seed >= 0")
    return Stimulus.random(model, bursts, seed, max_per_burst=DEFAULT_QUEUE_LEN,
                           nonneg_areas=nonneg_areas)


def stimulus_hash(stim: Stimulus) -> str:
    """sha256 (hex) of a stimulus' canonical JSON form (file order kept: it is semantic)."""
    return hashlib.sha256(json.dumps(stim.to_json(), sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class StimulusSpec:
    """One stimulus of a sweep: a seeded random one (``seed``) or a file (``path``).

    ``label`` names the column ("seed0", or the file name); ``key`` identifies its content for the
    cache (a random stimulus is determined by the genome, the bursts and the seed).
    """

    label: str
    seed: int | None = None
    path: str | None = None
    stimulus: Stimulus | None = None

    @property
    def key(self) -> str:
        if self.stimulus is not None:
            return stimulus_hash(self.stimulus)
        return f"random-v{RANDOM_STIMULUS_VERSION}-seed{self.seed}"

    def make(self, model, bursts: int) -> Stimulus:
        """The schedule for ``model`` (random ones are drawn with :func:`random_stimulus`)."""
        return self.stimulus if self.stimulus is not None else random_stimulus(model, bursts,
                                                                               self.seed)


def parse_stimuli(values: Sequence[str], seed: int = 0) -> list[StimulusSpec]:
    """``--stimuli`` values → specs: one integer N gives N seeded random stimuli (seeds
    ``seed``…``seed+N-1``), otherwise each value is a stimulus JSON file (docs/stimulus.md).

    Raises:
        SweepError: N < 1 or mixed forms; StimulusError: unreadable or invalid file.
    """
    if not values:
        values = ["1"]
    if len(values) == 1 and values[0].isdigit():
        n = int(values[0])
        if n < 1:
            raise SweepError(f"--stimuli: got {n}; expected N >= 1 seeded stimuli or files")
        return [StimulusSpec(f"seed{seed + i}", seed=seed + i) for i in range(n)]
    out = []
    for v in values:
        if v.isdigit() and not os.path.exists(v):
            raise SweepError(f"--stimuli: got {v!r} among files; expected either one number N "
                             "or stimulus files")
        s = Stimulus.load(v)
        out.append(StimulusSpec(Path(v).name, path=v, stimulus=s))
    return out


# ------------------------------------------------------------------------------ executors
def parse_executors(spec: Sequence[str]) -> list[tuple[str, frozenset[str] | None]]:
    """``--executors`` values (comma lists allowed) → ``[(name, boards or None)]``; ``emulator:B1+B2``
    restricts the emulator to boards B1, B2.

    Raises:
        SweepError: unknown executor.
    """
    out = []
    for item in ",".join(spec).split(","):
        item = item.strip()
        if not item:
            continue
        name, _, only = item.partition(":")
        if name not in TWIN_EXECUTORS + BOARD_EXECUTORS:
            raise SweepError(f"--executors: got {name!r}; expected one of "
                             f"{', '.join(TWIN_EXECUTORS + BOARD_EXECUTORS)} (emulator:BOARD+BOARD)")
        boards = frozenset(b for b in only.split("+") if b) if only else None
        if boards and name != "emulator":
            raise SweepError(f"--executors: {item!r}: only emulator takes a board list")
        out.append((name, boards))
    if not out:
        raise SweepError("--executors: expected at least one executor")
    return out


def tool_version() -> str:
    """feagi-embed version + a short hash of the C runtime, HAL and templates (what a cell's
    result depends on besides its inputs)."""
    from .resources import firmware_dir, templates_dir

    h = hashlib.sha256()
    for base in (firmware_dir(), templates_dir()):
        for p in sorted(base.rglob("*")):
            if p.is_file() and p.suffix in (".c", ".h", ".ld", ".j2", ".S", ".cpp"):
                h.update(p.relative_to(base).as_posix().encode())
                h.update(p.read_bytes())
    return f"{__version__}+{h.hexdigest()[:12]}"


def _board_sha(name: str) -> str:
    from .resources import boards_dir

    p = Path(boards_dir()) / f"{name}.toml"
    return hashlib.sha256(p.read_bytes()).hexdigest()[:16] if p.is_file() else name


# ------------------------------------------------------------------------------ task values
@dataclass
class Project:
    """What :func:`project_task` sends back: the capacity report and the generated C sources.

    Attributes:
        board: board id.
        report: :func:`~feagi_embed.build.report` (bytes per region, ``fits``).
        refusal: the :class:`CapacityError` message when the board refuses, else ``None``.
        model_files: ``{"feagi_model.c"|"feagi_model.h": bytes}`` (empty when refused).
        drivers: per stimulus (sweep order) ``{"main.c", "feagi_test_stimulus.h": bytes}`` or the
            refusal text of that stimulus (e.g. a value not on a 16-bit area's grid).
        variants: per stimulus, the schedule this board's driver runs when it is not the
            sweep's own (a seeded random stimulus redrawn with values >= 0 in the board's
            non-negative areas), else ``None``; its cells compare with its own reference.
    """

    board: str
    report: dict[str, Any]
    refusal: str | None
    model_files: dict[str, bytes] = field(default_factory=dict)
    drivers: list[dict[str, bytes] | str] = field(default_factory=list)
    variants: list[Stimulus | None] = field(default_factory=list)


@dataclass
class Objects:
    """What :func:`compile_task` sends back: object files of model + runtime + HAL for one target.

    Attributes:
        target: board id whose toolchain built them (``native`` for host gcc).
        objects: ``{file name: bytes}`` (empty when not built).
        missing: tools that are not installed (then nothing was built).
        error: compiler failure text, or ``None``.
        seconds: compile wall time.
    """

    target: str
    objects: dict[str, bytes] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0


def _refusal_numbers(report: dict[str, Any]) -> dict[str, Any]:
    """Per region ``{"used", "available", "missing"}`` (bytes) from a memory report."""
    return {r: {"used": int(v["used"]), "available": int(v["available"]),
                "missing": max(0, int(v["used"]) - int(v["available"]))}
            for r, v in report["regions"].items()}


def _render_driver(model, plan, stim: Stimulus, bursts: int, state_every: int,
                   board: str) -> dict[str, bytes]:
    """``main.c`` + ``feagi_test_stimulus.h`` for one stimulus, rendered from the same templates
    and schedule context as :func:`~feagi_embed.codegen.c.emit_c_model` (only those two files, so
    the model sources are emitted and compiled once per board).

    Raises:
        StimulusError: the stimulus does not apply to the model; ValueError: more entries in one
            burst than the plan's queue.
    """
    from .codegen.c import _schedule_context
    from .codegen.env import render

    ctx = _schedule_context(model, plan, {"board": board}, stim, bursts, state_every)
    return {"feagi_test_stimulus.h": render("c/feagi_test_stimulus.h.j2", **ctx).encode(),
            "main.c": render("c/main.c.j2", **ctx).encode()}


def queue_stimulus(model, stimuli: Sequence[Stimulus], bursts: int) -> Stimulus | None:
    """The stimulus with the most entries in one burst (it sizes the plan's input queue, shared by
    all stimuli of the sweep so the model compiles once), or ``None`` when there is none."""
    from .plan import queue_len_for

    best, q = None, -1
    for s in stimuli:
        n = queue_len_for(model, s, bursts, minimum=0)
        if n > q:
            best, q = s, n
    return best


def project_task(model, board: str, stimuli: Sequence[Stimulus], bursts: int,
                 state_every: int, seeds: Sequence[int | None] = ()) -> Project:
    """Capacity report of ``model`` on ``board`` and, when it fits, the generated C sources:
    model files once and a test driver per stimulus (:class:`Project`). Pure.

    The plan is :func:`~feagi_embed.build.c_plan` with the input queue sized for the stimulus of
    :func:`queue_stimulus` (and every sensor voxel); a stimulus the plan cannot take (:func:`~feagi_embed.build.check_stimulus`)
    gets its refusal text instead of a driver. ``seeds``: per stimulus, the seed of a seeded
    random one (else ``None``); where the plan's areas take only values >= 0, such a stimulus is
    redrawn with its values there made non-negative (:attr:`Project.variants`; same draws and
    entry counts, so the queue is unchanged) — a file's stimulus is taken as written.
    """
    from .boards import load_board
    from .build import c_plan, check_stimulus, report
    from .codegen.c import emit_c_model
    from .plan import CapacityError, budget_for, check_fit

    b = load_board(board)
    bud = budget_for(b)
    qs = queue_stimulus(model, stimuli, bursts)
    plan = c_plan(model, b, qs, bursts)
    rep = report(model, b, plan)
    if not rep["fits"]:
        try:
            check_fit(plan, bud)
            msg = f"{board}: does not fit"
        except CapacityError as e:
            msg = str(e)
        return Project(board, rep, msg)
    with tempfile.TemporaryDirectory(prefix="feagi-sweep-") as tmp:
        # the model files exactly as build_project writes them; the test driver is rendered per
        # stimulus below
        files = {p.name: p.read_bytes() for p in emit_c_model(model, plan, bud, tmp)}
    drivers: list[dict[str, bytes] | str] = []
    variants = _board_variants(model, plan, stimuli, bursts, seeds)
    for s, v in zip(stimuli, variants):
        s = v or s
        try:
            check_stimulus(model, plan, s, bursts, board)
            drivers.append(_render_driver(model, plan, s, bursts, state_every, board))
        except (FeagiEmbedError, ValueError) as e:
            drivers.append(str(e))
    return Project(board, rep, None, files, drivers, variants)


def _board_variants(model, plan, stimuli, bursts, seeds) -> list[Stimulus | None]:
    """Per stimulus: the seeded random one redrawn for ``plan``'s non-negative areas, where that
    changes it, else ``None`` (:func:`project_task`)."""
    from .plan import nonneg_areas

    areas = nonneg_areas(plan)
    out: list[Stimulus | None] = []
    for i, s in enumerate(stimuli):
        seed = seeds[i] if i < len(seeds) else None
        v = random_stimulus(model, bursts, seed, areas) if areas and seed is not None else None
        out.append(v if v is not None and v.to_json() != s.to_json() else None)
    return out


def _compile_flags(cmd: list[str]) -> tuple[list[str], list[str]]:
    """A :func:`~feagi_embed.targets.build_command` line → ``(compiler and flags, sources)``: the
    flags that compile (no ``-o``, ``-lgcc``; linker-only flags are ignored by gcc with ``-c``) and
    the C files."""
    flags, srcs, skip = [], [], False
    for a in cmd:
        if skip:
            skip = False
        elif a == "-o":
            skip = True
        elif a.endswith(".c"):
            srcs.append(a)
        elif a != "-lgcc":
            flags.append(a)
    return flags, srcs


def _object_cache() -> Path:
    from .targets.emulators import cache_dir

    d = cache_dir() / "sweep-cc"
    d.mkdir(parents=True, exist_ok=True)
    return d


_CC_VERSIONS: dict[str, str] = {}


def _cc_version(cc: str) -> str:
    """First line of ``cc --version`` (memoized per process), part of the object cache key."""
    if cc not in _CC_VERSIONS:
        p = subprocess.run([cc, "--version"], capture_output=True, text=True, check=False)
        _CC_VERSIONS[cc] = (p.stdout.splitlines() or [""])[0]
    return _CC_VERSIONS[cc]


def compile_task(project: Project, target: str) -> Objects:
    """Compile ``feagi_model.c``, the runtime and the HAL of ``target`` (host gcc for ``native``,
    else the board's cross compiler and ``cflags``) into object files. Pure: sources in, bytes out.

    Each file is compiled in a scratch folder with relative paths, and its object is reused from
    a content-addressed cache on this host (``<cache>/sweep-cc``, keyed by the sha256 of the
    compiler flags and the preprocessed source, as ccache's preprocessor mode): boards whose plans
    generate the same code (they differ only in comments and budget checks) compile it once.
    """
    from .boards import load_board
    from .resources import firmware_dir
    from .targets import build_command, missing_build_tools, missing_run_tools

    tb = load_board(target)
    if project.refusal:
        return Objects(target)
    missing = missing_build_tools(tb) + missing_run_tools(tb)
    if missing:
        return Objects(target, missing=missing)
    t0 = time.perf_counter()
    store = _object_cache()
    objs: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="feagi-sweep-cc-") as tmp:
        d = Path(tmp)
        (d / "include").mkdir()
        (d / "include" / "feagi_model.h").write_bytes(project.model_files["feagi_model.h"])
        (d / "feagi_model.c").write_bytes(project.model_files["feagi_model.c"])
        shutil.copyfile(firmware_dir() / "feagi_runtime.c", d / "feagi_runtime.c")
        shutil.copyfile(firmware_dir() / "feagi_procedural.h", d / "feagi_procedural.h")
        shutil.copyfile(firmware_dir() / "feagi_runtime.h", d / "include" / "feagi_runtime.h")
        cmd = build_command(tb, [d / "feagi_model.c", d / "feagi_runtime.c"], d / "unused.elf",
                            [d / "include"])
        # paths relative to the scratch folder: the preprocessed text (and so the key) is the
        # same in every task
        cmd = [a.replace(f"{d}/", "") for a in cmd]
        flags, srcs = _compile_flags(cmd)
        for src in srcs:
            name = Path(src).stem + ".o"
            pre = subprocess.run(flags + ["-E", src], cwd=d, capture_output=True, check=False)
            if pre.returncode != 0:
                return Objects(target, error=f"{Path(src).name}: preprocessing failed: "
                               f"{pre.stderr.decode(errors='replace').strip()[-2000:]}")
            key = hashlib.sha256("\0".join([_cc_version(flags[0]), *flags]).encode() + b"\0"
                                 + pre.stdout).hexdigest()
            hit = store / f"{key}.o"
            if not hit.is_file():
                p = subprocess.run(flags + ["-c", src, "-o", name], cwd=d, capture_output=True,
                                   text=True, check=False)
                if p.returncode != 0:
                    return Objects(target, error=f"{Path(src).name}: compile failed (rc "
                                   f"{p.returncode}): {(p.stdout + p.stderr).strip()[-2000:]}")
                part = store / f"{key}.o.{os.getpid()}"
                shutil.copyfile(d / name, part)
                os.replace(part, hit)
            objs[name] = hit.read_bytes()
    return Objects(target, objs, seconds=time.perf_counter() - t0)


def reference_task(model, stim: Stimulus, bursts: int, state_every: int):
    """The numba fixed-point twin's :class:`~feagi_embed.host.twin.Trace` (``fired_v`` dropped:
    it is not compared and is the bulk of the bytes sent back)."""
    from .host.twin import Twin

    t0 = time.perf_counter()
    tr = Twin(model).run(bursts, stim, state_every=state_every)
    tr.fired_v = []
    tr.seconds = time.perf_counter() - t0  # reported by the ``twin`` cell
    return tr


def _base(cell: dict[str, Any]) -> dict[str, Any]:
    return dict(cell, status="not run", equal=None, bursts=0, final_digest=None,
                first_divergence=None, metric=None, metric_kind=None, per_burst=None,
                capacity=None, detail="")


def _finish(row: dict[str, Any], ref, got_b: list[int], got_s: dict[int, int], model,
            fired=None) -> dict[str, Any]:
    from .trace import compare_digests, first_differing_neuron

    eq, first = compare_digests(ref, got_b, got_s)
    if first and first["what"] == "burst digest" and fired is not None:
        first["neuron"] = first_differing_neuron(model, ref, fired, first["burst"])
    row.update(status="equal" if eq else "differs", equal=bool(eq), bursts=len(got_b),
               first_divergence=first,
               final_digest=f"{zlib.crc32(np.asarray(got_b, '<u4').tobytes()):08x}")
    return row


def twin_cell_task(cell: dict[str, Any], model, ref, stim: Stimulus, bursts: int,
                   state_every: int) -> dict[str, Any]:
    """Result of a board-independent cell (executor ``twin``/``float``/``cuda``/``wgpu``)
    compared with the reference trace ``ref``. Pure (the GPU ones where a GPU is present)."""
    t0 = time.perf_counter()
    row = _base(cell)
    ex = cell["executor"]
    try:
        if ex == "twin":
            _finish(row, ref, list(ref.burst_crc), dict(ref.state_crc), model)
            row["detail"] = "reference (numba, fixed point)"
            t0 -= getattr(ref, "seconds", 0.0)
        else:
            from .executors import GpuTwin, NumbaTwin

            e = NumbaTwin("float") if ex == "float" else GpuTwin(ex)
            why = e.available()
            if why:
                row["detail"] = f"not run: {why}"
            else:
                tr = e.run(model, stim, bursts, state_every)
                # the f32 reference's state is not comparable: burst digests only
                states = dict(tr.state_crc) if e.compares_state else dict(ref.state_crc)
                _finish(row, ref, list(tr.burst_crc), states, model, tr.fired)
                row["detail"] = getattr(tr, "detail", "") or ""
    except FeagiEmbedError as e:
        row.update(status="error", detail=str(e).splitlines()[0])
    row["seconds"] = round(time.perf_counter() - t0, 4)
    return row


def _link_and_run(tb, drv: dict[str, bytes], objs: Objects, model_h: bytes, tmp: Path,
                  defines: dict | None = None):
    from .resources import firmware_dir, hal_dir
    from .targets import build_command, run_elf
    from .targets.toolchain import TargetError, link_flags

    (tmp / "include").mkdir(exist_ok=True)
    (tmp / "include" / "feagi_model.h").write_bytes(model_h)
    for n, data in drv.items():
        (tmp / ("include" if n.endswith(".h") else ".") / n).write_bytes(data)
    for n, data in objs.objects.items():
        (tmp / n).write_bytes(data)
    elf = tmp / f"sweep-{tb.name}.elf"
    cmd = build_command(tb, [tmp / "main.c", *(tmp / n for n in objs.objects)], elf,
                        [tmp / "include", firmware_dir()], defines, hal=False)
    i = cmd.index("-o")
    cmd[i:i] = link_flags(tb, str(hal_dir()))
    p = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if p.returncode != 0:
        raise TargetError(f"{tb.name}: link failed (rc {p.returncode})", (), (p.stdout + p.stderr)[-2000:])
    return run_elf(tb, elf, timeout=600)


def cell_task(cell: dict[str, Any], model, project: Project, objects: Objects, ref,
              stim_index: int, state_every: int = 0) -> dict[str, Any]:
    """Result of a board cell (executor ``native``/``emulator``): the capacity report, then (when
    the board and the stimulus are accepted and the tools are here) link the stimulus' driver
    with the compiled objects, run it, compare every digest with the reference ``ref`` (or,
    where the board runs its own variant of a random stimulus, :attr:`Project.variants`, with
    that variant's reference, ``state_every`` as the sweep's); a burst digest that differs is
    re-run with ``-DFEAGI_TRACE_IDS`` to name the first differing neuron. Pure: the same inputs
    give the same result (``seconds`` aside).
    """
    from .boards import load_board
    from .trace import parse_fired_ids, parse_protocol

    t0 = time.perf_counter()
    row = _base(cell)
    row["capacity"] = {"fits": bool(project.report["fits"]),
                       "regions": _refusal_numbers(project.report)}
    try:
        if project.refusal:
            short = "; ".join(f"{r} {v['used']:,} B of {v['available']:,} B (missing {v['missing']:,} B)"
                              for r, v in row["capacity"]["regions"].items() if v["missing"])
            row.update(status="refused", detail=f"does not fit {cell['board']}: "
                       + (short or project.refusal.splitlines()[-1].strip()))
            return row
        drv = project.drivers[stim_index]
        if isinstance(drv, str):
            row.update(status="refused", detail=drv.splitlines()[0])
            return row
        if objects.missing:
            row["detail"] = f"not run: missing {', '.join(objects.missing)}"
            return row
        if objects.error:
            row.update(status="error", detail=objects.error.splitlines()[0])
            return row
        tb = load_board(objects.target)
        if tb.emulator_kind == "none" and tb.architecture != "native":
            row["detail"] = "not run: size-only board (no emulator)"
            return row
        variant = project.variants[stim_index] if stim_index < len(project.variants) else None
        if variant is not None:
            ref = reference_task(model, variant, len(ref.burst_crc), state_every)
            row["detail"] = "random stimulus with values >= 0 in this board's non-negative areas"
        with tempfile.TemporaryDirectory(prefix="feagi-sweep-run-") as tmp:
            r = _link_and_run(tb, drv, objects, project.model_files["feagi_model.h"], Path(tmp))
        got_b, got_s, _ = parse_protocol(r.stdout)
        fired = None
        _finish(row, ref, got_b, got_s, model)
        if row["first_divergence"] and row["first_divergence"]["what"] == "burst digest":
            with tempfile.TemporaryDirectory(prefix="feagi-sweep-ids-") as tmp:
                r2 = _link_and_run(tb, drv, objects, project.model_files["feagi_model.h"], Path(tmp),
                                   {"FEAGI_TRACE_IDS": None})
            fired = parse_fired_ids(r2.stdout)
            _finish(row, ref, got_b, got_s, model, fired)
        if r.exit_code != 0:
            row["detail"] = (row["detail"] + "; " if row["detail"] else "") + \
                f"exit {r.exit_code}" + ("; timed out" if r.timed_out else "")
            if row["status"] == "equal":
                row["status"] = "error"
        if r.metric:
            row.update(metric=int(r.metric), metric_kind=r.metric_kind,
                       per_burst=int(r.metric) // max(1, len(got_b)))
            row["detail"] = (row["detail"] + "; " if row["detail"] else "") + \
                f"{r.metric_kind}: {int(r.metric):,}"
    except FeagiEmbedError as e:
        row.update(status="error", detail=str(e).splitlines()[0])
    finally:
        row["seconds"] = round(time.perf_counter() - t0, 4)
    return row


# ------------------------------------------------------------------------------ caches
class ResultCache:
    """Cell results on disk: ``<root>/results/<key[:2]>/<key>.json`` (client side only).

    ``key`` is the sha256 of the cell's identity (:meth:`Sweep.cell_key`); results with status
    ``error`` or ``not run`` are not stored (they depend on the machine: a timeout, a tool that
    is missing on the worker that ran them). Compiled object files (:class:`Objects`,
    keyed by :meth:`Sweep.objects_key`) go to ``<objects_root>/<key[:2]>/<key>.pkl``
    (default ``<root>/objects``). ``root=None`` disables caching.
    """

    def __init__(self, root: str | os.PathLike | None,
                 objects_root: str | os.PathLike | None = None):
        self.root = Path(root) if root else None
        self.objects_root = (Path(objects_root) if objects_root else
                             self.root / "objects" if self.root else None)

    def _path(self, kind: str, key: str, ext: str) -> Path:
        base = self.objects_root if kind == "objects" else self.root / kind
        return base / key[:2] / f"{key}.{ext}"

    def get(self, key: str) -> dict[str, Any] | None:
        if self.root is None:
            return None
        p = self._path("results", key, "json")
        try:
            return json.loads(p.read_text())
        except (OSError, ValueError):
            return None

    def put(self, key: str, row: dict[str, Any]) -> None:
        if self.root is None or row.get("status") in ("error", "not run"):
            return
        p = self._path("results", key, "json")
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(row, sort_keys=True))
        os.replace(tmp, p)

    def get_objects(self, key: str) -> Objects | None:
        if self.objects_root is None:
            return None
        p = self._path("objects", key, "pkl")
        try:
            with open(p, "rb") as f:
                return pickle.load(f)
        except (OSError, pickle.UnpicklingError, EOFError):
            return None

    def put_objects(self, key: str, objs: Objects) -> None:
        if self.objects_root is None or objs.error or objs.missing or not objs.objects:
            return
        p = self._path("objects", key, "pkl")
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_suffix(f".tmp{os.getpid()}")
        with open(tmp, "wb") as f:
            pickle.dump(objs, f)
        os.replace(tmp, p)


def default_cache_dir() -> Path:
    """``$FEAGI_EMBED_CACHE/sweep`` or ``~/.cache/feagi-embed/sweep``."""
    from .targets.emulators import cache_dir

    return cache_dir() / "sweep"


# ------------------------------------------------------------------------------ runners
class _Lazy:
    """A task of the serial runner: computed (once) when its value is first asked for."""

    def __init__(self, fn: Callable | None, args: tuple = (), value: Any = None):
        self.fn, self.args, self._value, self._done = fn, args, value, fn is None

    @property
    def value(self):
        if not self._done:
            self._value = self.fn(*[a.value if isinstance(a, _Lazy) else a for a in self.args])
            self._done, self.fn, self.args = True, None, ()
        return self._value


class SerialRunner:
    """Runs every task in this process, one after the other in cell order (the reference the
    Dask run is compared with); a task runs when the first cell needing it runs."""

    name = "serial"
    workers = 1

    def scatter(self, value):
        return _Lazy(None, value=value)

    def submit(self, fn: Callable, *args, key: str):
        return _Lazy(fn, args)

    def as_completed(self, futures: Iterable):
        yield from ((f, f.value) for f in futures)

    def close(self) -> None:
        pass


class DaskRunner:
    """Tasks on a ``dask.distributed`` cluster: an existing scheduler (``address``) or a
    :class:`~distributed.LocalCluster` with ``workers`` single-threaded worker processes (default:
    one per CPU core).

    Raises:
        SweepError: dask is not installed, or the scheduler cannot be reached.
    """

    def __init__(self, address: str | None = None, workers: int | None = None,
                 timeout: float = 15.0):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise SweepError("feagi-embed sweep needs dask.distributed: pip install "
                             "'feagi-embed[sweep]'") from None
        self.cluster = None
        try:
            if address:
                self.client = Client(address, timeout=timeout)
            else:
                n = workers or os.cpu_count() or 1
                self.cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                            dashboard_address=None)
                self.client = Client(self.cluster)
        except (OSError, TimeoutError) as e:
            raise SweepError(f"--scheduler {address}: cannot connect ({e}); expected a running "
                             "dask-scheduler, e.g. tcp://host:8786") from None
        self.name = f"dask {self.client.scheduler.address}"
        self.workers = len(self.client.scheduler_info()["workers"])

    def scatter(self, value):
        return self.client.scatter(value, broadcast=False)

    def submit(self, fn: Callable, *args, key: str):
        return self.client.submit(fn, *args, key=key, pure=True)

    def as_completed(self, futures: Iterable):
        from distributed import as_completed

        for fut, value in as_completed(list(futures), with_results=True):
            yield fut, value

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


# ------------------------------------------------------------------------------ the sweep
@dataclass
class GenomeSpec:
    """A genome of the sweep: display name and file."""

    name: str
    path: str

    @functools.cached_property
    def sha256(self) -> str:
        """sha256 (hex) of the genome file's bytes (the model's ``genome_sha256``)."""
        return hashlib.sha256(Path(self.path).read_bytes()).hexdigest()


@dataclass
class SweepResult:
    """All cells of a sweep (sweep order) and how they were obtained.

    Attributes:
        cells: result dicts: ``genome``, ``board``, ``stimulus``, ``executor``, ``status``
            (:data:`STATUSES`), ``equal``, ``bursts``, ``final_digest`` (hex CRC-32 over the burst
            digests), ``first_divergence`` (``{"burst", "what", "neuron"?}``), ``capacity``
            (``{"fits", "regions": {region: {"used", "available", "missing"}}}``, bytes; board
            cells), ``metric``/``metric_kind`` (emulator instructions or AVR cycles of the whole
            run), ``per_burst`` (metric / bursts, integer), ``detail``, ``seconds`` (task wall
            time; the only field that is not a pure function of the inputs), ``cached``.
        computed, cached: cells computed by tasks now / read from the cache (cells of a genome
            that does not load are neither).
        wall_s: wall time of :meth:`Sweep.run`.
        runner: ``"serial"`` or ``"dask <scheduler address>"``; workers: worker count.
    """

    cells: list[dict[str, Any]]
    computed: int
    cached: int
    wall_s: float
    runner: str
    workers: int
    bursts: int
    state_every: int

    def to_json(self) -> dict[str, Any]:
        return {"tool_version": tool_version(), "runner": self.runner, "workers": self.workers,
                "bursts": self.bursts, "state_every": self.state_every,
                "computed": self.computed, "cached": self.cached, "wall_s": round(self.wall_s, 3),
                "cells": self.cells}


def comparable(cell: dict[str, Any]) -> dict[str, Any]:
    """A cell without the fields that depend on how it was obtained (``seconds``, ``cached``)."""
    return {k: v for k, v in cell.items() if k not in ("seconds", "cached")}


class Sweep:
    """Genomes × boards × stimuli × executors (see the module docstring).

    Args:
        genomes: :class:`GenomeSpec` list.
        boards: board ids.
        stimuli: :class:`StimulusSpec` list.
        executors: from :func:`parse_executors`.
        bursts: bursts per run; state_every: state digest every K bursts.
        cache: :class:`ResultCache` (``ResultCache(None)`` disables it).
    """

    def __init__(self, genomes: Sequence[GenomeSpec], boards: Sequence[str],
                 stimuli: Sequence[StimulusSpec], executors, *, bursts: int = 20,
                 state_every: int = 5, cache: ResultCache | None = None):
        from .boards import load_board

        for b in boards:
            load_board(b)  # BoardError (exit 2) for an unknown board
        self.genomes, self.boards, self.stimuli = list(genomes), list(boards), list(stimuli)
        self.executors = list(executors)
        self.bursts, self.state_every = int(bursts), int(state_every)
        self.cache = cache or ResultCache(None)
        self.version = tool_version()

    def cells(self) -> list[dict[str, Any]]:
        """Every cell identity ``{"genome", "board", "stimulus", "executor"}`` in sweep order
        (genome, then board-independent executors, then boards; stimuli innermost)."""
        from .boards import load_board

        out = []
        for g in self.genomes:
            for ex, only in self.executors:
                if ex in TWIN_EXECUTORS:
                    out += [{"genome": g.name, "board": HOST, "stimulus": s.label, "executor": ex}
                            for s in self.stimuli]
            for b in self.boards:
                for ex, only in self.executors:
                    if ex not in BOARD_EXECUTORS:
                        continue
                    if ex == "emulator" and (load_board(b).architecture == "native"
                                             or (only is not None and b not in only)):
                        continue
                    out += [{"genome": g.name, "board": b, "stimulus": s.label, "executor": ex}
                            for s in self.stimuli]
        return out

    def cell_key(self, cell: dict[str, Any], genome: GenomeSpec, stim: StimulusSpec) -> str:
        """sha256 of what a cell's result depends on (see :class:`ResultCache`)."""
        ident = {"genome": genome.sha256, "board": cell["board"],
                 "board_def": _board_sha(cell["board"]) if cell["board"] != HOST else "",
                 "stimulus": stim.key, "executor": cell["executor"], "bursts": self.bursts,
                 "state_every": self.state_every, "tool": self.version,
                 # the shared queue (largest per-burst stimulus among file stimuli) shapes the plan
                 "queue": sorted(s.key for s in self.stimuli if s.stimulus is not None)
                 if cell["board"] != HOST else []}
        return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()

    def objects_key(self, genome: GenomeSpec, board: str, target: str) -> str:
        """sha256 of what the object files of (genome, board) built for ``target`` depend on."""
        ident = {"genome": genome.sha256, "board": board, "board_def": _board_sha(board),
                 "target": target, "target_def": _board_sha(target), "tool": self.version,
                 "bursts": self.bursts, "state_every": self.state_every,
                 "queue": sorted(s.key for s in self.stimuli if s.stimulus is not None)}
        return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()

    # Long by design: builds the whole task graph (references, projects, compiles, cells) in one
    # place so the dependencies between the four task kinds read top to bottom.
    def run(self, runner=None, progress: bool = False) -> SweepResult:
        """Compute every cell not in the cache (on ``runner``: :class:`SerialRunner` by default,
        or a :class:`DaskRunner`) and return all of them, in :meth:`cells` order.

        Models are built here (once per genome that has a cell to compute) and scattered; a genome
        that does not load gives ``error`` cells naming the problem.
        """
        runner = runner or SerialRunner()
        t0 = time.perf_counter()
        gspec = {g.name: g for g in self.genomes}
        sidx = {s.label: i for i, s in enumerate(self.stimuli)}
        cells = self.cells()
        results: dict[int, dict[str, Any]] = {}
        keys = [self.cell_key(c, gspec[c["genome"]], self.stimuli[sidx[c["stimulus"]]])
                for c in cells]
        todo = []
        for i, k in enumerate(keys):
            hit = self.cache.get(k)
            if hit is not None:
                results[i] = dict(hit, cached=True)
            else:
                todo.append(i)
        n_cached = len(results)
        models: dict[str, Any] = {}
        stims: dict[str, list[Stimulus]] = {}
        genome_error: dict[str, str] = {}
        refs: dict[tuple, Any] = {}
        projects: dict[tuple, Any] = {}
        objects: dict[tuple, Any] = {}
        tag = self.version.replace("+", "-")

        def model_of(gname):
            if gname not in models and gname not in genome_error:
                try:
                    m = load_model(gspec[gname].path)
                    stims[gname] = [s.make(m, self.bursts) for s in self.stimuli]
                    models[gname] = runner.scatter(m)
                except FeagiEmbedError as e:
                    genome_error[gname] = str(e).splitlines()[0]
            return models.get(gname)

        def ref_of(g, si):
            if (g, si) not in refs:
                refs[(g, si)] = runner.submit(
                    reference_task, models[g], stims[g][si], self.bursts, self.state_every,
                    key=f"ref-{g}-{self.stimuli[si].label}-{gspec[g].sha256[:12]}-{tag}")
            return refs[(g, si)]

        def project_of(g, board):
            if (g, board) not in projects:
                projects[(g, board)] = runner.submit(
                    project_task, models[g], board, stims[g], self.bursts, self.state_every,
                    [s.seed if s.stimulus is None else None for s in self.stimuli],
                    key=f"project-{g}-{board}-{gspec[g].sha256[:12]}-{tag}")
            return projects[(g, board)]

        compiled: dict[Any, str] = {}  # compile futures -> object cache key

        def objects_of(g, board, target):
            if (g, board, target) not in objects:
                ok = self.objects_key(gspec[g], board, target)
                hit = self.cache.get_objects(ok)
                if hit is not None:
                    objects[(g, board, target)] = runner.scatter(hit)
                else:
                    fut = runner.submit(compile_task, project_of(g, board), target,
                                        key=f"compile-{g}-{board}-{target}-{ok[:16]}")
                    objects[(g, board, target)] = fut
                    compiled[fut] = ok
            return objects[(g, board, target)]

        pending = {}
        for i in todo:
            c = cells[i]
            g = c["genome"]
            if model_of(g) is None:
                results[i] = dict(_base(c), status="error", detail=genome_error[g], seconds=0.0,
                                  cached=False)
                continue
            si = sidx[c["stimulus"]]
            if c["executor"] in TWIN_EXECUTORS:
                fut = runner.submit(twin_cell_task, c, models[g], ref_of(g, si), stims[g][si],
                                    self.bursts, self.state_every, key=f"cell-{keys[i]}")
            else:
                target = "native" if c["executor"] == "native" else c["board"]
                fut = runner.submit(cell_task, c, models[g], project_of(g, c["board"]),
                                    objects_of(g, c["board"], target), ref_of(g, si), si,
                                    self.state_every, key=f"cell-{keys[i]}")
            pending[fut] = i
        with _progress(progress, len(cells), len(cells) - len(pending)) as bar:
            for fut, value in runner.as_completed(list(pending)):
                i = pending[fut]
                results[i] = dict(value, cached=False)
                self.cache.put(keys[i], value)
                bar(1)
        if self.cache.objects_root is not None and compiled:
            for fut, value in runner.as_completed(list(compiled)):
                self.cache.put_objects(compiled[fut], value)
        rows = [results[i] for i in range(len(cells))]
        return SweepResult(rows, len(pending), n_cached, time.perf_counter() - t0,
                           runner.name, runner.workers, self.bursts, self.state_every)


def load_model(path: str):
    """Genome file → quantized :class:`~feagi_embed.quantize.Model` (as ``feagi-embed run``).

    Raises:
        GenomeError (a FeagiEmbedError): the genome does not load.
    """
    from .connectome import develop
    from .genome import load_genome
    from .quantize import quantize

    return quantize(develop(load_genome(path)))


class _progress:
    """A rich progress bar over cells (no-op when disabled); calling it advances by n."""

    def __init__(self, enabled: bool, total: int, already: int):
        self.enabled, self.total, self.already = enabled, total, already

    def __enter__(self):
        if not self.enabled:
            return lambda n: None
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.p = Progress(TextColumn("sweep"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), TimeRemainingColumn(), transient=False)
        self.p.__enter__()
        task = self.p.add_task("cells", total=self.total, completed=self.already)
        return lambda n: self.p.advance(task, n)

    def __exit__(self, *exc):
        if self.enabled:
            self.p.__exit__(*exc)
        return False


# ------------------------------------------------------------------------------ outputs
CSV_COLUMNS = ("genome", "board", "stimulus", "executor", "status", "equal", "bursts",
               "final_digest", "first_divergence", "ram_used", "ram_available", "flash_used",
               "flash_available", "metric", "metric_kind", "per_burst", "detail", "seconds",
               "cached")


def describe(cell: dict[str, Any]) -> str:
    """One line for a cell's first divergence (empty when none)."""
    from .trace import describe_divergence

    return describe_divergence(cell.get("first_divergence"))


def to_csv(result: SweepResult) -> str:
    """One row per cell (:data:`CSV_COLUMNS`; bytes for RAM/flash, empty where not applicable)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(CSV_COLUMNS)
    for c in result.cells:
        regions = (c.get("capacity") or {}).get("regions", {})
        ram, flash = regions.get("ram", {}), regions.get("flash", {})
        w.writerow([c["genome"], c["board"], c["stimulus"], c["executor"], c["status"],
                    "" if c["equal"] is None else c["equal"], c["bursts"], c["final_digest"] or "",
                    describe(c), ram.get("used", ""), ram.get("available", ""),
                    flash.get("used", ""), flash.get("available", ""), c["metric"] or "",
                    c["metric_kind"] or "", c["per_burst"] or "", c["detail"],
                    c.get("seconds", ""), c.get("cached", False)])
    return buf.getvalue()


def write_outputs(result: SweepResult, out_dir: str | os.PathLike) -> dict[str, Path]:
    """``sweep.json``, ``sweep.csv`` and ``report.html`` (+ its PNG plots) into ``out_dir``."""
    from .sweep_report import write_html

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "sweep.json", "csv": out / "sweep.csv"}
    paths["json"].write_text(json.dumps(result.to_json(), indent=1))
    paths["csv"].write_text(to_csv(result))
    paths["html"] = write_html(result, out)
    return paths


__all__ = [
    "BOARD_EXECUTORS",
    "TWIN_EXECUTORS",
    "DaskRunner",
    "GenomeSpec",
    "Objects",
    "Project",
    "ResultCache",
    "SerialRunner",
    "StimulusSpec",
    "Sweep",
    "SweepError",
    "SweepResult",
    "cell_task",
    "comparable",
    "compile_task",
    "parse_executors",
    "parse_stimuli",
    "project_task",
    "random_stimulus",
    "reference_task",
    "stimulus_hash",
    "to_csv",
    "tool_version",
    "twin_cell_task",
    "write_outputs",
]
