"""Host side of the link: :class:`LinkClient` drives a device (or the native link build) burst by
burst, taking sensor data in the FEAGI connector's shape and calling back with OPU firing.

Transports (anything with ``write(bytes)`` and ``read(max) -> bytes``, empty on timeout):
:class:`SerialTransport` (pyserial's ``serial_for_url``: serial ports, USB-CDC, ptys,
``socket://host:port``, ``rfc2217://``) and :class:`ProcessTransport` (a subprocess's stdin /
stdout: the native link build, an emulator whose UART is on stdio).
"""

from __future__ import annotations

import os
import select
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from . import protocol as P
from .protocol import LinkError

# ---- model accessors (the only places this module reads the Model)


def _area_index(model, genome_id: str) -> int:
    return model.area_index(genome_id)


def _area_dims(model, a: int) -> tuple[int, int, int]:
    return tuple(int(v) for v in model.areas.dims[a])


def _area_genome_id(model, a: int) -> str:
    return model.areas.genome_ids[a]


def _value_q(model, value: float) -> int:
    from ..quantize import q

    return int(q(value, model.frac_bits))


def _max_sensory(model) -> float:
    return float(model.max_sensory)


# ---- transports
class SerialTransport:
    """pyserial port (``url``: ``/dev/ttyUSB0``, ``/dev/pts/3``, ``socket://127.0.0.1:5555`` …).

    Raises:
        LinkError: the port cannot be opened.
    """

    def __init__(self, url: str, baudrate: int = 115200, timeout: float = 0.05):
        import serial

        try:
            self.port = serial.serial_for_url(url, baudrate=baudrate, timeout=timeout)
        except (serial.SerialException, ValueError, OSError) as e:
            raise LinkError(f"cannot open link port {url}: {e}") from None

    def write(self, data: bytes) -> None:
        self.port.write(data)
        self.port.flush()

    def read(self, n: int = 4096) -> bytes:
        return self.port.read(max(1, min(n, self.port.in_waiting or 1)))

    def close(self) -> None:
        self.port.close()


class ProcessTransport:
    """A subprocess speaking the link on its stdin / stdout (``argv``: the native link ELF, or
    an emulator command line with the UART on stdio)."""

    def __init__(self, argv: Sequence[str], timeout: float = 0.05, close_timeout: float = 30.0):
        self.proc = subprocess.Popen(list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.timeout = timeout
        self.close_timeout = close_timeout

    def write(self, data: bytes) -> None:
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise LinkError(f"link process exited ({self.proc.poll()})") from None

    def read(self, n: int = 4096) -> bytes:
        fd = self.proc.stdout.fileno()
        r, _, _ = select.select([fd], [], [], self.timeout)
        return os.read(fd, n) if r else b""

    def close(self) -> int:
        """Close stdin (the firmware exits at end of input); returns the exit status, or None
        when it was still running after ``close_timeout`` s and was killed (an emulator that
        never sees the end of its UART input)."""
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        try:
            rc = self.proc.wait(timeout=self.close_timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = None
        self.proc.stdout.close()
        self.stderr = self.proc.stderr.read().decode(errors="replace")
        self.proc.stderr.close()
        return rc


# ---- client
@dataclass
class BurstResult:
    """What the device reported for one burst: its digest, fired count, OPU firing in the
    connector's shape (``{genome_id: {"x-y-z": fired neurons in the voxel}}``), the state digest
    when one was due and the fired ids when traced."""

    burst: int
    count: int
    crc: int
    firing: dict[str, dict[str, int]] = field(default_factory=dict)
    state_crc: int | None = None
    ids: list[int] | None = None
    #: MotorValues (TRACE_MOTOR): ``(output, area, channel, axis, fired, q16)`` per actuator
    motors: list[tuple[int, int, int, int, int, int]] = field(default_factory=list)

    def motor_values(self, model=None) -> dict[str, dict[int, float]]:
        """The actuators' decoded values as ``{genome_id: {channel: value}}`` (value = q16 /
        65536: 0..1 unsigned, -1..1 signed; axis > 0 keys as ``"channel-axis"``)."""
        out: dict[str, dict] = {}
        for _o, a, ch, axis, _f, q in self.motors:
            gid = _area_genome_id(model, a) if model is not None else str(a)
            out.setdefault(gid, {})[ch if axis == 0 else f"{ch}-{axis}"] = q / 65536
        return out


class LinkClient:
    """Drive one device over ``transport``.

    Args:
        transport: a :class:`SerialTransport`, :class:`ProcessTransport` or any object with
            ``write(bytes)`` and ``read(n) -> bytes``.
        model: the :class:`~feagi_embed.model.Model` the device runs (genome ids → area
            indices, real values → fixed point); :meth:`hello` checks the device agrees.
        on_firing: called as ``on_firing(burst, {genome_id: {"x-y-z": n}})`` after every burst
            with OPU firing.
        timeout: seconds to wait for an answer before :class:`LinkError`.
        on_motors: called as ``on_motors(burst, {genome_id: {channel: value}})`` after every
            burst with MotorValues (firmware built with an io map, ``TRACE_MOTOR`` set): the
            actuator values the device decoded with FEAGI's motor/servo decoders.
    """

    def __init__(self, transport, model=None,
                 on_firing: Callable[[int, dict[str, dict[str, int]]], None] | None = None,
                 timeout: float = 10.0,
                 on_motors: Callable[[int, dict[str, dict[int, float]]], None] | None = None):
        self.t = transport
        self.model = model
        self.on_firing = on_firing
        self.on_motors = on_motors
        self.timeout = timeout
        self.reader = P.FrameReader()
        self.capabilities: P.Capabilities | None = None
        self.areas: list[P.AreaInfo] = []
        self.trace_flags = P.TRACE_BURST | P.TRACE_OPU
        self.state_every = 0
        self._seq = 0
        self._inbox: list = []
        #: GetCapabilities requests the last hello() sent (> 1 when the device was still booting;
        #: each unanswered one may leave a partial frame in the device's receive counters)
        self.hello_attempts = 0
        self.refused: list[P.Ack] = []  # Acks with a non-zero status or refused items

    # -- low level
    def _next_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFF
        return self._seq

    def _messages(self) -> list:
        data = self.t.read(4096)
        out = []
        for fr in self.reader.feed(data):
            try:
                out.append(P.parse_message(fr))
            except LinkError as e:
                self.reader._count("bad_message", str(e))
        return out

    def _wait(self, pred, what: str, timeout: float | None = None):
        """Read messages until ``pred(msg)`` holds; returns (that message, those before it)."""
        seen = []
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while True:
            while self._inbox:
                m = self._inbox.pop(0)
                if pred(m):
                    return m, seen
                seen.append(m)
            if time.monotonic() > deadline:
                raise LinkError(f"no {what} from the device within {timeout:g} s "
                                f"(bad frames: {self.reader.errors or 'none'})")
            self._inbox.extend(self._messages())

    def command(self, frame_type: int, body: bytes = b"") -> tuple[P.Ack, list]:
        """Send one command; returns its Ack and the messages that came before it."""
        self.t.write(P.encode_frame(frame_type, body, self._next_seq()))
        return self._ack(frame_type)

    def _ack(self, frame_type: int):
        ack, seen = self._wait(lambda m: isinstance(m, P.Ack) and m.type == frame_type,
                               f"Ack of message {frame_type:#04x}")
        if ack.status or ack.n_bad:
            self.refused.append(ack)
        return ack, seen

    # -- commands
    def hello(self) -> P.Capabilities:
        """GetCapabilities: the device's areas and dims (checked against ``model`` when given).

        Raises:
            LinkError: no answer, or the device runs a different model.
        """
        # A device that is still booting (or whose receiver is not on yet) drops what it gets:
        # repeat the request, after an idle delimiter, until it answers.
        deadline = time.monotonic() + self.timeout
        self.hello_attempts = 0
        while True:
            self.hello_attempts += 1
            self.t.write(b"\x00" + P.encode_frame(P.GET_CAPABILITIES, b"", self._next_seq()))
            try:
                _ack, seen = self._wait(lambda m: isinstance(m, P.Ack) and
                                        m.type == P.GET_CAPABILITIES, "Ack of GetCapabilities",
                                        min(0.5, max(0.01, deadline - time.monotonic())))
                break
            except LinkError:
                if time.monotonic() > deadline:
                    raise
        caps = [m for m in seen if isinstance(m, P.Capabilities)]
        if not caps:
            raise LinkError("device answered GetCapabilities without a Capabilities message")
        self.capabilities = caps[-1]
        self.areas = [m for m in seen if isinstance(m, P.AreaInfo)]
        if len(self.areas) != self.capabilities.n_areas:
            raise LinkError(f"device listed {len(self.areas)} areas of {self.capabilities.n_areas}")
        if self.model is not None:
            if self.capabilities.n_areas != self.model.n_areas:
                raise LinkError(f"device has {self.capabilities.n_areas} cortical areas; the model "
                                f"has {self.model.n_areas} (a different genome?)")
            for ai in self.areas:
                want = _area_dims(self.model, ai.index)
                if ai.dims != want:
                    raise LinkError(f"device area {ai.index} ({_area_genome_id(self.model, ai.index)}) "
                                    f"has dims {ai.dims}; the model says {want}")
        return self.capabilities

    def set_trace(self, flags: int, state_every: int = 0) -> None:
        """Which reports follow every burst (``protocol.TRACE_*``)."""
        self.t.write(P.trace_frame(flags, state_every, self._next_seq()))
        self._ack(P.SET_TRACE)
        self.trace_flags, self.state_every = flags, state_every

    def reset(self) -> None:
        """Device back to its initial state (burst 0)."""
        ack, _ = self.command(P.RESET)
        if ack.status:
            raise LinkError(f"device reset failed: status {ack.status}")

    def stats(self) -> dict[str, int]:
        """The device's receive counters (``protocol.STAT_NAMES``)."""
        _ack, seen = self.command(P.GET_STATS)
        st = [m for m in seen if isinstance(m, P.Stats)]
        if not st:
            raise LinkError("device answered GetStats without a Stats message")
        return st[-1].counters

    def digests(self) -> P.Digests:
        """Current burst, burst, state and final digests."""
        _ack, seen = self.command(P.GET_DIGESTS)
        d = [m for m in seen if isinstance(m, P.Digests)]
        if not d:
            raise LinkError("device answered GetDigests without a Digests message")
        return d[-1]

    def _items(self, data: Mapping[str, Mapping[str, float]], what: str):
        if self.model is None:
            raise LinkError(f"{what} by genome id needs the model (LinkClient(..., model=...))")
        for gid, voxels in data.items():
            try:
                a = _area_index(self.model, gid)
            except KeyError:
                raise LinkError(f"{what}: cortical area {gid!r} is not in the genome") from None
            dims = _area_dims(self.model, a)
            for key, value in voxels.items():
                try:
                    xyz = tuple(int(c) for c in str(key).split("-"))
                except ValueError:
                    xyz = ()
                if len(xyz) != 3 or any(not 0 <= c < d for c, d in zip(xyz, dims)):
                    raise LinkError(f"{what}: {gid}: voxel {key!r}; expected \"x-y-z\" inside "
                                    f"{dims[0]}x{dims[1]}x{dims[2]}")
                yield a, xyz, value

    def send_sensors(self, data: Mapping[str, Mapping[str, float]]) -> None:
        """Sensor data for the next burst in the FEAGI connector's shape
        ``{"i__pro": {"0-0-3": 100.0}}`` (genome area id → "x-y-z" → value in real units;
        FEAGI's sensory XYZP: the value goes to the last neuron of the voxel, 0 is dropped).

        Raises:
            LinkError: unknown area, voxel outside it, |value| above the model's sensory range.
        """
        items = []
        lim = _max_sensory(self.model) if self.model is not None else 0.0
        for a, (x, y, z), v in self._items(data, "sensor data"):
            if abs(float(v)) > lim:
                raise LinkError(f"sensor data: {_area_genome_id(self.model, a)}: value {v}; "
                                f"expected |value| <= {lim} (the model's sensory budget)")
            items.append((a, x, y, z, _value_q(self.model, v)))
        self._send_items(P.sensor_frames, P.SENSOR_DATA, items)

    def send_sensor_values(self, data: Mapping[str, Mapping]) -> None:
        """Sensor values for the next burst, encoded ON THE DEVICE by the io map's FEAGI coders
        (``firmware/feagi_io_link.c``): ``{genome_id: {channel: value}}`` in the shape of the
        FEAGI connector's per-device data (``{"i__pro": {0: 0.42}}``; channel ``c`` or
        ``"c-axis"`` for multi-axis areas). A value is a fraction of full scale (0..1, or -1..1
        for signed areas; sent as round(v * 65535) / 65535) or an exact ``(num, den)`` pair.

        Raises:
            LinkError: unknown area, a value outside -1..1 or a bad pair; the device refuses
            (Ack status -13) an area its io map does not bind.
        """
        if self.model is None:
            raise LinkError("sensor values by genome id need the model (LinkClient(..., model=...))")
        items = []
        for gid, chans in data.items():
            try:
                a = _area_index(self.model, gid)
            except KeyError:
                raise LinkError(f"sensor values: cortical area {gid!r} is not in the genome") from None
            for key, v in chans.items():
                ch, _, ax = str(key).partition("-")
                try:
                    ch_i, ax_i = int(ch), int(ax or 0)
                except ValueError:
                    raise LinkError(f"sensor values: {gid}: channel {key!r}; expected \"c\" or "
                                    "\"c-axis\"") from None
                if isinstance(v, tuple):
                    num, den = (int(t) for t in v)
                else:
                    if not -1.0 <= float(v) <= 1.0:
                        raise LinkError(f"sensor values: {gid}: {key}: value {v}; expected a "
                                        "fraction of full scale in -1..1")
                    num, den = int(round(float(v) * 65535)), 65535
                items.append((a, ch_i, ax_i, num, den))
        self._send_items(P.sensor_value_frames, P.SENSOR_VALUE, items)

    def force_fire(self, data: Mapping[str, Sequence[str]]) -> None:
        """Force-fire voxels in the next burst: ``{genome_id: ["x-y-z", ...]}``."""
        items = [(a, *xyz) for a, xyz, _ in
                 self._items({g: {k: 0 for k in v} for g, v in data.items()}, "force-fire")]
        self._send_items(P.force_frames, P.FORCE_FIRE, items)

    def _send_items(self, encoder, mtype: int, items: list) -> None:
        if not items:
            return
        frames = encoder(items, self._next_seq())
        self._seq = (self._seq + len(frames)) & 0xFF
        for fr in frames:
            self.t.write(fr)
        for _ in frames:
            self._ack(mtype)

    def run(self, n: int = 1) -> list[BurstResult]:
        """Run ``n`` bursts (``n = 1``: step) and collect their reports (needs TRACE_BURST)."""
        if not self.trace_flags & P.TRACE_BURST:
            raise LinkError("run() collects BurstDigests: enable protocol.TRACE_BURST")
        self.command(P.RUN, bytes([P.RUN_N]) + int(n).to_bytes(4, "little"))
        out: list[BurstResult] = []
        for _ in range(n):
            dig, seen = self._wait(lambda m: isinstance(m, P.BurstDigest), "BurstDigest")
            res = BurstResult(dig.burst, dig.count, dig.crc)
            for m in seen:
                if isinstance(m, P.NeuronFiring) and m.burst == dig.burst:
                    for a, x, y, z, _k in m.fired:
                        gid = _area_genome_id(self.model, a) if self.model is not None else str(a)
                        vox = res.firing.setdefault(gid, {})
                        key = f"{x}-{y}-{z}"
                        vox[key] = vox.get(key, 0) + 1
                elif isinstance(m, P.MotorValues) and m.burst == dig.burst:
                    res.motors.extend(m.values)
                elif isinstance(m, P.StateDigest) and m.burst == dig.burst:
                    res.state_crc = m.crc
                elif isinstance(m, P.FiredIds) and m.burst == dig.burst:
                    res.ids = (res.ids or []) + list(m.ids)
            if res.firing and self.on_firing is not None:
                self.on_firing(res.burst, res.firing)
            if res.motors and self.on_motors is not None:
                self.on_motors(res.burst, res.motor_values(self.model))
            out.append(res)
        return out

    def free_run(self) -> None:
        """Let the device burst on its own (reports arrive; read them with :meth:`poll`)."""
        self.command(P.RUN, bytes([P.RUN_FREE, 0, 0, 0, 0]))

    def stop(self) -> None:
        """Stop free-running (Ack of the Run frame)."""
        self.t.write(P.run_frame(P.RUN_STOP, 0, self._next_seq()))
        self._ack(P.RUN)

    def poll(self) -> list:
        """Messages received so far (non-blocking beyond the transport's read timeout)."""
        msgs, self._inbox = self._inbox + self._messages(), []
        return msgs
