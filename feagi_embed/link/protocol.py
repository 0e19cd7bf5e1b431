"""The link protocol in pure Python: COBS framing, CRC-32, message encoders and decoders
(byte layouts in ``docs/link.md``; the device side is ``firmware/feagi_link.c``).

A frame on the wire is ``COBS(version | type | seq | body | crc32_le) 0x00`` where the CRC is
zlib's CRC-32 (the same as the runtime's digests) over version..body. Every decoding function
raises :class:`LinkError` and nothing else on bad input.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

from ..errors import FeagiEmbedError

VERSION = 1
MAX_FRAME = 256  #: largest decoded frame (header + body + CRC)
HDR, CRC_LEN = 3, 4
MAX_BODY = MAX_FRAME - HDR - CRC_LEN
MAX_ENCODED = MAX_FRAME + MAX_FRAME // 254 + 1

# host -> device
GET_CAPABILITIES, SENSOR_DATA, FORCE_FIRE, RUN, SET_TRACE = 0x01, 0x02, 0x03, 0x04, 0x05
GET_STATS, GET_DIGESTS, RESET, SET_GPIO, SET_PWM = 0x06, 0x07, 0x08, 0x09, 0x0A
SENSOR_VALUE = 0x0B  #: sensor values encoded on the device by the io map's coders
# device -> host
ACK, CAPABILITIES, AREA_INFO, NEURON_FIRING = 0x80, 0x81, 0x82, 0x83
BURST_DIGEST, STATE_DIGEST, FIRED_IDS, STATS, DIGESTS = 0x84, 0x85, 0x86, 0x87, 0x88
MOTOR_VALUES = 0x89  #: the io map's actuator values, decoded on the device

RUN_STOP, RUN_N, RUN_FREE = 0, 1, 2
TRACE_BURST, TRACE_STATE, TRACE_IDS, TRACE_OPU, TRACE_MOTOR = 1, 2, 4, 8, 16
TRACE_ALL = 0x1F

SENSOR_ITEM, FORCE_ITEM = 12, 8
MAX_SENSOR_ITEMS = (MAX_BODY - 1) // SENSOR_ITEM  #: 20 per frame
MAX_FORCE_ITEMS = (MAX_BODY - 1) // FORCE_ITEM  #: 31 per frame
VALUE_ITEM, MOTOR_ITEM, MOTOR_HEAD = 11, 11, 6
MAX_VALUE_ITEMS = (MAX_BODY - 1) // VALUE_ITEM  #: 22 per frame
MAX_MOTOR_ITEMS = (MAX_BODY - MOTOR_HEAD) // MOTOR_ITEM  #: 22 per frame

#: Ack status codes (docs/link.md "Errors")
STATUS = {0: "ok", -1: "bad area, voxel or neuron id", -2: "input queue full for this burst",
          -3: "value outside the model's sensory range", -4: "heap", -10: "bad body length",
          -11: "field out of range", -12: "unknown message type",
          -13: "area or channel not bound by the device's io map (or no io map built in)"}

#: names of the device's receive counters, in the order of the Stats message
STAT_NAMES = ("frames_ok", "bad_cobs", "too_long", "too_short", "bad_crc", "bad_version",
              "bad_type", "bad_length", "item_errors", "queue_full")


class LinkError(FeagiEmbedError):
    """A frame or message that cannot be decoded, or a device that does not answer as the
    protocol says (the message names what and why)."""


# ------------------------------------------------------------------------------------ framing
def cobs_encode(data: bytes) -> bytes:
    """COBS-encode ``data`` (no trailing delimiter); the result contains no 0x00 byte."""
    out = bytearray([0])
    code_at, code = 0, 1
    for b in data:
        if b == 0:
            out[code_at] = code
            code_at, code = len(out), 1
            out.append(0)
            continue
        out.append(b)
        code += 1
        if code == 0xFF:
            out[code_at] = code
            code_at, code = len(out), 1
            out.append(0)
    out[code_at] = code
    return bytes(out)


def cobs_decode(data: bytes) -> bytes:
    """Invert :func:`cobs_encode`.

    Raises:
        LinkError: a 0x00 inside the frame, or a block running past its end.
    """
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        code = data[i]
        if code == 0 or i + code > n:
            raise LinkError(f"bad COBS block at byte {i} (code {code}, frame of {n} bytes)")
        block = data[i + 1:i + code]
        if 0 in block:
            raise LinkError(f"0x00 inside a COBS frame near byte {i}")
        out += block
        i += code
        if code != 0xFF and i < n:
            out.append(0)
    return bytes(out)


def crc32(data: bytes) -> int:
    """zlib CRC-32 (the runtime's ``feagi_crc32`` starting at 0)."""
    return zlib.crc32(data) & 0xFFFFFFFF


def encode_frame(mtype: int, body: bytes = b"", seq: int = 0, version: int = VERSION) -> bytes:
    """One wire frame: COBS(version, type, seq, body, CRC-32 LE) + 0x00.

    Raises:
        LinkError: body longer than :data:`MAX_BODY` or a header field outside 0..255.
    """
    if len(body) > MAX_BODY:
        raise LinkError(f"message body of {len(body)} bytes; expected at most {MAX_BODY}")
    if not all(0 <= v <= 255 for v in (mtype, seq, version)):
        raise LinkError(f"header fields type={mtype} seq={seq} version={version}; expected 0..255")
    raw = bytes((version, mtype, seq)) + bytes(body)
    return cobs_encode(raw + struct.pack("<I", crc32(raw))) + b"\x00"


@dataclass(frozen=True)
class Frame:
    """A decoded frame: header fields and the body bytes."""

    version: int
    type: int
    seq: int
    body: bytes


def decode_frame(encoded: bytes) -> Frame:
    """Decode one frame (the bytes between two 0x00 delimiters).

    Raises:
        LinkError: bad COBS, too short / long, CRC mismatch or unknown version.
    """
    if len(encoded) > MAX_ENCODED:
        raise LinkError(f"frame of {len(encoded)} encoded bytes; expected at most {MAX_ENCODED}")
    raw = cobs_decode(encoded)
    if len(raw) < HDR + CRC_LEN:
        raise LinkError(f"frame of {len(raw)} bytes; expected at least {HDR + CRC_LEN}")
    if len(raw) > MAX_FRAME:
        raise LinkError(f"frame of {len(raw)} bytes; expected at most {MAX_FRAME}")
    (want,) = struct.unpack_from("<I", raw, len(raw) - CRC_LEN)
    got = crc32(raw[:-CRC_LEN])
    if got != want:
        raise LinkError(f"CRC-32 mismatch: frame says {want:08x}, bytes give {got:08x}")
    if raw[0] != VERSION:
        raise LinkError(f"link protocol version {raw[0]}; expected {VERSION}")
    return Frame(raw[0], raw[1], raw[2], raw[HDR:-CRC_LEN])


class FrameReader:
    """Streaming splitter: :meth:`feed` bytes, get decoded frames; bad frames are counted in
    :attr:`errors` (by reason) and dropped, like the device does."""

    def __init__(self):
        self._buf = bytearray()
        self._overflow = False
        self.errors: dict[str, int] = {}
        self.last_error: str = ""

    def feed(self, data: bytes) -> list[Frame]:
        """Frames completed by ``data`` (never raises for bad frames: they are counted)."""
        out = []
        for b in data:
            if b != 0:
                if len(self._buf) >= MAX_ENCODED:
                    self._overflow = True
                else:
                    self._buf.append(b)
                continue
            buf, over = bytes(self._buf), self._overflow
            self._buf.clear()
            self._overflow = False
            if over:
                self._count("too_long", "frame longer than the maximum")
            elif buf:
                try:
                    out.append(decode_frame(buf))
                except LinkError as e:
                    self._count("bad_frame", str(e))
        return out

    def _count(self, key: str, why: str) -> None:
        self.errors[key] = self.errors.get(key, 0) + 1
        self.last_error = why


# ----------------------------------------------------------------------------- host messages
def _u16(name: str, v: int) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= 0xFFFF:
        raise LinkError(f"{name} = {v!r}; expected an integer 0..65535")
    return v


def sensor_frames(items, seq: int = 0) -> list[bytes]:
    """SensorData frames for ``items``: ``(area, x, y, z, value_q)`` with value_q the fixed-point
    value (int32), at most :data:`MAX_SENSOR_ITEMS` per frame.

    Raises:
        LinkError: a field out of range.
    """
    items = list(items)
    out = []
    for i in range(0, len(items), MAX_SENSOR_ITEMS):
        chunk = items[i:i + MAX_SENSOR_ITEMS]
        body = bytearray([len(chunk)])
        for a, x, y, z, v in chunk:
            if not -2**31 <= int(v) < 2**31:
                raise LinkError(f"value_q = {v}; expected an int32")
            body += struct.pack("<HHHHi", _u16("area", a), _u16("x", x), _u16("y", y),
                                _u16("z", z), int(v))
        out.append(encode_frame(SENSOR_DATA, bytes(body), (seq + len(out)) & 0xFF))
    return out


def force_frames(items, seq: int = 0) -> list[bytes]:
    """ForceFire frames for ``items``: ``(area, x, y, z)``, at most :data:`MAX_FORCE_ITEMS` each."""
    items = list(items)
    out = []
    for i in range(0, len(items), MAX_FORCE_ITEMS):
        chunk = items[i:i + MAX_FORCE_ITEMS]
        body = bytearray([len(chunk)])
        for a, x, y, z in chunk:
            body += struct.pack("<HHHH", _u16("area", a), _u16("x", x), _u16("y", y), _u16("z", z))
        out.append(encode_frame(FORCE_FIRE, bytes(body), (seq + len(out)) & 0xFF))
    return out


def sensor_value_frames(items, seq: int = 0) -> list[bytes]:
    """SensorValue frames for ``items``: ``(area, channel, axis, num, den)``, the value num/den
    (``0 <= num <= den`` unsigned, ``-den <= num <= den`` signed, ``1 <= den <= 65535``) of one
    channel of an io-map area, encoded on the device (at most :data:`MAX_VALUE_ITEMS` per frame).

    Raises:
        LinkError: a field out of range.
    """
    items = list(items)
    out = []
    for i in range(0, len(items), MAX_VALUE_ITEMS):
        chunk = items[i:i + MAX_VALUE_ITEMS]
        body = bytearray([len(chunk)])
        for a, ch, axis, num, den in chunk:
            if not 1 <= den <= 0xFFFF or not -den <= num <= den or not 0 <= axis <= 255:
                raise LinkError(f"sensor value {num}/{den} axis {axis}; expected 1 <= den <= "
                                "65535, |num| <= den, axis 0..255")
            body += struct.pack("<HHBiH", _u16("area", a), _u16("channel", ch), axis, int(num),
                                int(den))
        out.append(encode_frame(SENSOR_VALUE, bytes(body), (seq + len(out)) & 0xFF))
    return out


def run_frame(mode: int, n: int = 0, seq: int = 0) -> bytes:
    """Run: ``RUN_STOP``, ``RUN_N`` (``n`` bursts; 1 = step) or ``RUN_FREE``."""
    if mode not in (RUN_STOP, RUN_N, RUN_FREE) or not 0 <= n < 2**32:
        raise LinkError(f"run mode {mode} n {n}; expected mode 0/1/2 and 0 <= n < 2^32")
    return encode_frame(RUN, struct.pack("<BI", mode, n), seq)


def trace_frame(flags: int, state_every: int = 0, seq: int = 0) -> bytes:
    """SetTrace: ``flags`` (TRACE_* bits), StateDigest every ``state_every`` bursts (0: never)."""
    if not 0 <= flags <= TRACE_ALL:
        raise LinkError(f"trace flags {flags:#x}; expected 0..{TRACE_ALL:#04x}")
    return encode_frame(SET_TRACE, struct.pack("<BH", flags, _u16("state_every", state_every)), seq)


# --------------------------------------------------------------------------- device messages
@dataclass(frozen=True)
class Ack:
    """Answer to a host command: its type and seq, status (0 ok, else :data:`STATUS`), items
    accepted / refused, and the device's burst number."""

    type: int
    status: int
    n_ok: int
    n_bad: int
    burst: int
    seq: int


@dataclass(frozen=True)
class Capabilities:
    """Hello reply: link version, areas A, neurons N, input queue length per burst, largest
    frame, largest |value_q|, current burst."""

    link_version: int
    n_areas: int
    n_neurons: int
    queue_len: int
    max_frame: int
    max_sensory_q: int
    burst: int


@dataclass(frozen=True)
class AreaInfo:
    """One cortical area of the device's model (index order)."""

    index: int
    dims: tuple[int, int, int]
    npv: int
    first: int
    output: bool


@dataclass(frozen=True)
class NeuronFiring:
    """Fired neurons of OPU areas in one burst: ``(area, x, y, z, k)`` tuples; ``more``: another
    NeuronFiring of the same burst follows."""

    burst: int
    fired: tuple[tuple[int, int, int, int, int], ...]
    more: bool


@dataclass(frozen=True)
class BurstDigest:
    """After every burst: burst number, fired count, burst digest (CRC-32 of [b, count, ids])."""

    burst: int
    count: int
    crc: int


@dataclass(frozen=True)
class StateDigest:
    """State digest (CRC-32 of V, cd, cc) after ``burst``."""

    burst: int
    crc: int


@dataclass(frozen=True)
class FiredIds:
    """A chunk of the fired ids of one burst: ids ``offset … offset+len(ids)-1`` of ``total``."""

    burst: int
    total: int
    offset: int
    ids: tuple[int, ...]


@dataclass(frozen=True)
class Stats:
    """The device's receive counters (:data:`STAT_NAMES`)."""

    counters: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Digests:
    """Answer to GetDigests: burst, fired count, burst, state and final digests."""

    burst: int
    count: int
    burst_crc: int
    state_crc: int
    final_crc: int


@dataclass(frozen=True)
class MotorValues:
    """The io map's actuators after one burst, decoded on the device: ``(output, area, channel,
    axis, fired, q16)`` per actuator (``q16``: 65536 = 1.0, the held value when ``fired`` is 0);
    ``more``: another MotorValues of the same burst follows."""

    burst: int
    values: tuple[tuple[int, int, int, int, int, int], ...]
    more: bool


def _need(frame: Frame, n: int | None = None, at_least: int | None = None) -> None:
    ln = len(frame.body)
    if (n is not None and ln != n) or (at_least is not None and ln < at_least):
        raise LinkError(f"message type {frame.type:#04x}: body of {ln} bytes; expected "
                        f"{n if n is not None else f'at least {at_least}'}")


def parse_message(frame: Frame):
    """The device message in ``frame`` (one of the dataclasses above).

    Raises:
        LinkError: unknown (or host -> device) type, or a body of the wrong length.
    """
    t, b = frame.type, frame.body
    if t == ACK:
        _need(frame, 11)
        typ, st, ok, bad, burst, seq = struct.unpack("<BbHHIB", b)
        return Ack(typ, st, ok, bad, burst, seq)
    if t == CAPABILITIES:
        _need(frame, 20)
        ver, _r, a, n, ql, mf, ms, burst = struct.unpack("<BBHIHHII", b)
        return Capabilities(ver, a, n, ql, mf, ms, burst)
    if t == AREA_INFO:
        _need(frame, 15)
        i, w, h, d, npv, first, out = struct.unpack("<HHHHHIB", b)
        return AreaInfo(i, (w, h, d), npv, first, bool(out))
    if t == NEURON_FIRING:
        _need(frame, at_least=6)
        burst, n, more = struct.unpack_from("<IBB", b)
        _need(frame, 6 + 10 * n)
        fired = tuple(struct.unpack_from("<HHHHH", b, 6 + 10 * j) for j in range(n))
        return NeuronFiring(burst, fired, bool(more))
    if t == BURST_DIGEST:
        _need(frame, 12)
        return BurstDigest(*struct.unpack("<III", b))
    if t == STATE_DIGEST:
        _need(frame, 8)
        return StateDigest(*struct.unpack("<II", b))
    if t == FIRED_IDS:
        _need(frame, at_least=12)
        if (len(b) - 12) % 4:
            raise LinkError(f"FiredIds body of {len(b)} bytes; expected 12 + 4·n")
        burst, total, off = struct.unpack_from("<III", b)
        ids = struct.unpack_from(f"<{(len(b) - 12) // 4}I", b, 12)
        return FiredIds(burst, total, off, tuple(ids))
    if t == STATS:
        _need(frame, 4 * len(STAT_NAMES))
        return Stats(dict(zip(STAT_NAMES, struct.unpack(f"<{len(STAT_NAMES)}I", b))))
    if t == DIGESTS:
        _need(frame, 20)
        return Digests(*struct.unpack("<IIIII", b))
    if t == MOTOR_VALUES:
        _need(frame, at_least=MOTOR_HEAD)
        burst, n, more = struct.unpack_from("<IBB", b)
        _need(frame, MOTOR_HEAD + MOTOR_ITEM * n)
        vals = tuple(struct.unpack_from("<BHHBBi", b, MOTOR_HEAD + MOTOR_ITEM * j)
                     for j in range(n))
        return MotorValues(burst, vals, bool(more))
    raise LinkError(f"message type {t:#04x}; expected a device message (0x80..0x89)")
