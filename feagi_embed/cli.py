"""Command-line interface: ``feagi-embed <command>``.

Exit codes: 0 success, 2 bad input (genome errors, refusals), 1 unexpected internal failure.
"""

from __future__ import annotations

import json
import os
import sys
import click

from . import __version__
from .errors import FeagiEmbedError
from .resources import genomes_dir

#: Genome used when none is given: FEAGI's own essential genome (bundled).
DEFAULT_GENOME = "essential_genome"


def console():
    """A rich console; wide when output is not a terminal (logs, pipes) so tables do not wrap."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=200)


def bundled_genomes() -> list[str]:
    """Names (file stems) of the real FEAGI genomes shipped with feagi-embed."""
    return sorted(p.name[:-5] for p in genomes_dir().iterdir() if p.name.endswith(".json"))


def resolve_genome_path(arg: str | None) -> str:
    """A genome argument → file path: an existing file, or the name of a bundled genome.

    Raises:
        click.BadParameter: neither a file nor a bundled genome name.
    """
    arg = arg or DEFAULT_GENOME
    if os.path.exists(arg):
        return arg
    stem = arg[:-5] if arg.endswith(".json") else arg
    if stem in bundled_genomes():
        return str(genomes_dir() / f"{stem}.json")
    raise click.BadParameter(f"{arg!r} is neither a file nor a bundled genome "
                             f"({', '.join(bundled_genomes())})", param_hint="GENOME")


class _Group(click.Group):
    """Turns :class:`FeagiEmbedError` into a one-line message and exit code 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except FeagiEmbedError as e:
            click.echo(f"error: {e}", err=True)
            ctx.exit(2)


def synapses_option(f):
    """``--synapses table|procedural|auto`` (docs/model.md: procedural synapses); fixed point only."""
    def check(ctx, param, value):
        if value != "table" and ctx.params.get("precision") == "fp32":
            raise click.BadParameter("procedural rule records carry fixed-point contributions "
                                     "only; with --precision fp32 use --synapses table")
        return value
    return click.option(
        "--synapses", type=click.Choice(["table", "procedural", "auto"]), default="table",
        show_default=True, callback=check,
        help="Store rule-made mappings (projector, block_to_block, vectors, patterns) as rule "
             "records the firmware expands (procedural), per mapping by the cost model (auto), "
             "or every synapse in tables.")(f)


def precision_option(f):
    """``--precision fixed|fp32`` (FEAGI's engine flag name; docs/model.md §7)."""
    return click.option(
        "--precision", type=click.Choice(["fixed", "fp32"]), default="fixed", show_default=True,
        is_eager=True,  # --synapses checks it
        help="fixed: the fixed-point model (lossless for on-grid genomes and inputs); fp32: IEEE "
             "single precision in FEAGI's operation order (bit-exact with the engine for any "
             "sensory value).")(f)


def _fp32_c_only(precision: str, what: str) -> None:
    """Refuse ``--precision fp32`` where only fixed point is implemented."""
    if precision == "fp32":
        raise click.UsageError(f"--precision fp32: {what} implements fixed point only "
                               "(fp32: the numba, CUDA and WGPU twins, the C firmware and MicroPython)")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="feagi-embed")
def main() -> None:
    """Compile FEAGI genomes into bit-exact microcontroller firmware."""


@main.command()
@click.argument("genome", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON report instead of a table.")
@click.option("--strict", is_flag=True, help="Treat warnings (input FEAGI drops/rewrites) as errors.")
def inspect(genome: str | None, as_json: bool, strict: bool) -> None:
    """Develop GENOME (file or bundled name; default: essential_genome) and summarise it.

    Per cortical area: id, name, type, dims, neurons per voxel, neurons, synapses out/in and the
    key neuron parameters; totals; warnings.
    """
    from .connectome import develop
    from .genome import load_genome
    from .inspect import inspect_report, render_inspect

    path = resolve_genome_path(genome)
    g = load_genome(path, strict=strict)
    c = develop(g, strict=strict)
    report = inspect_report(c)
    if as_json:
        json.dump(report, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        render_inspect(report, console())


def _load_stimulus(path: str, strict: bool):
    """Load a stimulus file; its warnings go to stderr (``--strict``: errors)."""
    from .stimulus import Stimulus

    stim = Stimulus.load(path, strict=strict)
    for w in stim.warnings:
        click.echo(f"warning: {path}: {w}", err=True)
    return stim


def _warn_lossy_input(model, stim, source: str, strict: bool, precision: str = "fixed") -> None:
    """Warn (``--strict``: error, exit 2) when injected values are off the fixed-point input grid
    (:func:`feagi_embed.stimulus.lossy_input_warnings`); nothing to say in fp32 precision."""
    from .stimulus import lossy_input_warnings

    if stim is None or precision == "fp32":
        return
    for w in lossy_input_warnings(stim, model, strict=strict, what=source):
        click.echo(f"warning: {source}: {w}", err=True)


def _warn_lossy_frames(model, strict: bool, precision: str = "fixed") -> None:
    """Warn (``--strict``: error) when the build ships the camera-frame coder for vision areas:
    its potentials pixel/255 are off the fixed-point grid
    (:func:`feagi_embed.io.coders.pixel_grid_loss`); nothing to say in fp32 precision."""
    from .io.coders import pixel_grid_loss
    from .plan import FRAME_UNITS

    if precision == "fp32":
        return
    a = model.areas
    frames = [a.label(i) for i in range(len(a))
              if a.kinds[i] == "ipu" and a.io_units[i] in FRAME_UNITS]
    loss = pixel_grid_loss(model.frac_bits) if frames else None
    if loss is None:
        return
    p, real, grid = loss
    msg = (f"camera areas {', '.join(frames[:4])}{' …' if len(frames) > 4 else ''}: "
           f"feagi_io_encode_frame injects pixel/255, off the fixed-point input grid (pixel {p}: "
           f"{real!r} becomes {grid!r}); FEAGI adds the f32 value, so firing can differ: use "
           "--precision fp32 for engine-exact camera input [lossy-input]")
    if strict:
        from .io.pinmap import IoMapError
        raise IoMapError(f"no warnings in --strict mode ({msg})")
    click.echo(f"warning: {msg}", err=True)


def _load_model(genome: str | None, strict: bool, frac_bits: int | None):
    from .connectome import develop
    from .genome import load_genome
    from .quantize import quantize

    path = resolve_genome_path(genome)
    g = load_genome(path, strict=strict)
    return quantize(develop(g, strict=strict), frac_bits=frac_bits)


@main.command("quantize")
@click.argument("genome", required=False)
@click.option("--out", "out", type=click.Path(dir_okay=False), help="Write the model (.npz).")
@click.option("--frac-bits", type=int, default=None, help="Force F (checked for overflow).")
@click.option("--json", "as_json", is_flag=True, help="Print the quantization report as JSON.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@precision_option
def quantize_cmd(genome, out, frac_bits, as_json, strict, precision="fixed") -> None:
    """Quantize GENOME to the fixed-point model and print the quantization report.

    With --precision fp32 the report still shows the fixed-point grid, and says that fp32
    targets compute with the genome's f32 values unchanged (nothing is rounded to the grid)."""
    from rich.table import Table

    from .quantize import report_rows

    model = _load_model(genome, strict, frac_bits)
    if out:
        model.save(out)
    rep = model.report
    if precision == "fp32":
        rep = dict(rep, precision="fp32")
    if as_json:
        json.dump(rep, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return
    t = Table(title=f"fixed point Q{31 - model.frac_bits}.{model.frac_bits}  "
                    f"({'lossless' if rep['lossless'] else 'lossy'})", title_justify="left")
    for col in ("id", "name", "threshold", "limit", "1-leak", "contributions", "max rel err",
                "lossless"):
        t.add_column(col)
    for row in report_rows(rep):
        t.add_row(*row)
    console().print(t)
    grid = rep["input_grid"]
    click.echo(f"input grid: step 2^-{grid['frac_bits']} = {grid['step']:g}, range "
               f"{grid['range'][0]:g}…{grid['range'][1]:g} (sensory values off this grid are "
               "rounded; --precision fp32 adds them as FEAGI does)")
    if precision == "fp32":
        click.echo("precision fp32: targets compute with the f32 values FEAGI uses (thresholds, "
                   "limits, 1-leak, contributions as above before rounding); the fixed-point "
                   "columns do not apply")
    if out:
        click.echo(f"model written to {out}")


@main.command("run")
@click.argument("genome", required=False)
@click.option("--bursts", "-n", type=click.IntRange(1), default=100, show_default=True)
@click.option("--stimulus", "stimulus_file", type=click.Path(exists=True, dir_okay=False),
              help="Stimulus JSON (format: docs/stimulus.md).")
@click.option("--backend", type=click.Choice(["numba", "cuda", "wgpu", "auto"]), default="numba",
              show_default=True,
              help="Twin: numba (CPU), cuda (cupy), wgpu (Vulkan/Metal/DX12, or lavapipe on CPU), "
                   "auto (fastest usable here).")
@click.option("--raster", type=click.Path(dir_okay=False), help="Write a spike raster PNG.")
@click.option("--state-every", type=click.IntRange(0), default=10, show_default=True,
              help="State digest every K bursts (0: only at the end).")
@click.option("--frac-bits", type=int, default=None, help="Force F (checked for overflow).")
@click.option("--json", "as_json", is_flag=True, help="Print the trace as JSON (streamed).")
@click.option("--npz", "npz_path", type=click.Path(dir_okay=False),
              help="Write the trace as binary .npz (ids, counts, V at fire, digests).")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@precision_option
def run_cmd(genome, bursts, stimulus_file, backend, raster, state_every, frac_bits, as_json,
            strict, npz_path=None, precision="fixed") -> None:
    """Run GENOME for N bursts on the host twin; print fired counts per area and digests.

    --precision fp32 runs the f32 twin (FEAGI's arithmetic; state digests hash f32 bits)."""
    from rich.progress import Progress
    from rich.table import Table

    from .host.twin import Trace, Twin
    from .runner import JsonTraceWriter, plot_raster, trace_report, write_npz
    from .stimulus import Stimulus
    from .streaming import step_chunks

    from .host.gpu import backends

    from . import limits
    limits.check_count("max_bursts", bursts, "bursts (--bursts)")  # before any work
    backend = backends.resolve(backend)  # FeagiEmbedError (exit 2) when it cannot run here
    model = _load_model(genome, strict, frac_bits)
    stim = _load_stimulus(stimulus_file, strict) if stimulus_file else Stimulus()
    _warn_lossy_input(model, stim, stimulus_file, strict, precision)
    mode = "float" if precision == "fp32" else "fixed"
    twin = Twin(model, mode) if backend == "numba" else backends.twin_class(backend)(model, mode)
    trace = Trace()
    chunk = max(1, state_every or 100)
    # --json alone streams each chunk out (one buffered write per MiB) and keeps only digests
    stream = JsonTraceWriter(model, sys.stdout) if as_json else None
    keep = raster or npz_path or not as_json
    # one step() per burst (the streaming API): O(inputs + fired) host work per burst, the state
    # digest only every --state-every bursts and after the last
    parts = step_chunks(twin, stim, bursts, state_every=state_every, chunk=chunk)
    with Progress(transient=True, disable=as_json or bursts < 500) as prog:
        task = prog.add_task("bursts", total=bursts)
        for part in parts:
            if stream is not None:
                stream.write(part)
            if keep:
                trace.fired += part.fired
                trace.fired_v += part.fired_v
            trace.burst_crc += part.burst_crc
            trace.state_crc.update(part.state_crc)
            prog.update(task, completed=twin.burst)
    if raster:
        plot_raster(model, trace, raster, title=os.path.basename(resolve_genome_path(genome)))
    if npz_path:
        write_npz(npz_path, model, trace)
    if stream is not None:
        stream.close()
        return
    rep = trace_report(model, trace)
    names = model.areas.genome_ids
    arith = "fp32" if precision == "fp32" else f"Q{31 - model.frac_bits}.{model.frac_bits}"
    t = Table(title=f"{bursts} bursts, {arith}", title_justify="left")
    for col in ("burst", "fired", "per area", "digest", "state"):
        t.add_column(col)
    for b in rep["bursts"]:
        per = ", ".join(f"{a}:{len(v)}" for a, v in sorted(b["fired"].items(),
                                                            key=lambda kv: -len(kv[1]))[:6])
        t.add_row(str(b["burst"]), str(b["count"]), per, b["digest"],
                  rep["state_digests"].get(str(b["burst"]), ""))
    console().print(t)
    click.echo(f"final digest {rep['final_digest']}  ({len(names)} areas, "
               f"{model.n_neurons:,} neurons, {model.n_synapses:,} synapses; {backend} twin"
               f"{', fp32' if precision == 'fp32' else ''})")
    if raster:
        click.echo(f"raster written to {raster}")


@main.command("build")
@click.argument("genome", required=False)
@click.option("--board", "-b", required=True, help="Board id (feagi-embed boards).")
@click.option("--out", "out", type=click.Path(file_okay=False), default=None,
              help="Project folder (default: ./<genome>-<board>).")
@click.option("--test-stimulus", type=click.Path(exists=True, dir_okay=False),
              help="Stimulus JSON compiled into the test main (docs/stimulus.md).")
@click.option("--bursts", type=click.IntRange(1), default=None,
              help="Bursts the generated main runs (default: the stimulus length or 100).")
@click.option("--frac-bits", type=int, default=None, help="Force F (checked for overflow).")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--compile", "do_compile", is_flag=True,
              help="Also build it with the local cross toolchain (OUT/build/) and print predicted vs "
                   "measured bytes (`feagi-embed report --elf` gives the full table).")
@click.option("--lang", type=click.Choice(["c", "micropython"]), default="c", show_default=True,
              help="c: PlatformIO project; micropython: MicroPython package (mpremote).")
@click.option("--queue-len", type=int, default=None,
              help="Input-queue entries per burst (default: every voxel of the sensor IPU areas "
                   "and the test stimulus' largest burst; camera areas need this or an io map).")
@click.option("--force", is_flag=True,
              help="Write into a folder made for another genome or board (your files are kept).")
@click.option("--io", "io_map", type=click.Path(exists=True, dir_okay=False), default=None,
              help="io map (TOML) binding pins to cortical areas: generates the sensor/motor "
                   "glue (docs/io.md): Arduino C, or with --lang micropython feagi_io_glue.py "
                   "on machine.ADC/Pin/PWM.")
@click.option("--link", is_flag=True,
              help="Build the two-way serial link in: the Arduino sketch serves it on Serial "
                   "(host-driven bursts, sensor values in, motor values out; docs/link.md) "
                   "instead of running the test schedule. Its ~1.1 KB of RAM is counted.")
@precision_option
@synapses_option
def build_cmd(genome, board, out, test_stimulus, bursts, frac_bits, strict, do_compile,
              lang, queue_len, force, io_map, link, precision="fixed", synapses="table") -> None:
    """Compile GENOME into a PlatformIO project (C firmware) or a MicroPython package for a board.

    The memory plan (C) or heap estimate (MicroPython) is checked against the board before any
    file is written; a model that does not fit is refused with the requested, available and
    missing bytes.
    """
    from .boards import load_board
    from .build import build_project
    from .stimulus import Stimulus

    b = load_board(board)
    model = _load_model(genome, strict, frac_bits)
    stim = _load_stimulus(test_stimulus, strict) if test_stimulus else None
    _warn_lossy_input(model, stim, test_stimulus, strict, precision)
    name = os.path.splitext(os.path.basename(resolve_genome_path(genome)))[0]
    if io_map is not None and b.architecture == "wasm32":
        raise click.UsageError("--io binds a board's pins; --board wasm has none")
    if link and (lang != "c" or b.architecture == "wasm32"):
        raise click.UsageError("--link builds the serial link into C firmware for a board "
                               "(not --lang micropython, not --board wasm)")
    if lang == "micropython":
        from .build import build_micropython
        if do_compile:
            raise click.UsageError("--compile builds C firmware; MicroPython packages are "
                                   "compiled on the board (or with mpy-cross)")
        mres = build_micropython(model, b, out or f"{name}-{b.name}-micropython", stimulus=stim,
                                 bursts=bursts, queue_len=queue_len, io_map=io_map,
                                 precision=precision, synapses=synapses)
        click.echo(f"wrote {mres.out_dir}/ for MicroPython on {b.name}: estimated heap "
                   f"{mres.heap['total']:,} B of {mres.heap['available']:,} B "
                   f"({len(mres.files)} files; README.md has the mpremote steps)")
        return
    if b.architecture == "wasm32":  # a static page: the runtime in wasm32 + HTML/JS (feagi_embed.web)
        from .web import build_site
        _fp32_c_only(precision, "the wasm page")
        if lang != "c" or do_compile:
            raise click.UsageError("--board wasm builds the C runtime into a page (no --lang "
                                   "micropython, no --compile: it is compiled already)")
        site = build_site(model, out or f"{name}-{b.name}", stimulus=stim, bursts=bursts)
        click.echo(f"wrote {site.out_dir}/: feagi.wasm {site.wasm_bytes:,} B + page "
                   f"({len(site.files)} files); preview with `feagi-embed serve {site.out_dir}`")
        return
    if io_map is not None:
        _warn_lossy_frames(model, strict, precision)
    res = build_project(model, b, out or f"{name}-{b.name}", stimulus=stim, bursts=bursts,
                        queue_len=queue_len, force=force, io_map=io_map, link=link,
                        precision=precision, synapses=synapses)
    from .plan import budget_for
    bud = budget_for(b)
    heap = (f" + {res.plan.heap_bytes:,} B {'PSRAM' if bud.psram else 'heap'} at boot"
            if res.plan.heap else "")
    if link:
        heap += f" + {sum(res.link_ram.values()):,} B static for the link"
    if bud.needs_partitions(res.plan.flash_bytes):
        heap += (f"; partitions.csv: factory app partition of {b.partitions['app_bytes']:,} B "
                 f"(constants + ~{bud.flash_code:,} B code exceed the default {bud.flash:,} B)")
    fp = " (fp32)" if precision == "fp32" else ""
    click.echo(f"wrote {res.out_dir}/ for {b.name}{fp}: flash {res.plan.flash_bytes:,} B, "
               f"RAM {res.plan.static_bytes:,} B static{heap} ({len(res.files)} files; "
               "`make run` builds it with the local cross toolchain and runs it in the emulator)")
    if do_compile:
        from .targets.memreport import compile_project, measured_memory

        elf = compile_project(res.out_dir, b, res.out_dir / "build")
        m = measured_memory(res.plan, elf)
        for r, v in m["regions"].items():
            click.echo(f"{r}: predicted arrays {v['predicted']:,} B, measured arrays {v['measured_arrays']:,} B "
                       f"({v['dropped']:,} B unused in this build), ELF total {v['measured']:,} B "
                       f"(runtime overhead {v['runtime_overhead']:,} B)")
        bad = [a["name"] for a in m["arrays"] if a["status"] == "differs"]
        click.echo(f"built {elf}" + (f"; arrays whose size differs from the plan: {', '.join(bad)}" if bad else
                                    "; every array in the ELF has its predicted size"))
    _print_narrow_notes({k: v.to_json() for k, v in res.plan.narrow_v.items()})


def _nonneg_areas(model, board) -> list[int]:
    """Indices of the areas whose narrow V on ``board`` (its C plan) takes only values >= 0
    (:attr:`~feagi_embed.plan.NarrowV.nonneg_sensory`); none when the model does not fit."""
    from .build import c_plan
    from .plan import CapacityError, nonneg_areas

    try:
        return nonneg_areas(c_plan(model, board))
    except CapacityError:
        return []


def _print_narrow_notes(narrow: dict[str, dict]) -> None:
    """Tell the user which areas keep 16-bit membrane potentials and what that asks of inputs
    (``narrow``: area → ``NarrowV.to_json()``, as in the report)."""
    steps: dict[tuple, list[str]] = {}
    for name, p in narrow.items():
        key = (p.get("bits", 16), p["sensory_step"], p.get("nonneg_sensory", False))
        steps.setdefault(key, []).append(name)
    for (bits, step, nonneg), names in steps.items():
        click.echo(f"note: {bits}-bit membrane potentials in {', '.join(names)}: sensory values "
                   f"injected there must be multiples of {step:g}"
                   + (" and >= 0 (no charge accumulation)" if nonneg else "")
                   + " (feagi_inject returns FEAGI_ERR_VALUE otherwise)")


@main.command("report")
@click.argument("genome", required=False)
@click.option("--board", "-b", required=True, help="Board id (feagi-embed boards).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--elf", "elf_path", type=click.Path(exists=True, dir_okay=False),
              help="Firmware ELF built from this genome and board: add bytes measured from it.")
@click.option("--compile", "do_compile", is_flag=True,
              help="Build the project with the local cross toolchain and add bytes measured from its ELF.")
@click.option("--test-stimulus", type=click.Path(exists=True, dir_okay=False),
              help="The stimulus the firmware was built with (sizes the input queue as `build` does).")
@click.option("--bursts", type=click.IntRange(1), default=None,
              help="Bursts of the test main (as given to `build`).")
@click.option("--link", is_flag=True,
              help="Count the two-way link's RAM (as `build --link`; predicted only).")
@precision_option
@synapses_option
def report_cmd(genome, board, as_json, strict, elf_path, do_compile, test_stimulus, bursts,
               link, precision="fixed", synapses="table") -> None:
    """Memory report of GENOME on a board: bytes per region and per cortical area.

    Predicted from the capacity plan; with --elf or --compile also measured from the ELF
    (pyelftools): every plan array's symbol, region totals and the runtime's own overhead.
    """
    import tempfile
    from pathlib import Path

    from rich.table import Table

    from .boards import load_board
    from .build import build_project, c_plan, report, test_bursts
    from .stimulus import Stimulus
    from .targets.memreport import compile_project, measured_memory, merge_into_report

    b = load_board(board)
    model = _load_model(genome, strict, None)
    if elf_path and do_compile:
        raise click.UsageError("give either --elf or --compile, not both")
    stim = _load_stimulus(test_stimulus, strict) if test_stimulus else None
    if link and (elf_path or do_compile):
        raise click.UsageError("--link reports the predicted link RAM; give it without --elf / --compile")
    from .plan.link import link_ram

    lparts = link_ram(model) if link else None
    lbytes = sum((lparts or {}).values())
    if stim is not None or bursts is not None:
        s = stim or Stimulus()
        plan = c_plan(model, b, s, test_bursts(s, bursts), precision=precision,
                      link_bytes=lbytes, synapses=synapses)
    else:
        plan = c_plan(model, b, precision=precision, link_bytes=lbytes, synapses=synapses)
    rep = report(model, b, plan, link=lparts)
    if rep["fits"] and (elf_path or do_compile):
        if do_compile:
            with tempfile.TemporaryDirectory(prefix="feagi-report-") as tmp:
                res = build_project(model, b, Path(tmp) / "project", stimulus=stim, bursts=bursts,
                                    precision=precision, synapses=synapses)
                elf = compile_project(res.out_dir, b, Path(tmp) / "build")
                merge_into_report(rep, measured_memory(res.plan, elf))
                rep["elf"]["path"] = None  # built in a temporary folder
        else:
            merge_into_report(rep, measured_memory(plan, elf_path))
    if as_json:
        json.dump(rep, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        t = Table(title=f"{b.name} ({rep['precision']}): "
                        f"{'fits' if rep['fits'] else 'DOES NOT FIT'}", title_justify="left")
        measured = "elf" in rep
        cols = ("region", "used", "available", "missing")
        if measured:
            cols += ("measured arrays", "measured (ELF)", "runtime overhead")
        for col in cols:
            t.add_column(col, justify="right")
        for r, v in rep["regions"].items():
            row = [r, f"{v['used']:,}", f"{v['available']:,}", f"{max(0, v['used'] - v['available']):,}"]
            if measured:  # the heap / PSRAM rows: allocated at boot, nothing in the ELF
                row += [f"{v[k]:,}" if k in v else "-"
                        for k in ("measured_arrays", "measured", "runtime_overhead")]
            t.add_row(*row)
        console().print(t)
        if rep.get("link"):
            lt = Table(title="two-way link (static RAM, counted in ram)", title_justify="left")
            lt.add_column("part")
            lt.add_column("bytes", justify="right")
            for part, nb in rep["link"].items():
                lt.add_row(part, f"{nb:,}")
            console().print(lt)
        a = Table(title="largest cortical areas", title_justify="left")
        for col in (("area", "neurons", "ram", "ram B/neuron", "packing (V, cc, cd, acc)", "flash")
                    + (("ram measured", "flash measured") if measured else ())):
            a.add_column(col, justify="right")
        for ar in sorted(rep["areas"], key=lambda x: -(x["ram"] + x["flash"]))[:12]:
            pk = ar.get("packing", {})
            row = [ar["name"], f"{ar['neurons']:,}", f"{ar['ram']:,}",
                   f"{ar['ram'] / ar['neurons']:.2f}" if ar["neurons"] else "-",
                   ", ".join(pk.get(k, "?") for k in ("v", "cc", "cd", "acc")), f"{ar['flash']:,}"]
            if measured:
                row += [f"{ar['ram_measured']:,}", f"{ar['flash_measured']:,}"]
            a.add_row(*row)
        console().print(a)
        if measured:
            arr = Table(title="arrays: predicted vs measured (ELF symbols)", title_justify="left")
            for col in ("array", "region", "type", "predicted", "measured", "status"):
                arr.add_column(col, justify="right")
            for x in rep["arrays"]:
                status = x["status"] + (" (placeholder)" if x.get("placeholder") and x["status"] == "dropped"
                                        else " (unused in this build)" if x["status"] == "dropped" else "")
                arr.add_row(x["name"], x["region"], x["ctype"], f"{x['bytes']:,}", f"{x['measured']:,}", status)
            console().print(arr)
        _print_synapse_rules(rep.get("synapse_rules", []), synapses)
        _print_narrow_notes(rep.get("narrow_v", {}))
        fl = rep["regions"]["flash"]
        if fl.get("partitions"):
            click.echo(f"flash: constants + ~{fl['code_estimate']:,} B code exceed the default app "
                       f"partition ({fl['default_app']:,} B): `build` writes partitions.csv with "
                       f"one factory app partition ({fl['available']:,} B for constants)")
    if not rep["fits"]:
        sys.exit(2)


def _print_synapse_rules(rows: list[dict], mode: str) -> None:
    """The per-mapping storage table of `report` (plan.synapse_rules): choice, bytes, estimated
    Cortex-M4 instructions per synaptic event of either path."""
    from rich.table import Table

    from .plan.procedural import MAX_CYCLE_RATIO

    rows = [r for r in rows if r["storage"] != "empty"]
    if not rows:
        return
    t = Table(title=f"mappings (--synapses {mode}): table or procedural rule record "
              f"(auto: procedural where the record is smaller and at most {MAX_CYCLE_RATIO}x "
              "the table path's estimated Cortex-M4 instructions per event, beyond that only "
              "to fit the board)", title_justify="left")
    for col in ("source", "destination", "morphology", "synapses", "stored as", "table B",
                "record B", "instr./event table", "procedural", "why"):
        t.add_column(col, justify="right")
    for r in sorted(rows, key=lambda r: -r["synapses"])[:40]:
        t.add_row(r["src"], r["dst"], r["morphology"], f"{r['synapses']:,}", r["storage"],
                  f"{r['table_bytes']:,}", f"{r['rule_bytes']:,}" if r["rule_bytes"] else "-",
                  f"{r['cycles_table']:g}", f"{r['cycles_rule']:g}" if r["cycles_rule"] else "-",
                  r["reason"])
    console().print(t)


@main.command("verify")
@click.argument("genome", required=False)
@click.option("--board", "-b", default="native", show_default=True, help="Board id.")
@click.option("--bursts", "-n", type=click.IntRange(1), default=100, show_default=True)
@click.option("--stimulus", "stimulus_file", type=click.Path(exists=True, dir_okay=False),
              help="Stimulus JSON (docs/stimulus.md).")
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--lang", type=click.Choice(["c", "micropython", "all"]), default="c",
              show_default=True, help="Targets: C builds, MicroPython ports (WebAssembly "
              "under Node, unix with viper), or both.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the random stimulus used when no --stimulus is given.")
@click.option("--port", default=None,
              help="Check a real board instead: read its device-protocol lines from this serial "
                   "port (the firmware built with the same --test-stimulus/--bursts).")
@click.option("--baud", type=int, default=115200, show_default=True, help="Baud rate of --port.")
@click.option("--log", "log_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Check a real board's captured serial output (a file) instead.")
@precision_option
@synapses_option
def verify_cmd(genome, board, bursts, stimulus_file, as_json, strict, lang, seed, port, baud,
               log_file, precision="fixed", synapses="table") -> None:
    """Run GENOME on the twin and every target available here; compare every digest.

    Without --stimulus a seeded random stimulus drives the input areas (force-fires and integer
    injections), so that synapses carry spikes; a run in which only the power neuron fires is
    reported as proving little.

    --precision fp32: the reference is the f32 twin (state digests over f32 bits) and the C
    firmware is built with FEAGI_PRECISION_FP32 (native and the board's emulator).
    """
    import tempfile

    from rich.table import Table

    from rich.markup import escape

    from .boards import load_board
    from .executors import default_executors, reference_for
    from .stimulus import Stimulus
    from .trace import describe_divergence
    from .verify import any_divergence, verify

    b = load_board(board)
    model = _load_model(genome, strict, None)
    if stimulus_file:
        stim = _load_stimulus(stimulus_file, strict)
        _warn_lossy_input(model, stim, stimulus_file, strict, precision)
    elif port or log_file:  # the board ran the schedule it was built with: none given, none used
        stim = Stimulus()
    else:
        from .plan import input_queue_len
        # no more entries per burst than the board's default input queue takes
        nonneg = _nonneg_areas(model, b) if lang != "micropython" and precision == "fixed" else []
        stim = Stimulus.random(model, bursts, seed, max_per_burst=input_queue_len(model),
                               nonneg_areas=nonneg)
        click.echo(f"note: no --stimulus: driving a random stimulus (seed {seed}, "
                   f"{len(stim.entries)} entries over {bursts} bursts) into the input areas"
                   + (f"; values >= 0 into the {len(nonneg)} areas whose narrow membrane "
                      f"potential on {b.name} is proven for non-negative input only"
                      if nonneg else ""), err=True)
    with tempfile.TemporaryDirectory(prefix="feagi-verify-") as tmp:
        if port or log_file:
            from .executors import DeviceLog, SerialDevice
            devices = [DeviceLog(log_file)] if log_file else []
            devices += [SerialDevice(port, baud)] if port else []
            rows = verify(model, devices, stim, bursts, reference=reference_for(precision))
        else:
            rows = verify(model, default_executors(b, lang, tmp, precision, synapses), stim,
                          bursts, reference=reference_for(precision))
    if rows[0]["activity"]["fired_without_power"] == 0:
        click.echo("warning: nothing but the power neuron fired: this run does not exercise "
                   "synapses (give a --stimulus that drives the input areas)", err=True)
    if as_json:
        json.dump({"targets": rows}, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        fp = ", fp32" if precision == "fp32" else ""
        t = Table(title=f"verify {b.name}, {bursts} bursts{fp}", title_justify="left")
        for col in ("target", "bursts", "digests equal?", "first divergence", "detail"):
            t.add_column(col)
        for r in rows:
            eq = "-" if r["equal"] is None else ("yes" if r["equal"] else "NO")
            t.add_row(r["name"], str(r["bursts"]), eq, escape(describe_divergence(r["first_divergence"])),
                      escape(r["detail"]))
        console().print(t)
    if any_divergence(rows):
        sys.exit(1)


@main.command("serve")
@click.argument("site", type=click.Path(exists=True, file_okay=False))
@click.option("--port", "-p", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="TCP port on 127.0.0.1 (0: any free port).")
def serve_cmd(site, port) -> None:
    """Serve a page built with `build --board wasm` on http://127.0.0.1:PORT/ (stdlib http.server)."""
    from .web import make_server

    srv = make_server(site, port, verbose=True)
    click.echo(f"serving {site} on http://127.0.0.1:{srv.server_address[1]}/ (Ctrl-C stops)")
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()
@main.command("monitor")
@click.argument("port")
@click.option("--genome", "-g", default=None, help="Genome the device runs (names areas, checks dims).")
@click.option("--bursts", "-n", type=click.IntRange(1), default=None,
              help="Step this many bursts and exit (default: free-run until Ctrl-C).")
@click.option("--state-every", type=click.IntRange(0), default=0, show_default=True,
              help="State digest every this many bursts (0: never).")
@click.option("--baud", type=click.IntRange(1), default=115200, show_default=True)
def monitor_cmd(port, genome, bursts, state_every, baud) -> None:
    """Live table of a device on the two-way link (docs/link.md): PORT is a serial port, a pty,
    socket://HOST:PORT, or exec:PATH (a native link build on a pipe)."""
    from .link.monitor import monitor

    model = _load_model(genome, False, None) if genome else None
    monitor(port, model, bursts, state_every, baud, console())


@main.command("boards")
@click.option("--json", "as_json", is_flag=True, help="Print the board table as JSON.")
def list_boards_cmd(as_json: bool) -> None:
    """List the supported boards with their memory budgets and how CI runs them."""
    from rich.table import Table

    from .boards import list_boards, load_board

    boards = [load_board(n) for n in list_boards()]
    if as_json:
        json.dump([{"name": b.name, "mcu": b.mcu, "architecture": b.architecture,
                    "flash_bytes": b.flash_bytes, "ram_bytes": b.ram_bytes,
                    "regions": {r.name: {"bytes": r.bytes, "kind": r.kind}
                                for r in b.regions.values()},
                    "platformio": {"platform": b.pio_platform, "board": b.pio_board},
                    "stand_in": b.stand_in or None} for b in boards], sys.stdout, indent=1)
        sys.stdout.write("\n")
        return
    t = Table(title="boards", title_justify="left")
    for col in ("board", "MCU", "arch", "flash", "RAM regions", "PlatformIO board", "emulated as"):
        t.add_column(col)
    for b in boards:
        ram = ", ".join(f"{r.name} {r.bytes // 1024} KiB" for r in b.regions.values()
                        if r.kind != "flash")
        emu = b.emulator.get("machine") or b.emulator.get("kind", "-") if b.emulator else "-"
        if b.stand_in:
            emu += " (stand-in)"
        t.add_row(b.name, b.mcu, b.architecture, f"{b.flash_bytes // 1024} KiB", ram,
                  b.pio_board or "-", emu)
    console().print(t)


@main.command("sweep")
@click.argument("genomes", nargs=-1)
@click.option("--boards", "-b", "boards", multiple=True, default=("all",), show_default=True,
              help="Board ids (comma lists allowed) or 'all'.")
@click.option("--stimuli", "-s", "stimuli", multiple=True, default=("3",), show_default=True,
              help="N seeded random stimuli, or stimulus JSON files (repeat the option).")
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True,
              help="First seed of the random stimuli.")
@click.option("--executors", "-e", "executors", multiple=True, default=("twin,native,emulator",),
              show_default=True, help="twin, float, cuda, wgpu, native, emulator[:BOARD+BOARD].")
@click.option("--bursts", "-n", type=click.IntRange(1), default=20, show_default=True)
@click.option("--state-every", type=click.IntRange(0), default=5, show_default=True)
@click.option("--scheduler", default=None, help="Existing dask scheduler (tcp://host:8786); "
              "default: a LocalCluster, one worker per core.")
@click.option("--workers", type=click.IntRange(1), default=None,
              help="LocalCluster workers (default: CPU cores).")
@click.option("--serial", is_flag=True, help="Run every task in this process (no Dask).")
@click.option("--out", "out", type=click.Path(file_okay=False), default="sweep-report",
              show_default=True, help="Folder for sweep.json, sweep.csv, report.html.")
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False), default=None,
              help="Result cache (default: ~/.cache/feagi-embed/sweep).")
@click.option("--no-cache", is_flag=True, help="Compute every cell; read and write no cache.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def sweep_cmd(genomes, boards, stimuli, seed, executors, bursts, state_every, scheduler, workers,
              serial, out, cache_dir, no_cache, as_json) -> None:
    """Sweep GENOMES (files, bundled names, or 'all') x boards x stimuli x executors on Dask.

    Every cell runs the capacity check, builds, runs and compares every digest with the numba
    twin; results are cached, so a rerun computes only what changed. Exit 1 when a cell differs
    (the f32 reference excepted, as in verify).
    """
    from .sweep import (DaskRunner, GenomeSpec, ResultCache, SerialRunner, Sweep, parse_executors,
                        parse_stimuli, write_outputs)
    from .sweep_cli import print_table, resolve_boards

    names = []
    for g in genomes or (DEFAULT_GENOME,):
        names += bundled_genomes() if g == "all" else [g]
    specs = [GenomeSpec(os.path.splitext(os.path.basename(resolve_genome_path(g)))[0],
                        resolve_genome_path(g)) for g in names]
    sw = Sweep(specs, resolve_boards(boards), parse_stimuli(list(stimuli), seed),
               parse_executors(list(executors)), bursts=bursts, state_every=state_every,
               cache=ResultCache(None if no_cache else (cache_dir or _sweep_cache())))
    if serial and scheduler:
        raise click.UsageError("give either --serial or --scheduler")
    runner = SerialRunner() if serial else DaskRunner(scheduler, workers)
    try:
        res = sw.run(runner, progress=not as_json)
    finally:
        runner.close()
    paths = write_outputs(res, out)
    if as_json:
        json.dump(res.to_json(), sys.stdout)
        sys.stdout.write("\n")
    else:
        print_table(res, console())
        click.echo(f"{len(res.cells)} cells ({res.computed} computed, {res.cached} cached) in "
                   f"{res.wall_s:.1f} s on {res.runner}; wrote {paths['html']}, {paths['json']}, "
                   f"{paths['csv']}")
    # as verify: the f32 reference may differ on a lossy model without that being a bug
    if any(c["status"] == "differs" for c in res.cells if c["executor"] != "float"):
        sys.exit(1)


def _sweep_cache():
    from .sweep import default_cache_dir

    return default_cache_dir()


@main.command("genomes")
def list_genomes() -> None:
    """List the real FEAGI genomes bundled with feagi-embed."""
    for name in bundled_genomes():
        click.echo(name)


if __name__ == "__main__":  # pragma: no cover
    main()
