"""FEAGI's sensor encoders and motor decoders, integer-exact: the reference of ``firmware/feagi_io.c``.

FEAGI turns a sensor reading into fired voxels of an IPU area, and fired voxels of an OPU area into
a motor value, with the coders of ``feagi/feagi-core`` crate ``feagi-sensorimotor``, module
``src/neuron_voxel_coding/xyzp`` (file ``coder_shared_functions.rs`` and the ``encoders/`` and
``decoders/`` files cited per function below). Which coder an area gets is written in its cortical
ID (``feagi_embed/genome/cortical_id.py``): byte 4's low nibble is the data type (0 Boolean,
1-4 Percentage 1D-4D, 5-8 SignedPercentage 1D-4D), byte 5 bit 1 the neuron positioning
(0 Linear, 1 Fractional). This module reads the model's area table only (:func:`desc_for`).

Numbers: a sensor value is the fraction ``num/den`` (``1 <= den <= 65535``); a motor value is Q16
(``65536`` = 1.0). Every function here is integer arithmetic with the same rounding as the C file,
so device and host agree bit for bit; :func:`feagi_linear_z` etc. are FEAGI's real-number formulas
for the tests. Layout (FEAGI ``encoders/percentage_encoder.rs``
``PercentageNeuronVoxelXYZPEncoder::write_neuron_data_multi_channel_from_processed_cache``):
channel ``c`` of an area with ``k`` values per channel occupies x columns ``c*k … c*k+k-1``
(signed: ``2k`` columns, value ``a`` positive at ``c*2k + 2a``, negative at ``+1``), y = 0,
injected potential 1.0. Decisions where FEAGI leaves a choice are in ``docs/io.md``.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ..errors import FeagiEmbedError

__all__ = [
    "MAX_DEN",
    "ONE_Q16",
    "IoCoderError",
    "IoDesc",
    "angle",
    "decode",
    "desc_for",
    "downscale",
    "duty",
    "encode",
    "encode_frame",
    "feagi_decode_fractional",
    "feagi_decode_linear",
    "feagi_fractional_z",
    "feagi_linear_z",
    "mark",
    "pixel_q",
    "pixel_grid_loss",
    "scale",
]

ONE_Q16 = 65536
MAX_DEN = 65535
#: IPU shorthands the release keeps as padded 8-byte ASCII IDs (``i__acc`` -> ``i__acc__``,
#: ``i__gyq``; see ``cortical_id._KEPT_IPU_ENDINGS``): the release parses them as Percentage3D,
#: Fractional (accelerometer, gyroscope)
_KEPT_3D = frozenset({b"i__acc__", b"i__gyq__"})


class IoCoderError(FeagiEmbedError):
    """An area has no FEAGI percentage/boolean coder (camera, misc, pose …) or bad dims."""


@dataclass(frozen=True)
class IoDesc:
    """One IO area as the coders see it (the C ``feagi_io_desc``).

    Attributes:
        w: voxels along x; d: voxels along z (1…255).
        ndims: percentages per channel (1…4), 0 for Boolean.
        is_signed: SignedPercentage (two x columns per value).
        fractional: Fractional (exponential) neuron positioning, else Linear.
    """

    w: int
    d: int
    ndims: int
    is_signed: bool = False
    fractional: bool = False

    @property
    def channel_width(self) -> int:
        """x columns per channel."""
        if self.ndims == 0:
            return 1
        return 2 * self.ndims if self.is_signed else self.ndims

    @property
    def channels(self) -> int:
        """Channels (devices) the area holds: ``w // channel_width``."""
        return self.w // self.channel_width

    def column(self, channel: int, axis: int = 0) -> int:
        """x column of (channel, axis) (the positive one when signed)."""
        return channel * self.channel_width + (2 * axis if self.is_signed else axis)


def _id_bytes(model, a: int) -> bytes:
    try:
        raw = base64.b64decode(model.areas.ids[a])
    except ValueError:
        raw = b""
    return raw


def desc_for(model, a: int) -> IoDesc:
    """The coder of area ``a`` of ``model`` from its cortical ID and dims.

    Raises:
        IoCoderError: the area is not IPU/OPU, its data type has no percentage/boolean coder
            (CartesianPlane camera frames, Misc, Pose), or its z depth is outside 1…255.
    """
    areas = model.areas
    label = areas.label(a)
    if areas.kinds[a] not in ("ipu", "opu"):
        raise IoCoderError(f"area {label}: kind {areas.kinds[a]!r} has no FEAGI IO coder; "
                           "expected an IPU (sensor) or OPU (motor) area")
    raw = _id_bytes(model, a)
    w, _h, d = (int(v) for v in areas.dims[a])
    if not 1 <= d <= 255:
        raise IoCoderError(f"area {label}: z depth {d}; expected 1…255 for the device coders")
    unit = areas.io_units[a]
    if raw in _KEPT_3D:
        return IoDesc(w, d, 3, False, True)
    variant = raw[4] & 0x0F if len(raw) == 8 else 15
    fractional = bool(raw[5] & 0x02) if len(raw) == 8 else False
    if variant == 0:
        return IoDesc(w, d, 0)
    if 1 <= variant <= 8:
        return IoDesc(w, d, (variant - 1) % 4 + 1, variant >= 5, fractional)
    names = {9: "CartesianPlane (camera frames: see docs/io.md)", 10: "Misc", 11: "PoseEstimation"}
    raise IoCoderError(f"area {label}: unit {unit!r} data type "
                       f"{names.get(variant, variant)} has no device coder; expected a Boolean, "
                       "Percentage or SignedPercentage area")


# ----------------------------------------------------------------------------- FEAGI formulas
def feagi_linear_z(p: float, d: int) -> int:
    """FEAGI ``coder_shared_functions.rs::encode_unsigned_percentage_to_linear_neuron_z_index``:
    ``min(floor((1 - p) * d), d - 1)`` for p in [0, 1] (real arithmetic)."""
    import math
    return min(math.floor((1.0 - p) * d), d - 1)


def feagi_fractional_z(p: float, d: int) -> list[int]:
    """FEAGI ``encode_unsigned_percentage_to_fractional_exponential_neuron_z_indexes``: greedy
    subtraction of ``0.5**z`` for z = 1…d, pushing ``z - 1``; p == 0 pushes ``d - 1``."""
    if p == 0:
        return [d - 1]
    out = []
    for z in range(1, d + 1):
        if p >= 0.5 ** z:
            p -= 0.5 ** z
            out.append(z - 1)
    return out


def feagi_decode_linear(zs: Iterable[int], d: int) -> float:
    """FEAGI ``decode_unsigned_percentage_from_linear_neurons``: ``1 - sum(z) / (d * len)``."""
    zs = list(zs)
    return 1.0 - sum(zs) / (d * len(zs))


def feagi_decode_fractional(zs: Iterable[int]) -> float:
    """FEAGI ``decode_unsigned_percentage_from_fractional_exponential_neurons``: ``sum(0.5**z)``
    (note: the encoder's digit ``z`` weighs ``0.5**(z+1)``; docs/io.md)."""
    return sum(0.5 ** z for z in zs)


# ----------------------------------------------------------------------------- integer coders
def _z_linear(m: int, den: int, d: int) -> int:
    return min(((den - m) * d) // den, d - 1)


def _fractional(m: int, den: int, d: int) -> list[int]:
    if m == 0:
        return [d - 1]
    if m == den:
        return list(range(d))
    out, rem = [], m
    for i in range(d):
        rem <<= 1
        if rem >= den:
            rem -= den
            out.append(i)
    return out


def encode(desc: IoDesc, channel: int, axis: int, num: int, den: int) -> list[tuple[int, int]]:
    """Voxels ``(x, z)`` (y = 0, potential 1.0) that encode ``num/den`` for (channel, axis).

    Unsigned values are clamped to [0, 1], signed to [-1, 1]. Boolean areas: ``num != 0`` fires
    ``(channel, 0)`` (FEAGI ``encoders/boolean.rs``), false fires nothing (FEAGI sends potential
    0.0, which the burst engine drops). Voxels outside the area's x range are left out.
    Linear: :func:`feagi_linear_z`; Fractional: :func:`feagi_fractional_z` (exact binary digits);
    signed zero fires z = d - 1 on both lobes (FEAGI
    ``encode_signed_percentage_to_linear_neuron_z_index``).
    """
    if den < 1 or desc.d == 0:
        return []
    if desc.ndims == 0:
        return [(channel, 0)] if num != 0 and channel < desc.w else []
    if axis >= desc.ndims:
        return []
    d = desc.d
    x = desc.column(channel, axis)
    if desc.is_signed:
        num = max(-den, min(den, num))
        if num == 0:
            out = [(x, d - 1), (x + 1, d - 1)]
            return [v for v in out if v[0] < desc.w]
        if num < 0:
            x += 1
        m = abs(num)
    else:
        m = max(0, min(den, num))
    if x >= desc.w:
        return []
    zs = _fractional(m, den, d) if desc.fractional else [_z_linear(m, den, d)]
    return [(x, z) for z in zs]


def mark(desc: IoDesc, fired: Iterable[tuple[int, int, int]]) -> set[tuple[int, int]]:
    """The fired-voxel set the decoder reads: ``(x, z)`` of fired ``(x, y, z)`` with y == 0 inside
    the area (several neurons of one voxel count once; docs/io.md)."""
    return {(x, z) for x, y, z in fired if y == 0 and 0 <= x < desc.w and 0 <= z < desc.d}


def _column(desc: IoDesc, voxels: set[tuple[int, int]], x: int) -> int | None:
    zs = [z for z in range(desc.d) if (x, z) in voxels] if x < desc.w else []
    if not zs:
        return None
    if desc.fractional:
        return min(ONE_Q16, sum(ONE_Q16 >> z for z in zs if z <= 16))
    return ONE_Q16 - (sum(zs) * ONE_Q16) // (desc.d * len(zs))


def decode(desc: IoDesc, voxels: set[tuple[int, int]], channel: int, axis: int = 0) -> int | None:
    """Q16 motor value of (channel, axis) from the fired voxels (:func:`mark`), or None when its
    column(s) did not fire (FEAGI keeps the previous value).

    Linear: ``65536 - floor(65536 * sum(z) / (d * n))`` (FEAGI
    ``decode_unsigned_percentage_from_linear_neurons``); Fractional: ``sum(65536 >> z)`` clamped
    to 65536 (``decode_unsigned_percentage_from_fractional_exponential_neurons``); signed: positive
    column minus negative column, an empty one counting 0 (FEAGI
    ``decode_signed_percentage_from_linear_neurons``, ``decoders/percentage_decoder.rs``).
    """
    if desc.ndims == 0 or axis >= desc.ndims or desc.d == 0:
        return None
    x = desc.column(channel, axis)
    if not desc.is_signed:
        return _column(desc, voxels, x)
    pos, neg = _column(desc, voxels, x), _column(desc, voxels, x + 1)
    if pos is None and neg is None:
        return None
    return (pos or 0) - (neg or 0)


def scale(raw: int, lo: int, hi: int, signed: bool = False, invert: bool = False) -> tuple[int, int]:
    """``(num, den)`` of a raw reading in [lo, hi]: unsigned ``(r - lo)/(hi - lo)``, signed
    ``(2r - lo - hi)/(hi - lo)``; clamped; ``invert`` mirrors the reading in its range."""
    span = max(1, hi - lo)
    raw = max(lo, min(lo + span, raw))
    if invert:
        raw = lo + span - (raw - lo)
    return (2 * (raw - lo) - span if signed else raw - lo), span


def duty(q16: int, top: int) -> int:
    """PWM duty ``floor(min(|q16|, 65536) * top / 65536)`` (0…top)."""
    return (min(abs(q16), ONE_Q16) * top) >> 16


def angle(q16: int, lo: int, hi: int) -> int:
    """Servo angle ``lo + floor((hi - lo) * (q >> 8) / 256)`` of q = q16 clamped to [0, 65536]
    (1/256 resolution: the product stays in 32 bits on the device)."""
    q = max(0, min(ONE_Q16, q16))
    return lo + ((hi - lo) * (q >> 8)) // 256


def downscale(src: bytes, sw: int, sh: int, dw: int, dh: int) -> bytes:
    """Box-average a row-major 8-bit grayscale frame ``sw x sh`` to ``dw x dh`` (integer floor
    mean of source rows ``floor(j*sh/dh) … floor((j+1)*sh/dh) - 1`` and the same for columns)."""
    out = bytearray(dw * dh)
    for j in range(dh):
        y0, y1 = j * sh // dh, (j + 1) * sh // dh
        for i in range(dw):
            x0, x1 = i * sw // dw, (i + 1) * sw // dw
            cnt = (x1 - x0) * (y1 - y0)
            s = sum(src[y * sw + x] for y in range(y0, y1) for x in range(x0, x1))
            out[j * dw + i] = s // cnt if cnt else 0
    return bytes(out)


def encode_frame(img: bytes, w: int, h: int, x0: int = 0, threshold: int = 1, start: int = 0,
                 cap: int = 1 << 30) -> tuple[list[tuple[int, int, int]], int]:
    """``([(x, y, pixel)], next)``: a row-major grayscale frame (row 0 on top) into a vision area,
    as FEAGI ``ImageFrame::overwrite_neuron_data`` (feagi-sensorimotor ``data_types``): pixels
    above ``threshold`` (FEAGI: above 1) fire ``(x0 + col, h - 1 - row, 0)`` with potential
    ``pixel / 255``. At most ``cap`` voxels from pixel index ``start``; ``next`` is where to resume
    (``w * h`` when done). FEAGI writes y without the flip its comment asks for; we flip so y
    counts up (docs/io.md)."""
    out: list[tuple[int, int, int]] = []
    i = start
    while i < w * h:
        v = img[i]
        if v > threshold:
            if len(out) >= cap:
                break
            out.append((x0 + i % w, h - 1 - i // w, v))
        i += 1
    return out, i


def pixel_q(pixel: int, frac_bits: int) -> int:
    """``floor(pixel * 2^F / 255)``: the fixed-point potential of a pixel (F <= 16)."""
    return (pixel << frac_bits) // 255


def pixel_grid_loss(frac_bits: int, threshold: int = 1) -> tuple[int, float, float] | None:
    """The first pixel a camera frame injects whose potential ``pixel/255`` is off the
    fixed-point grid: ``(pixel, pixel/255 as f32, pixel_q/2^F)``, or None when every pixel above
    ``threshold`` is on it. The percentage and boolean coders inject 1.0 (always on the grid),
    so frames are the only lossy input of the device coders (FEAGI adds the f32 ``pixel/255``).
    """
    for p in range(threshold + 1, 256):
        real = float(np.float32(p / 255.0))
        grid = pixel_q(p, frac_bits) / float(1 << frac_bits)
        if real != grid:
            return p, real, grid
    return None
