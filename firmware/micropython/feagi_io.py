# feagi_io.py - FEAGI sensor encoders and motor decoders for MicroPython (integer-only).
#
# The same rules and rounding as firmware/feagi_io.c (docs/io.md cites the FEAGI source of each);
# feagi_embed/io/coders.py is the reference tests/test_io_coders.py compares both with. Copy this
# file next to the generated package (mpremote cp feagi_io.py :) and call it from main.py:
#
#   import feagi_io, feagi_model
#   PRO = (16, 10, 1, 0, 0)          # desc = (w, d, ndims, is_signed, fractional) of an area
#   for x, z in feagi_io.encode(PRO, 0, 0, *feagi_io.scale(adc.read_u16(), 0, 65535)):
#       engine.inject(area, x, 0, z, 1 << F)
#
# A sensor value is num/den (1 <= den <= 65535); a motor value is Q16 (65536 = 1.0); only y = 0
# carries values. desc: w voxels along x, d along z (1..255), ndims values per channel (0 =
# Boolean), is_signed (two x columns per value), fractional (exponential positioning).

ONE_Q16 = 65536


def _cw(desc):
    nd = desc[2]
    if nd == 0:
        return 1
    return 2 * nd if desc[3] else nd


def column(desc, channel, axis=0):
    """x column of (channel, axis) (the positive one when signed)."""
    return channel * _cw(desc) + (2 * axis if desc[3] else axis)


def _fractional(m, den, d):
    if m == 0:
        return [d - 1]
    if m == den:
        return list(range(d))
    out = []
    rem = m
    for i in range(d):
        rem <<= 1
        if rem >= den:
            rem -= den
            out.append(i)
    return out


def encode(desc, channel, axis, num, den):
    """[(x, z), ...] voxels (potential 1.0) that encode num/den for (channel, axis)."""
    w, d, nd, sg, fr = desc
    if den < 1 or d == 0:
        return []
    if nd == 0:
        return [(channel, 0)] if num != 0 and channel < w else []
    if axis >= nd:
        return []
    x = column(desc, channel, axis)
    if sg:
        num = max(-den, min(den, num))
        if num == 0:
            return [v for v in ((x, d - 1), (x + 1, d - 1)) if v[0] < w]
        if num < 0:
            x += 1
        m = -num if num < 0 else num
    else:
        m = max(0, min(den, num))
    if x >= w:
        return []
    if fr:
        return [(x, z) for z in _fractional(m, den, d)]
    return [(x, min(((den - m) * d) // den, d - 1))]


def mark(desc, fired):
    """Set of (x, z) of fired (x, y, z) with y == 0 inside the area."""
    w, d = desc[0], desc[1]
    return {(x, z) for x, y, z in fired if y == 0 and 0 <= x < w and 0 <= z < d}


def _col(desc, vox, x):
    w, d, fr = desc[0], desc[1], desc[4]
    if x >= w:
        return None
    zs = [z for z in range(d) if (x, z) in vox]
    if not zs:
        return None
    if fr:
        return min(ONE_Q16, sum(ONE_Q16 >> z for z in zs if z <= 16))
    return ONE_Q16 - (sum(zs) * ONE_Q16) // (d * len(zs))


def decode(desc, vox, channel, axis=0):
    """Q16 value of (channel, axis) from the fired voxels (mark()), None when nothing fired."""
    nd = desc[2]
    if nd == 0 or axis >= nd or desc[1] == 0:
        return None
    x = column(desc, channel, axis)
    if not desc[3]:
        return _col(desc, vox, x)
    pos = _col(desc, vox, x)
    neg = _col(desc, vox, x + 1)
    if pos is None and neg is None:
        return None
    return (pos or 0) - (neg or 0)


def scale(raw, lo, hi, signed=False, invert=False):
    """(num, den) of a raw reading in [lo, hi], clamped; signed maps to -1..1."""
    span = max(1, hi - lo)
    raw = max(lo, min(lo + span, raw))
    if invert:
        raw = lo + span - (raw - lo)
    return (2 * (raw - lo) - span if signed else raw - lo), span


def duty(q16, top):
    """PWM duty 0..top of |q16|."""
    return (min(abs(q16), ONE_Q16) * top) >> 16


def angle(q16, lo, hi):
    """Servo angle lo + floor((hi - lo) * (q >> 8) / 256), q clamped to 0..65536."""
    q = max(0, min(ONE_Q16, q16))
    return lo + ((hi - lo) * (q >> 8)) // 256
