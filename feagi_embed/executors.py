"""The execute stage behind one protocol: every target that can run a
:class:`~feagi_embed.model.Model` is an :class:`Executor` returning a
:class:`~feagi_embed.trace.Trace`.

Implemented here: the numba twin (fixed point and the f32 float reference), the GPU twins (CUDA,
WGPU), the C firmware (native gcc, every emulated board) and the MicroPython ports (WebAssembly
under Node, unix with viper); the wasm page's module (``feagi_embed.web``: Node, headless Chromium). Adding a target is one class here and one entry in
:func:`default_executors` (and in the test matrix, ``tests/test_executor_matrix.py``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Protocol, runtime_checkable

from .boards import Board, load_board
from .model import Model
from .stimulus import Stimulus
from .trace import Trace, trace_from_protocol


@runtime_checkable
class Executor(Protocol):
    """A target that runs a model.

    Attributes:
        name: row label in ``verify`` (``"native (host gcc)"`` …).
        compares_state: whether its state digests are comparable with the fixed-point reference
            (False for the f32 float reference).
        can_trace_ids: whether ``run(..., trace_ids=True)`` reports fired ids (firmware: built
            with ``-DFEAGI_TRACE_IDS``); twins always report them.
    """

    name: str
    compares_state: bool
    can_trace_ids: bool

    def available(self) -> str | None:
        """None when it can run on this machine, else why not (``"missing node"`` …)."""

    def run(self, model: Model, stimulus: Stimulus | None, bursts: int, state_every: int,
            trace_ids: bool = False) -> Trace:
        """Run ``bursts`` bursts from the initial state; state digest every ``state_every``."""


class NumbaTwin:
    """The numba twin on the CPU: ``"fixed"`` (the reference every target must equal) or
    ``"float"`` (FEAGI's f32 arithmetic; bursts comparable, state is f32).

    ``reference=True`` with ``"float"``: the reference of ``--precision fp32`` (its state digests
    hash the f32 bits of V, which every fp32 target must equal; :func:`verify` compares them)."""

    can_trace_ids = True

    def __init__(self, mode: str = "fixed", reference: bool = False):
        self.mode = mode
        self.name = "twin (numba, fixed point)" if mode == "fixed" else "twin (numba, f32 reference)"
        self.compares_state = mode == "fixed" or reference
        self.reference = reference

    def available(self) -> str | None:
        return None

    def run(self, model, stimulus, bursts, state_every, trace_ids=False) -> Trace:
        from .host.twin import Twin

        tr = Twin(model, self.mode).run(bursts, stimulus or Stimulus(), state_every=state_every)
        if self.mode == "float" and not self.reference:
            tr.detail = "bursts only (state is f32)" + ("" if model.report.get("lossless")
                                                        else "; model is lossy")
        return tr


class GpuTwin:
    """A GPU twin (``backend``: ``"cuda"`` through cupy, ``"wgpu"`` through wgpu-py) at
    ``precision`` ``"fixed"`` or ``"fp32"`` (the twin's ``"float"`` mode: equal to the f32 numba
    reference including state digests; what WGPU promises there: ``docs/gpu.md``)."""

    compares_state = True
    can_trace_ids = True

    def __init__(self, backend: str, precision: str = "fixed"):
        if precision not in ("fixed", "fp32"):
            raise ValueError(f"precision {precision!r}: expected 'fixed' or 'fp32'")
        self.backend = backend
        self.precision = precision
        self.name = f"twin ({backend}, {'fixed point' if precision == 'fixed' else 'fp32'})"

    def available(self) -> str | None:
        from .host.gpu import backends

        ok, desc = backends.available(self.backend)
        return None if ok else desc

    def run(self, model, stimulus, bursts, state_every, trace_ids=False) -> Trace:
        from .host.gpu import backends

        mode = "float" if self.precision == "fp32" else "fixed"
        tr = backends.twin_class(self.backend)(model, mode).run(bursts, stimulus or Stimulus(),
                                                               state_every=state_every)
        tr.detail = backends.available(self.backend)[1]
        return tr


class Firmware:
    """The C firmware generated for ``plan_board``, compiled and run on ``target`` (the host with
    gcc, or the target board's emulator); digests from the device protocol it prints."""

    compares_state = True
    can_trace_ids = True

    def __init__(self, plan_board: Board | str, target: Board | str = "native",
                 work_dir: str | Path | None = None, precision: str = "fixed",
                 synapses: str = "table"):
        from .plan import check_precision

        self.plan_board = plan_board if isinstance(plan_board, Board) else load_board(plan_board)
        self.synapses = synapses
        self.target = target if isinstance(target, Board) else load_board(target)
        self.work_dir = Path(work_dir) if work_dir else None
        self.precision = check_precision(precision)
        #: extra compiler flags (e.g. ``-fsanitize=address,undefined`` for the native target)
        self.extra_cflags: tuple[str, ...] = ()
        t = self.target
        self.name = f"{t.name} ({t.emulator_kind if t.architecture != 'native' else 'host gcc'})"
        if self.precision == "fp32":
            self.name += ", fp32"
        if synapses != "table":
            self.name += f", {synapses} synapses"

    def available(self) -> str | None:
        from .targets import missing_build_tools, missing_run_tools

        missing = missing_build_tools(self.target) + missing_run_tools(self.target)
        return f"missing {', '.join(missing)}" if missing else None

    def run(self, model, stimulus, bursts, state_every, trace_ids=False) -> Trace:
        with tempfile.TemporaryDirectory(prefix="feagi-fw-") as tmp:
            return self._run(model, stimulus, bursts, state_every, trace_ids,
                             self.work_dir or Path(tmp))

    def _run(self, model, stimulus, bursts, state_every, trace_ids, work: Path) -> Trace:
        from .build import FP32_CFLAGS, build_project
        from .targets import run_on_target

        tag = f"{self.target.name}{'-ids' if trace_ids else ''}-{self.precision}-{self.synapses}"
        # the work folder is the executor's own: regenerate whatever model was built there last
        proj = build_project(model, self.plan_board, work / f"project-{tag}", stimulus=stimulus,
                             bursts=bursts, state_every=state_every, force=True,
                             precision=self.precision, synapses=self.synapses).out_dir
        srcs = [proj / "src", proj / "lib" / "feagi_runtime" / "src"]
        incs = [proj / "include", proj / "lib" / "feagi_runtime" / "src"]
        flags = (FP32_CFLAGS if self.precision == "fp32" else ()) + tuple(self.extra_cflags)
        r = run_on_target(self.target, srcs, incs,
                          defines={"FEAGI_TRACE_IDS": None} if trace_ids else None,
                          out_dir=work / f"build-{tag}", timeout=600, extra_cflags=flags)
        return trace_from_protocol(r.stdout, f"{r.metric_kind}: {r.metric:,}" if r.metric else "")


class MicroPython:
    """The generated MicroPython package in a port: ``"wasm"`` (the official WebAssembly port
    under Node, pure engine) or ``"unix"`` (viper kernels, x64)."""

    compares_state = True
    can_trace_ids = False
    LABELS = {"wasm": "micropython wasm (pure Python, Node)",
              "unix": "micropython unix (viper, x64)"}

    def __init__(self, port: str, precision: str = "fixed", synapses: str = "table"):
        from .plan import check_precision

        self.port = port
        self.precision = check_precision(precision)
        self.synapses = synapses
        self.name = self.LABELS[port]
        if self.precision == "fp32":  # the pure-Python engine, rounding every result to f32
            self.name = f"micropython {port} (fp32, pure Python{', Node' if port == 'wasm' else ''})"
        if synapses != "table":
            self.name += f", {synapses} synapses"

    def available(self) -> str | None:
        from .targets.micropython import missing_mpy_tools

        missing = missing_mpy_tools(self.port)
        return f"missing {', '.join(missing)}" if missing else None

    def run(self, model, stimulus, bursts, state_every, trace_ids=False) -> Trace:
        from .build import build_micropython
        from .targets.micropython import run_unix, run_wasm

        with tempfile.TemporaryDirectory(prefix="feagi-mpy-") as tmp:
            pkg = Path(tmp) / "micropython"
            build_micropython(model, None, pkg, stimulus=stimulus or Stimulus(), bursts=bursts,
                              state_every=state_every, precision=self.precision,
                              synapses=self.synapses)
            r = (run_wasm if self.port == "wasm" else run_unix)(pkg)
        detail = f"{r.seconds:.2f} s" if r.returncode == 0 else \
            f"exit {r.returncode}: {r.stderr.strip().splitlines()[-1:] or ''}"
        return trace_from_protocol(r.stdout, detail)


class DeviceLog:
    """A real board's device-protocol output (B/S/E lines) captured to a file: what a board
    flashed with ``feagi-embed build --test-stimulus S --bursts N`` printed on its serial port.
    Other lines (``O`` motor lines, boot messages) are ignored."""

    compares_state = True
    can_trace_ids = False

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.name = f"device log ({self.path.name})"

    def available(self) -> str | None:
        return None if self.path.is_file() else f"no file {self.path}"

    def run(self, model, stimulus, bursts, state_every, trace_ids=False) -> Trace:
        text = self.path.read_text(errors="replace")
        return trace_from_protocol(text, f"{len(text.splitlines())} lines from {self.path}")


class SerialDevice:
    """A real board on a serial port (pyserial: ``/dev/ttyUSB0``, ``COM3``, a pty, or a
    ``socket://`` URL), read until its ``E`` line (or ``timeout`` seconds): the device-protocol
    lines of the firmware's compiled test schedule, printed after reset."""

    compares_state = True
    can_trace_ids = False

    def __init__(self, port: str, baud: int = 115200, timeout: float = 60.0):
        self.port, self.baud, self.timeout = port, int(baud), float(timeout)
        self.name = f"board on {port}"

    def available(self) -> str | None:
        try:
            import serial  # noqa: F401
        except ImportError:
            return "pyserial is not installed (pip install pyserial)"
        return None

    def read_lines(self) -> str:
        """The text the device sends until its ``E`` line or the timeout.

        Raises:
            FeagiEmbedError: the port cannot be opened.
        """
        import time

        import serial

        from .errors import FeagiEmbedError

        try:
            port = serial.serial_for_url(self.port, baudrate=self.baud, timeout=0.2)
        except (serial.SerialException, ValueError) as e:
            raise FeagiEmbedError(f"--port {self.port}: cannot open ({e})") from None
        lines: list[str] = []
        end = time.monotonic() + self.timeout
        with port:
            while time.monotonic() < end:
                raw = port.readline()
                if not raw:
                    continue
                line = raw.decode("ascii", "replace").strip()
                lines.append(line)
                if line.startswith("E "):
                    break
        return "\n".join(lines) + "\n"

    def run(self, model, stimulus, bursts, state_every, trace_ids=False) -> Trace:
        text = self.read_lines()
        return trace_from_protocol(text, f"{len(text.splitlines())} lines from {self.port}")


def reference_for(precision: str = "fixed") -> Executor:
    """The reference of ``verify`` at ``precision``: the fixed-point twin, or (``"fp32"``) the f32
    twin with state digests (f32 bits of V)."""
    return NumbaTwin("float", reference=True) if precision == "fp32" else NumbaTwin("fixed")


def default_executors(board: Board, lang: str = "c", work_dir: str | Path | None = None,
                      precision: str = "fixed", synapses: str = "table") -> list[Executor]:
    """What ``feagi-embed verify --board B --lang L`` runs besides the reference: the f32
    reference, the GPU twins and the firmware (native and the board's emulator) for ``c``; the
    MicroPython ports for ``micropython``; all of them for ``all``. ``precision="fp32"``: the
    GPU twins in fp32 and the firmware and MicroPython packages built in fp32 (the reference is
    then the f32 twin, :func:`reference_for`). ``synapses`` other than ``"table"`` builds the
    firmware and MicroPython packages with procedural rule records (the twins keep tables)."""
    if precision == "fp32":
        out_fp: list[Executor] = []
        if lang in ("c", "all"):
            out_fp += [GpuTwin("cuda", "fp32"), GpuTwin("wgpu", "fp32"),
                       Firmware(board, "native", work_dir, precision="fp32")]
            if board.name != "native":
                out_fp.append(Firmware(board, board, work_dir, precision="fp32"))
        if lang in ("micropython", "all"):
            out_fp += [MicroPython("wasm", "fp32"), MicroPython("unix", "fp32")]
        return out_fp
    out: list[Executor] = []
    if lang in ("c", "all"):
        out += [NumbaTwin("float"), GpuTwin("cuda"), GpuTwin("wgpu"),
                Firmware(board, "native", work_dir, synapses=synapses)]
        if board.name != "native":
            out.append(Firmware(board, board, work_dir, synapses=synapses))
        from .web import WasmExecutor  # the browser page's wasm module, under Node

        out.append(WasmExecutor(work_dir))
    if lang in ("micropython", "all"):
        out += [MicroPython("wasm", synapses=synapses), MicroPython("unix", synapses=synapses)]
    return out
