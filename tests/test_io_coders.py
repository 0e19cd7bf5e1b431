"""FEAGI's sensor encoders / motor decoders: the Python reference (feagi_embed/io/coders.py) against
hand-computed FEAGI examples and FEAGI's formulas in exact arithmetic, and the integer C coders
(firmware/feagi_io.c, compiled natively with UBSan, driven by tests/data/feagi_io_harness.c)
against the Python reference on random inputs (hypothesis)."""

from __future__ import annotations

import math
import shutil
import subprocess
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feagi_embed.io import coders as C
from feagi_embed.io.coders import IoDesc

from .conftest import GENOMES, ROOT, require

# ----------------------------------------------------------------------------- hand examples
MOTOR = IoDesc(4, 10, 1, True, False)      # webots_pioneer2 o__mot: 4x1x10 SignedPercentage
PROX = IoDesc(16, 10, 1, False, False)     # i__pro 16x1x10 Percentage, Linear


def test_linear_percentage_examples_from_feagi():
    # FEAGI coder_shared_functions.rs tests: z_len 10, 0.5 -> z 5, 1.0 -> z 0, 0.0 -> z 9
    assert C.encode(PROX, 3, 0, 1, 2) == [(3, 5)]
    assert C.encode(PROX, 0, 0, 7, 7) == [(0, 0)]
    assert C.encode(PROX, 15, 0, 0, 7) == [(15, 9)]
    # ADC 512 of 0..1023: p = 512/1023, (1 - p) * 10 = 4.995 -> z 4
    assert C.encode(PROX, 2, 0, *C.scale(512, 0, 1023)) == [(2, 4)]
    # decode: z 5 -> 1 - 5/10 = 0.5; z 9 -> 0.1 = 6553.6 in Q16, the C rounding gives 6554
    assert C.decode(PROX, {(3, 5)}, 3) == 32768
    assert C.decode(PROX, {(3, 9)}, 3) == 65536 - (9 * 65536) // 10 == 6554
    # two voxels of one column average: z 2 and 4 -> 1 - 6/20 = 0.7 -> 45875.2 -> 45876
    assert C.decode(PROX, {(1, 2), (1, 4)}, 1) == 45876
    assert C.decode(PROX, {(1, 2)}, 0) is None  # nothing fired for channel 0


def test_signed_motor_examples():
    # channel 1 at -0.3: negative column 2*1+1 = 3, z = floor(0.7 * 10) = 7
    assert C.encode(MOTOR, 1, 0, -3, 10) == [(3, 7)]
    assert C.encode(MOTOR, 0, 0, 10, 10) == [(0, 0)]
    # zero fires the last z of both lobes (FEAGI: decodes back to exactly 0)
    assert C.encode(MOTOR, 1, 0, 0, 10) == [(2, 9), (3, 9)]
    assert C.decode(MOTOR, {(2, 9), (3, 9)}, 1) == 0
    assert C.decode(MOTOR, {(3, 7)}, 1) == -(65536 - (7 * 65536) // 10) == -19661
    # forward 1.0 on channel 0 and backward 0.5 on channel 0 at once: 1.0 - 0.5
    assert C.decode(MOTOR, {(0, 0), (1, 5)}, 0) == 32768


def test_fractional_and_boolean_examples():
    frac = IoDesc(3, 4, 1, False, True)
    # 0.75 = 0.5 + 0.25 -> digits z 0 and 1; 0 -> z d-1; 1.0 -> every digit
    assert C.encode(frac, 0, 0, 3, 4) == [(0, 0), (0, 1)]
    assert C.encode(frac, 1, 0, 0, 4) == [(1, 3)]
    assert C.encode(frac, 2, 0, 4, 4) == [(2, 0), (2, 1), (2, 2), (2, 3)]
    # FEAGI's fractional decoder weighs z by 0.5**z (not the encoder's 0.5**(z+1)): z 1, 2 ->
    # 0.5 + 0.25
    assert C.decode(frac, {(0, 1), (0, 2)}, 0) == 49152
    assert C.decode(frac, {(0, 0), (0, 1)}, 0) == 65536  # 1.5 clamped to 1.0 (docs/io.md)
    boolean = IoDesc(4, 1, 0)
    assert C.encode(boolean, 2, 0, 1, 1) == [(2, 0)]
    assert C.encode(boolean, 2, 0, 0, 1) == []


def test_actuator_maps():
    assert C.duty(-32768, 255) == 127 and C.duty(65536 * 3, 255) == 255
    assert C.angle(32768, 0, 180) == 90 and C.angle(-5, 10, 170) == 10
    assert C.angle(65536, 180, 0) == 0
    assert C.scale(700, 100, 900, signed=True) == (400, 800)
    assert C.scale(50, 100, 900, invert=True) == (800, 800)


def test_downscale_example():
    src = bytes([0, 10, 20, 30,
                 40, 50, 60, 70])
    assert C.downscale(src, 4, 2, 2, 1) == bytes([(0 + 10 + 40 + 50) // 4, (20 + 30 + 60 + 70) // 4])


@given(st.integers(1, 255), st.integers(1, C.MAX_DEN), st.data())
def test_integer_coders_equal_feagi_formulas_in_exact_arithmetic(d, den, data):
    num = data.draw(st.integers(0, den))
    p = Fraction(num, den)
    lin = C.encode(IoDesc(1, d, 1), 0, 0, num, den)
    assert lin == [(0, min(math.floor((1 - p) * d), d - 1))]
    # FEAGI's round trip tolerance: one bin
    assert abs(Fraction(C.decode(IoDesc(1, d, 1), set(lin), 0), 65536) - p) <= Fraction(1, d) + \
        Fraction(1, 65536)
    if d <= 24:  # FEAGI's greedy subtraction, exactly
        rem, want = p, []
        for z in range(1, d + 1):
            if rem >= Fraction(1, 2 ** z):
                rem -= Fraction(1, 2 ** z)
                want.append(z - 1)
        if num == 0:
            want = [d - 1]
        assert [z for _, z in C.encode(IoDesc(1, d, 1, False, True), 0, 0, num, den)] == want


# ----------------------------------------------------------------------------- C vs Python
@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    gcc = shutil.which("gcc")
    require([] if gcc else ["gcc"], "native C coders")
    exe = tmp_path_factory.mktemp("io") / "harness"
    cmd = [gcc, "-std=c99", "-O1", "-Wall", "-Wextra", "-Werror", "-pedantic",
           "-fsanitize=undefined,address", "-fno-sanitize-recover=all",
           f"-I{ROOT / 'firmware'}", str(ROOT / "firmware" / "feagi_io.c"),
           str(ROOT / "tests" / "data" / "feagi_io_harness.c"), "-o", str(exe)]
    r = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr

    def run(lines: list[str]) -> list[str]:
        out = subprocess.run([str(exe)], input="\n".join(lines) + "\n", capture_output=True,
                             text=True, check=False)
        assert out.returncode == 0 and not out.stderr, out.stderr[-2000:]
        return out.stdout.splitlines()
    return run


descs = st.builds(lambda nd, sg, fr, ch, d: IoDesc(ch * ((2 * nd if sg else nd) or 1), d, nd,
                                                   bool(sg) and nd > 0, bool(fr) and nd > 0),
                  st.integers(0, 4), st.booleans(), st.booleans(), st.integers(1, 6),
                  st.one_of(st.integers(1, 12), st.sampled_from([16, 17, 254, 255]),
                            st.integers(1, 255)))


@st.composite
def enc_case(draw):
    """An area and one value, run for every channel and axis (one past the end too) and for the
    edges of the range (0, ±1.0, just inside them) as well."""
    d = draw(descs)
    den = draw(st.one_of(st.integers(1, 16), st.integers(1, C.MAX_DEN)))
    num = draw(st.integers(-den - 5, den + 5))
    return d, den, sorted({num, 0, den, -den, 1, -1, den - 1, 1 - den})


@st.composite
def dec_case(draw):
    """An area and fired voxels, decoded for every channel and axis."""
    d = draw(descs)
    z = st.one_of(st.integers(0, min(d.d, 20)), st.integers(0, d.d))  # the 2^-16 edge too
    vox = draw(st.lists(st.tuples(st.integers(0, d.w), st.integers(0, 1), z), max_size=40))
    return d, vox


def _all(d: IoDesc):
    return [(ch, ax) for ch in range(d.channels + 1) for ax in range(max(d.ndims, 1) + 1)]


def _d(d: IoDesc) -> str:
    return f"{d.w} {d.d} {d.ndims} {int(d.is_signed)} {int(d.fractional)}"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(enc_case(), min_size=1, max_size=20))
def test_c_encoder_equals_python_reference(harness, cases):
    flat = [(d, ch, ax, num, den) for d, den, nums in cases for ch, ax in _all(d) for num in nums]
    got = harness([f"E {_d(d)} {ch} {ax} {num} {den}" for d, ch, ax, num, den in flat])
    for (d, ch, ax, num, den), line in zip(flat, got):
        vals = [int(v) for v in line.split()]
        want = C.encode(d, ch, ax, num, den)
        assert vals[0] == len(want) and list(zip(vals[1::2], vals[2::2])) == want, (d, ch, num)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(dec_case(), min_size=1, max_size=20))
def test_c_decoder_equals_python_reference(harness, cases):
    flat = [(d, v, ch, ax) for d, v in cases for ch, ax in _all(d)]
    lines = [f"D {_d(d)} {ch} {ax} {len(v)} " + " ".join(f"{x} {y} {z}" for x, y, z in v)
             for d, v, ch, ax in flat]
    for (d, v, ch, ax), line in zip(flat, harness(lines)):
        has, q = (int(t) for t in line.split())
        want = C.decode(d, C.mark(d, v), ch, ax)
        assert (has, q if has else None) == ((want is not None), want), (d, v, ch)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(-70000, 70000), st.integers(-2000, 2000),
                          st.integers(1, 60000), st.booleans(), st.booleans(),
                          st.integers(-(2 ** 20), 2 ** 20), st.integers(0, 65535),
                          st.integers(-1000, 1000), st.integers(-1000, 1000)), min_size=1,
                max_size=60))
def test_c_scale_duty_angle_equal_python(harness, cases):
    lines = []
    for raw, lo, span, sg, inv, q, top, a0, a1 in cases:
        lines += [f"S {raw} {lo} {lo + span} {int(sg)} {int(inv)}", f"U {q} {top}",
                  f"A {q} {a0} {a1}"]
    got = harness(lines)
    for i, (raw, lo, span, sg, inv, q, top, a0, a1) in enumerate(cases):
        assert tuple(map(int, got[3 * i].split())) == C.scale(raw, lo, lo + span, sg, inv)
        assert int(got[3 * i + 1]) == C.duty(q, top)
        assert int(got[3 * i + 2]) == C.angle(q, a0, a1)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 40), st.integers(1, 30), st.data())
def test_c_downscale_equals_python(harness, sw, sh, data):
    dw, dh = data.draw(st.integers(1, sw)), data.draw(st.integers(1, sh))
    px = data.draw(st.lists(st.integers(0, 255), min_size=sw * sh, max_size=sw * sh))
    got = harness([f"G {sw} {sh} {dw} {dh} " + " ".join(map(str, px))])
    assert bytes(map(int, got[0].split())) == C.downscale(bytes(px), sw, sh, dw, dh)


# ----------------------------------------------------------------------------- model tables
def test_desc_from_model_cortical_ids():
    from feagi_embed.connectome import develop
    from feagi_embed.genome import load_genome
    from feagi_embed.quantize import quantize
    m = quantize(develop(load_genome(GENOMES / "webots_pioneer2.json")))
    a = m.areas
    assert C.desc_for(m, a.index("o__mot")) == MOTOR
    assert C.desc_for(m, a.index("i__pro")) == PROX
    with pytest.raises(C.IoCoderError, match="has no FEAGI IO coder"):
        C.desc_for(m, a.index("i_spos"))


# ----------------------------------------------------------------------------- MicroPython
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(enc_case(), min_size=5, max_size=20), st.lists(dec_case(), min_size=5,
                                                               max_size=20))
def test_micropython_coders_equal_python_reference(tmp_path_factory, enc, dec):
    """firmware/micropython/feagi_io.py under the MicroPython unix port == coders.py."""
    import json

    from feagi_embed.targets.micropython import missing_mpy_tools, run_unix

    require(missing_mpy_tools("unix"), "MicroPython unix port")
    d = tmp_path_factory.mktemp("mpio")
    shutil.copy(ROOT / "firmware" / "micropython" / "feagi_io.py", d / "feagi_io.py")
    t = lambda x: [x.w, x.d, x.ndims, int(x.is_signed), int(x.fractional)]
    ecases = [(t(x), ch, ax, num, den) for x, den, nums in enc for ch, ax in _all(x)
              for num in nums]
    dcases = [(t(x), v, ch, ax) for x, v in dec for ch, ax in _all(x)]
    (d / "cases.json").write_text(json.dumps({"e": ecases, "d": dcases}))
    (d / "main.py").write_text(
        "import json, feagi_io as io\n"
        "c = json.load(open('cases.json'))\n"
        "for x, ch, ax, n, dn in c['e']:\n"
        "    print(json.dumps(io.encode(tuple(x), ch, ax, n, dn)))\n"
        "for x, v, ch, ax in c['d']:\n"
        "    x = tuple(x)\n"
        "    print(json.dumps(io.decode(x, io.mark(x, [tuple(t) for t in v]), ch, ax)))\n")
    r = run_unix(d, "main.py", timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    lines = r.stdout.splitlines()
    for (x, ch, ax, n, dn), line in zip(ecases, lines):
        assert [tuple(v) for v in json.loads(line)] == C.encode(IoDesc(*x[:3], *map(bool, x[3:])),
                                                               ch, ax, n, dn)
    for (x, v, ch, ax), line in zip(dcases, lines[len(ecases):]):
        desc = IoDesc(*x[:3], *map(bool, x[3:]))
        assert json.loads(line) == C.decode(desc, C.mark(desc, v), ch, ax)
    assert len(lines) == len(ecases) + len(dcases)


def test_frame_example():
    # 3 x 2 frame, row 0 on top: pixels > 1 fire, y counts up from the bottom row
    img = bytes([0, 200, 1,
                 2, 0, 255])
    assert C.encode_frame(img, 3, 2) == ([(1, 1, 200), (0, 0, 2), (2, 0, 255)], 6)
    assert C.encode_frame(img, 3, 2, x0=3, cap=1) == ([(4, 1, 200)], 3)  # resume at pixel 3
    assert C.encode_frame(img, 3, 2, start=3, cap=1) == ([(0, 0, 2)], 5)
    assert C.pixel_q(255, 16) == 65536 and C.pixel_q(128, 8) == 128


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 16), st.integers(1, 16), st.integers(0, 40), st.integers(0, 255),
       st.integers(0, 300), st.integers(0, 300), st.data())
def test_c_frame_encoder_equals_python(harness, w, h, x0, th, start, cap, data):
    px = data.draw(st.lists(st.integers(0, 255), min_size=w * h, max_size=w * h))
    lines = [f"F {w} {h} {x0} {th} {start} {cap} " + " ".join(map(str, px))]
    lines += [f"Q {p} {fb}" for p, fb in zip(px, range(17))]
    got = harness(lines)
    vals = [int(v) for v in got[0].split()]
    want, nxt = C.encode_frame(bytes(px), w, h, x0, th, min(start, 10 ** 6), min(cap, 256))
    assert vals[0] == nxt and vals[1] == len(want)
    assert [tuple(vals[2 + 3 * i: 5 + 3 * i]) for i in range(vals[1])] == want
    assert [int(g) for g in got[1:]] == [C.pixel_q(p, fb) for p, fb in zip(px, range(17))]


def test_desc_from_cortical_id_bytes():
    """Data type from ID byte 4, positioning from byte 5 bit 1; the kept accelerometer/gyroscope
    shorthands are Percentage3D Fractional (cortical_id.py)."""
    import base64
    from types import SimpleNamespace

    from feagi_embed.model import AreaTable

    raws = [b"iacc\x03\x02\x00\x00", b"omot\x05\x00\x00\x00", b"irim\x07\x02\x00\x00",
            b"idgp\x00\x00\x00\x00", b"i__acc__", b"i__gyq__", b"isvi\x49\x00\x00\x00",
            b"opse\x01\x02\x00\x00"]
    ids = tuple(base64.b64encode(r).decode() for r in raws)
    kinds = tuple("ipu" if r[:1] == b"i" else "opu" for r in raws)
    t = AreaTable(ids, ids, tuple(f"a{i}" for i in range(len(raws))),
                  tuple((6, 1, 8) for _ in raws), tuple(1 for _ in raws), kinds)
    m = SimpleNamespace(areas=t)
    assert C.desc_for(m, 0) == IoDesc(6, 8, 3, False, True)
    assert C.desc_for(m, 1) == IoDesc(6, 8, 1, True, False)
    assert C.desc_for(m, 2) == IoDesc(6, 8, 3, True, True)
    assert C.desc_for(m, 3) == IoDesc(6, 8, 0)
    assert C.desc_for(m, 4) == C.desc_for(m, 5) == IoDesc(6, 8, 3, False, True)
    with pytest.raises(C.IoCoderError, match="CartesianPlane"):
        C.desc_for(m, 6)
    assert C.desc_for(m, 7) == IoDesc(6, 8, 1, False, True)
