"""``feagi-embed build`` / ``report``: genome → checked memory plan → PlatformIO project folder."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .boards import Board, load_board
from .capacity import MemoryPlan, check_fit, layout, place_state
from .codegen import FIRMWARE_DIR, emit_c_model, stimulus_queue_len
from .quantize import Model
from .stimulus import Stimulus
from .targets.project import render_project_files

#: bursts the generated demo/test ``main.c`` runs when no test stimulus gives a length
DEFAULT_TEST_BURSTS = 100


def ram_budget(board: Board) -> int:
    """Static RAM a fixed-size model may use: the board's ``kind = "ram"`` regions less what the
    framework reserves (bytes)."""
    regions = board.regions_of_kind("ram")
    return sum(r.usable for r in regions) if regions else board.ram_bytes


def heap_budget(board: Board) -> tuple[int, int]:
    """Boot-time heap the model may take (``kind = "heap"`` regions such as ESP32's
    ``dram_heap``, less the framework's reserve) and the largest single block, in bytes
    (``(0, 0)`` for boards without a heap region)."""
    regions = board.regions_of_kind("heap")
    usable = sum(r.usable for r in regions)
    block = max((r.max_block or r.usable for r in regions), default=0)
    return usable, block


def flash_limits(board: Board) -> tuple[int, int]:
    """``(addressable constant bytes, largest constant array)`` of the board's flash regions
    (0 where unlimited), e.g. ``(65308, 32767)`` on the ATmega2560."""
    regions = board.regions_of_kind("flash")
    data = min((r.data_limit for r in regions if r.data_limit), default=0)
    block = min((r.max_block for r in regions if r.max_block), default=0)
    return data, block


@dataclass
class BuildResult:
    """What :func:`build_project` wrote: the project folder, the plan and the budgets."""

    out_dir: Path
    plan: MemoryPlan
    board: Board
    files: list[Path]


def plan_for(model: Model, board: Board, stimulus: Stimulus | None = None,
             bursts: int | None = None) -> MemoryPlan:
    """Memory plan of ``model`` for ``board`` (stimulus queue sized for the test schedule, if any).

    Tries, in order, until one fits: all state static with int32 membrane potentials; the same
    with the largest arrays on the boot-time heap (boards with a heap region); 16-bit membrane
    potentials where :func:`~feagi_embed.capacity.narrow_v_proof` proves them (static, then with
    the heap). Returns the last plan when none fits (:func:`check_fit` then explains why).
    """
    q = stimulus_queue_len(model, stimulus, bursts or 1) if stimulus is not None else None
    static, (heap, block) = ram_budget(board), heap_budget(board)
    plan = None
    for narrow in (False, True):
        plan = layout(model, narrow_v=narrow) if q is None else layout(model, queue_len=q,
                                                                       narrow_v=narrow)
        if narrow and not plan.narrow_v:
            break
        for use_heap in (False, True):
            place_state(plan, static, heap if use_heap else 0, block)
            if plan_fits(plan, board):
                return plan
    assert plan is not None
    return plan


def plan_fits(plan: MemoryPlan, board: Board) -> bool:
    """True when ``plan`` fits every budget of ``board`` (static RAM, heap and its largest block,
    flash, AVR's addressable flash data and largest array); :func:`check_plan` explains a no."""
    heap, block = heap_budget(board)
    data, array_max = flash_limits(board)
    return (plan.static_bytes <= ram_budget(board) and plan.flash_bytes <= board.flash_bytes
            and plan.heap_bytes <= heap and (not data or plan.flash_bytes <= data)
            and all(a.nbytes <= block for a in plan.arrays if a.name in plan.heap)
            and all(a.nbytes <= array_max for a in plan.arrays
                    if array_max and a.region == "flash"))


def check_plan(plan: MemoryPlan, board: Board) -> None:
    """:func:`~feagi_embed.capacity.check_fit` with the board's static, heap and flash budgets.

    Raises:
        CapacityError: requested / available / missing bytes per region.
    """
    heap, block = heap_budget(board)
    data, array_max = flash_limits(board)
    check_fit(plan, ram_budget(board), board.flash_bytes, board.name, heap_budget=heap,
              heap_block=block, flash_data_limit=data, flash_array_max=array_max)


def check_stimulus(model: Model, plan: MemoryPlan, stimulus: Stimulus | None, bursts: int,
                   board: str = "board") -> None:
    """Check that a stimulus only injects what the plan's 16-bit proofs cover.

    Areas with 16-bit membrane potentials (``plan.narrow_v``) accept sensory values that are
    multiples of their ``sensory_step``, and at most ``max_sensory`` of positive injected input
    per neuron per burst (the budget of :func:`~feagi_embed.capacity.narrow_v_proof`; several
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
    names = model.meta.get("names", [])
    keys = list(plan.per_area)
    narrow = {keys.index(k): proof for k, proof in plan.narrow_v.items()}
    max_sensory = float(model.meta.get("max_sensory", 255.0))
    q_budget = int(np.round(max_sensory * (1 << f)))  # as narrow_v_proof budgets it
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
                f"grid: on {board} area {name} stores its membrane potential in 16 bits, so "
                f"sensory values must be multiples of {proof.sensory_step:g} (at most "
                f"{max_sensory:g})")
        b0, b1 = e["bursts"][0], min(e["bursts"][1], bursts)
        if qv <= 0 or b1 < b0:
            continue
        w, h, d = model.meta["dims"][a]
        npv = model.meta["npv"][a]
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
        local = int(n[j] - first[a]) // model.meta["npv"][a]
        w, h, d = model.meta["dims"][a]
        vox = [local // (h * d), (local // d) % h, local % d]
        raise StimulusError(
            f"{src}: stimuli[{i}]: got {run[j] / (1 << f):g} of positive sensory input into voxel "
            f"{vox} of area {names[a] if a < len(names) else a} in burst {int(b[j])}; expected "
            f"at most {max_sensory:g} per neuron per burst: on {board} that area stores its "
            "membrane potential in 16 bits, proven for one sensory value per burst")


def report(model: Model, board: Board, plan: MemoryPlan) -> dict[str, Any]:
    """Memory report: ``{"board", "fits", "regions": {"ram"|"flash": {"used", "available"}},
    "arrays": [...], "areas": [...]}`` (bytes, predicted from the plan)."""
    ram, flash = ram_budget(board), board.flash_bytes
    heap, block = heap_budget(board)
    js = plan.to_json()
    regions = {"ram": {"used": plan.static_bytes, "available": ram}}
    if heap:
        regions["heap"] = {"used": plan.heap_bytes, "available": heap, "largest_block": block}
    data, array_max = flash_limits(board)
    regions["flash"] = {"used": plan.flash_bytes, "available": min(flash, data or flash)}
    if array_max:
        regions["flash"]["largest_array"] = array_max
    return {
        "board": board.name,
        "fits": plan_fits(plan, board),
        "regions": regions,
        "narrow_v": js["narrow_v"],
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
    check_plan(plan, b)  # before any file is written
    check_stimulus(model, plan, stim, n, b.name)
    out = Path(out_dir)
    genome = model.meta["genome"]
    sha = model.meta["genome_sha256"]
    with tempfile.TemporaryDirectory() as tmp:
        emitted = emit_c_model(model, plan, tmp, genome_path=genome, genome_sha256=sha,
                               board=b.name, stimulus=stim, bursts=n, state_every=state_every,
                               ram_budget=ram_budget(b),
                               flash_budget=min(b.flash_bytes, flash_limits(b)[0] or b.flash_bytes),
                               heap_budget=heap_budget(b)[0], with_main=True,
                               arduino=b.pio_framework == "arduino")
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for p in emitted:
            dest = out / ("include" if p.suffix == ".h" else "src") / p.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, dest)
            written.append(dest)
    lib = out / "lib" / "feagi_runtime" / "src"
    lib.mkdir(parents=True, exist_ok=True)
    for src in (FIRMWARE_DIR / "feagi_runtime.c", FIRMWARE_DIR / "feagi_runtime.h",
                FIRMWARE_DIR / "hal" / "feagi_hal.h"):
        # the HAL contract ships with the library too: PlatformIO does not see hal/
        shutil.copyfile(src, lib / src.name)
        written.append(lib / src.name)
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


def parse_fired_ids(text: str) -> dict[int, list[int]]:
    """Diagnostic ``I <b> <id> ...`` lines (firmware built with ``-DFEAGI_TRACE_IDS``) →
    ``{burst: [fired neuron ids, ascending]}``. Other lines are ignored."""
    out: dict[int, list[int]] = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) >= 2 and f[0] == "I":
            out[int(f[1])] = [int(x) for x in f[2:]]
    return out


def first_differing_neuron(model: Model, reference, fired: dict[int, list[int]] | list,
                           burst: int) -> dict[str, Any] | None:
    """The lowest neuron id whose firing in ``burst`` differs between the twin ``reference``
    (:class:`Trace`) and a target's fired ids (``{burst: ids}`` as from :func:`parse_fired_ids`, or
    a per-burst list such as another ``Trace.fired``), named as docs/model.md §4 asks.

    Returns:
        ``{"id", "area" (genome id), "area_name", "x", "y", "z", "k", "twin_fired", "target_fired"}``,
        or ``None`` when the fired sets of that burst are equal (or the target did not report it).
    """
    import numpy as np

    from .runner import neuron_coords

    if isinstance(fired, dict):
        if burst not in fired:
            return None
        got = set(fired[burst])
    else:
        if burst > len(fired):
            return None
        got = {int(i) for i in fired[burst - 1]}
    ref = {int(i) for i in reference.fired[burst - 1]}
    diff = sorted(ref ^ got)
    if not diff:
        return None
    i = diff[0]
    area, x, y, z, k = (int(v[0]) for v in neuron_coords(model, np.array([i], np.int64)))
    names = model.meta.get("names") or []
    return {"id": i, "area": model.meta["genome_ids"][area],
            "area_name": names[area] if area < len(names) else "", "x": x, "y": y, "z": z, "k": k,
            "twin_fired": i in ref, "target_fired": i in got}


def describe_divergence(first: dict[str, Any] | None) -> str:
    """One line for a ``first_divergence`` dict: burst, what differs and, when known, the neuron."""
    if not first:
        return ""
    text = f"burst {first['burst']} ({first['what']})"
    n = first.get("neuron")
    if n:
        text += (f", neuron {n['id']} = {n['area']} ({n['area_name']}) x={n['x']} y={n['y']} z={n['z']} "
                 f"k={n['k']}: twin {'fired' if n['twin_fired'] else 'silent'}, "
                 f"target {'fired' if n['target_fired'] else 'silent'}")
    return text


def compare_digests(reference, bursts: list[int], states: dict[int, int]) -> tuple[bool, Any]:
    """``(equal, first_divergence)`` of a target's digests against a twin :class:`Trace`;
    ``first_divergence`` is ``{"burst": b, "what": "burst digest" | "state digest" | "missing"}``
    (:func:`verify` adds ``"neuron"``, see :func:`first_differing_neuron`)."""
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

    A target whose burst digests differ is built and run again with ``-DFEAGI_TRACE_IDS`` (the
    generated main then also prints each burst's fired ids), and ``first_divergence["neuron"]``
    names the first differing neuron (:func:`first_differing_neuron`).

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
    first_f = None if eq else compare_digests(ref, flt.burst_crc, {})[1]
    if first_f and first_f["what"] == "burst digest":
        first_f["neuron"] = first_differing_neuron(model, ref, flt.fired, first_f["burst"])
    rows.append({"name": "twin (numba, f32 reference)", "bursts": bursts, "equal": eq,
                 "first_divergence": first_f,
                 "detail": "bursts only (state is f32)" + ("" if model.report.get("lossless")
                                                           else "; model is lossy")})
    rows += verify_gpu(model, stim, bursts, ref, state_every)
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
        srcs = [proj / "src", proj / "lib" / "feagi_runtime" / "src"]
        incs = [proj / "include", proj / "lib" / "feagi_runtime" / "src"]
        r = run_on_target(tb, srcs, incs, out_dir=Path(work_dir) / f"build-{t}", timeout=600)
        got_b, got_s, _ = parse_protocol(r.stdout)
        eq, first = compare_digests(ref, got_b, got_s)
        detail = f"{r.metric_kind}: {r.metric:,}" if r.metric else ""
        if first and first["what"] == "burst digest":
            # re-run that target with the fired ids printed (I lines) to name the neuron
            r2 = run_on_target(tb, srcs, incs, defines={"FEAGI_TRACE_IDS": None},
                               out_dir=Path(work_dir) / f"build-{t}-ids", timeout=600)
            first["neuron"] = first_differing_neuron(model, ref, parse_fired_ids(r2.stdout), first["burst"])
            if parse_protocol(r2.stdout)[0] != got_b:
                detail += "; the diagnostic re-run printed other burst digests (not reproducible?)"
        rows.append({"name": name, "bursts": len(got_b), "equal": eq, "first_divergence": first,
                     "detail": detail})
    return rows


def verify_gpu(model: Model, stim: Stimulus, bursts: int, ref, state_every: int = 10
               ) -> list[dict[str, Any]]:
    """Rows of :func:`verify` for the GPU twins (CUDA, WGPU): run where available, compared digest
    for digest with the numba twin's trace ``ref``; ``equal`` is None (not run) otherwise."""
    from .host.gpu import backends

    rows = []
    for name in ("cuda", "wgpu"):
        ok, desc = backends.available(name)
        label = f"twin ({name}, fixed point)"
        if not ok:
            rows.append({"name": label, "bursts": 0, "equal": None, "first_divergence": None,
                         "detail": f"not run: {desc}"})
            continue
        tr = backends.twin_class(name)(model).run(bursts, stim, state_every=state_every)
        eq, first = compare_digests(ref, tr.burst_crc, tr.state_crc)
        rows.append({"name": label, "bursts": len(tr.burst_crc), "equal": eq,
                     "first_divergence": first, "detail": desc})
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
