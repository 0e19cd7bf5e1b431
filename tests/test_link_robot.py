"""Robot I/O over the two-way link (docs/link.md "Robot I/O over the link"): the host client sends
sensor values, the emulated board encodes them with the io map's FEAGI coders, runs its bursts,
decodes its motors and sends MotorValues back.

Boards: the generated Arduino sketch built with `--link` for an ATmega2560 (Debian's Arduino AVR
core, simavr, USART0 driven through HardwareSerial) and the bare-metal link firmware on QEMU's
netduinoplus2 (STM32F405, Cortex-M4F, USART1). Independent expectations: the Python reference
coders (feagi_embed/io/coders.py) encode the same sensor stream into a stimulus for the numba twin,
whose burst digests the device must reproduce, and decode the twin's fired OPU voxels into the
motor values the device must send. The link's RAM in the capacity plan is checked against the
compiled object's .bss (avr-size)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from feagi_embed.boards import load_board
from feagi_embed.build import build_project, c_plan, report
from feagi_embed.plan import budget_for
from feagi_embed.connectome import develop
from feagi_embed.genome import load_genome
from feagi_embed.io import coders
from feagi_embed.io.glue import test_reading as glue_reading
from feagi_embed.io.pinmap import load_io_map
from feagi_embed.link import protocol as P
from feagi_embed.link.protocol import LinkError
from feagi_embed.plan.link import LINK_RAM, link_ram
from feagi_embed.quantize import quantize
from feagi_embed.stimulus import Stimulus
from feagi_embed.targets.pio import pio_build

from .conftest import GENOMES, ROOT, assert_clean_link, link_up, require, require_board
from .test_arduino_build import ARDUINO_AVR, CORE, _cc, _require

EXAMPLE_IO = ROOT / "examples" / "two_wheel_robot" / "io.toml"
#: the example's bindings on the STM32F405 (A0/A1 carry its Serial there)
STM32_IO = """
[[input]]
name = "left_proximity"
cortical_mapping = "i__pro"
channel = 0
pin = "A2"
[[input]]
name = "right_proximity"
cortical_mapping = "i__pro"
channel = 7
pin = "A3"
[[output]]
name = "left_wheel"
cortical_mapping = "o__mot"
channel = 0
drive = "hbridge"
pwm_pin = 5
dir_pin = 4
[[output]]
name = "right_wheel"
cortical_mapping = "o__mot"
channel = 1
drive = "hbridge"
pwm_pin = 6
dir_pin = 12
"""


@pytest.fixture(scope="module")
def model():
    return quantize(develop(load_genome(GENOMES / "webots_pioneer2.json")))


def sensor_stream(io, bursts: int) -> list[list[tuple]]:
    """Per burst: (area, channel, axis, num, den) of every io-map sensor, from the glue's test
    readings scaled as the glue scales a pin reading (coders.scale)."""
    out = []
    for b in range(1, bursts + 1):
        row = []
        for i, s in enumerate(io.inputs):
            num, den = coders.scale(glue_reading(i, b, s.lo, s.hi), s.lo, s.hi,
                                    io.descs[s.area].is_signed, s.invert)
            row.append((s.area, s.channel, s.axis, num, den))
        out.append(row)
    return out


def reference(model, io, stream):
    """The twin driven by the reference encoding of ``stream`` (potential 1.0 per voxel, as the
    device injects) and, per burst, (output, fired, q16) from the reference decoders on the twin's
    fired neurons, holding the last value."""
    from feagi_embed.host.twin import Twin

    areas, stimuli = model.areas, []
    for b, row in enumerate(stream, 1):
        for a, ch, ax, num, den in row:
            vox = coders.encode(io.descs[a], ch, ax, num, den)
            if vox:
                stimuli.append({"bursts": [b, b], "area": areas.genome_ids[a], "kind": "inject",
                                "value": 1.0, "voxels": [[x, 0, z] for x, z in vox]})
    tr = Twin(model).run(len(stream), Stimulus.from_json({"stimuli": stimuli}))
    held = [0] * len(io.outputs)
    motors = []
    for b in range(len(stream)):
        ids = np.asarray(tr.fired[b], np.int64)
        a, x, y, z, _k = model.neuron_coords(ids) if len(ids) else ([],) * 5
        row = []
        for i, o in enumerate(io.outputs):
            d = io.descs[o.area]
            fired = [(int(xx), int(yy), int(zz)) for aa, xx, yy, zz in zip(a, x, y, z)
                     if aa == o.area]
            q = coders.decode(d, coders.mark(d, fired), o.channel, o.axis)
            if q is not None:
                held[i] = q
            row.append((i, int(q is not None), held[i]))
        motors.append(row)
    return tr, motors


def drive(cl, model, stream):
    """Hello, then per burst: SensorValue frames, Run(1); the BurstResults. ``cl.boot_stats``:
    the device's receive counters right after hello (conftest.link_up)."""
    link_up(cl)
    cl.set_trace(P.TRACE_BURST | P.TRACE_MOTOR)
    got = []
    for row in stream:
        data: dict = {}
        for a, ch, ax, num, den in row:
            data.setdefault(model.areas.genome_ids[a], {})[ch if ax == 0 else f"{ch}-{ax}"] = \
                (num, den)
        cl.send_sensor_values(data)
        got += cl.run(1)
    return got


def check(model, io, stream, got, cb):
    tr, want = reference(model, io, stream)
    assert [r.burst for r in got] == list(range(1, len(stream) + 1))
    assert [r.crc for r in got] == [int(c) for c in tr.burst_crc], "burst digests differ"
    assert [[(o, f, q) for o, _a, _c, _x, f, q in r.motors] for r in got] == want
    areas = {o.area for o in io.outputs}
    assert all({a for _o, a, _c, _x, _f, _q in r.motors} == areas for r in got)
    assert any(q != 0 for row in want for _, _, q in row), "the stimulus never moved a wheel"
    assert any(f == 0 for row in want for _, f, _ in row), "no burst held a value"
    # the callback: {genome id: {channel: value}} after every burst
    assert [b for b, _ in cb] == list(range(1, len(stream) + 1))
    gid = model.areas.genome_ids[io.outputs[0].area]
    assert cb[-1][1] == {gid: {o.channel: want[-1][i][2] / 65536
                               for i, o in enumerate(io.outputs)}}


def test_robot_over_link_qemu_cortex_m4(tmp_path, model):
    """STM32F405 on QEMU over USART1: link_main + feagi_io_link.c."""
    from feagi_embed.link.client import LinkClient, ProcessTransport
    from feagi_embed.link.firmware import build_link_firmware, link_command

    require_board("stm32f4")
    io_path = tmp_path / "io.toml"
    io_path.write_text(STM32_IO)
    io = load_io_map(io_path, model, load_board("stm32f4"))
    stream = sensor_stream(io, 30)
    elf = build_link_firmware(model, "stm32f4", tmp_path / "fw", io_map=io_path)
    tr = ProcessTransport(link_command("stm32f4", elf), close_timeout=1)
    cb: list = []
    cl = LinkClient(tr, model, timeout=60, on_motors=lambda b, m: cb.append((b, m)))
    try:
        got = drive(cl, model, stream)
        stats = cl.stats()
        # an area the io map does not bind is refused on the device, not encoded
        cl.send_sensor_values({"o__mot": {0: 0.5}})
        # Reset: burst 0 again, held motor values back to 0
        cl.reset()
        (after,) = cl.run(1)
    finally:
        tr.close()
    tr0, want0 = reference(model, io, [[]])
    assert after.burst == 1 and after.crc == int(tr0.burst_crc[0])
    assert [(o, f, q) for o, _a, _c, _x, f, q in after.motors] == want0[0]
    assert cl.refused and cl.refused[-1].status == -13 and cl.refused[-1].n_bad == 1
    assert len(cl.refused) == 1
    assert_clean_link(cl, stats)
    assert len(cb) == len(stream) + 1  # the burst after the reset reported too
    check(model, io, stream, got, cb[:-1])


def _arduino_link_elf(tmp_path: Path, model) -> Path:
    """The `build --link --io` project for mega2560 compiled as PlatformIO would (src/ +
    lib/*/src) against Debian's Arduino AVR core, -Wall -Wextra -Werror on our files."""
    proj = build_project(model, "mega2560", tmp_path / "robot", io_map=EXAMPLE_IO,
                         link=True).out_dir
    includes = [CORE, ARDUINO_AVR / "variants" / "mega", proj / "include",
                proj / "lib" / "feagi_runtime" / "src"]
    objs = []
    for i, src in enumerate(sorted([*CORE.glob("*.c"), *CORE.glob("*.cpp"), *CORE.glob("*.S")])):
        objs.append(tmp_path / f"core{i}.o")
        _cc(src, objs[-1], includes, [])
    pb = pio_build(proj, "atmelavr", "arduino")
    names = {p.name for p in pb.sources}
    assert {"feagi_link.c", "feagi_io_link.c", "feagi_arduino.cpp"} <= names
    includes += [d for d in pb.include_dirs if d not in includes]
    for i, src in enumerate(pb.sources):
        objs.append(tmp_path / f"ours{i}.o")
        _cc(src, objs[-1], includes, ["-Wall", "-Wextra", "-Werror", "-DFEAGI_SIMAVR_EXIT=1"])
    elf = tmp_path / "robot.elf"
    r = subprocess.run(["avr-gcc", "-mmcu=atmega2560", "-Os", "-Wl,--gc-sections",
                        *map(str, objs), "-o", str(elf), "-lm"], capture_output=True, text=True,
                       check=False)
    assert r.returncode == 0, r.stderr[-3000:]
    return elf


def test_robot_over_link_arduino_sketch_simavr(tmp_path, model):
    """The generated Arduino sketch (`build --link`) on an ATmega2560 under simavr: Serial
    (HardwareSerial on USART0) carries the link."""
    from feagi_embed.link.client import LinkClient, ProcessTransport
    from feagi_embed.link.firmware import link_command

    _require()
    require_board("mega2560")
    io = load_io_map(EXAMPLE_IO, model, load_board("mega2560"))
    stream = sensor_stream(io, 30)
    elf = _arduino_link_elf(tmp_path, model)
    tr = ProcessTransport(link_command("mega2560", elf), close_timeout=60)
    cb: list = []
    cl = LinkClient(tr, model, timeout=60, on_motors=lambda b, m: cb.append((b, m)))
    try:
        got = drive(cl, model, stream)
        stats = cl.stats()
    finally:
        rc = tr.close()
    assert rc == 0, tr.stderr
    assert cl.refused == []
    assert_clean_link(cl, stats)
    check(model, io, stream, got, cb)


def test_link_ram_matches_the_compiled_object(tmp_path, model):
    """LINK_RAM (what the capacity plan counts) equals feagi_link.c's .bss + .data on AVR
    (no padding), and the io part equals feagi_io_link.c's for the example io map."""
    require([] if shutil.which("avr-gcc") else ["avr-gcc"], "avr-size")
    proj = build_project(model, "mega2560", tmp_path / "p", io_map=EXAMPLE_IO, link=True).out_dir
    inc = [f"-I{proj / 'include'}", f"-I{proj / 'lib' / 'feagi_runtime' / 'src'}"]

    def ram(src: Path) -> int:
        obj = tmp_path / (src.stem + ".o")
        subprocess.run(["avr-gcc", "-mmcu=atmega2560", "-Os", "-std=c99", *inc, "-c", str(src),
                        "-o", str(obj)], check=True)
        out = subprocess.run(["avr-size", "-A", str(obj)], capture_output=True, text=True,
                             check=True).stdout
        return sum(int(ln.split()[1]) for ln in out.splitlines()
                   if ln.split() and ln.split()[0] in (".bss", ".data"))

    assert ram(proj / "lib" / "feagi_runtime" / "src" / "feagi_link.c") == sum(LINK_RAM.values())
    io = load_io_map(EXAMPLE_IO, model, load_board("mega2560"))
    parts = link_ram(model, io)
    assert ram(proj / "src" / "feagi_io_link.c") == parts["io map: OPU bitmaps, actuator values"]


def test_link_ram_in_capacity_check_and_report(tmp_path, model):
    """A build with the link keeps its RAM free: the report lists it, and a model that fits
    only without the link is refused with it."""
    from feagi_embed.plan import CapacityError

    b = load_board("mega2560")
    plan = c_plan(model, b)
    lram = link_ram(model)
    rep = report(model, b, plan, link=lram)
    assert rep["regions"]["ram"]["link"] == sum(LINK_RAM.values()) == 1069
    assert rep["regions"]["ram"]["used"] == plan.static_bytes + 1069
    assert rep["link"] == lram
    # uno: webots_pioneer2 needs more than its 2 KB either way; logic_and_gate fits without the
    # link, and with it only if 1069 B remain
    small = quantize(develop(load_genome(GENOMES / "logic_and_gate.json")))
    uno = load_board("uno")
    p = c_plan(small, uno)
    free = budget_for(uno).static_ram - p.static_bytes
    if free >= 1069:
        build_project(small, uno, tmp_path / "u", link=True)
    else:
        with pytest.raises(CapacityError):
            build_project(small, uno, tmp_path / "u", link=True)


def test_client_sensor_values_errors(model):
    from feagi_embed.link.client import LinkClient

    cl = LinkClient(None, model)
    with pytest.raises(LinkError, match="not in the genome"):
        cl.send_sensor_values({"i__nope": {0: 0.5}})
    with pytest.raises(LinkError, match=r"value 1.5; expected a fraction"):
        cl.send_sensor_values({"i__pro": {0: 1.5}})
    with pytest.raises(LinkError, match="channel 'x'"):
        cl.send_sensor_values({"i__pro": {"x": 0.5}})
    with pytest.raises(LinkError, match="den <= 65535"):
        P.sensor_value_frames([(0, 0, 0, 1, 70000)])
    # layout by hand: n, {area u16, channel u16, axis u8, num i32, den u16}
    (fr,) = P.sensor_value_frames([(3, 7, 0, -5, 1023)], seq=9)
    f = P.decode_frame(fr[:-1])
    assert (f.type, f.seq, f.body) == (0x0B, 9, bytes([1, 3, 0, 7, 0, 0]) +
                                       (-5).to_bytes(4, "little", signed=True) +
                                       (1023).to_bytes(2, "little"))
    m = P.parse_message(P.Frame(1, P.MOTOR_VALUES, 0, (5).to_bytes(4, "little") + bytes([1, 0]) +
                                bytes([1, 2, 0, 1, 0, 0, 1]) + (32768).to_bytes(4, "little")))
    assert m == P.MotorValues(5, ((1, 2, 1, 0, 1, 32768),), False)


def test_cli_build_and_report_link(tmp_path):
    import json

    from click.testing import CliRunner

    from feagi_embed.cli import main

    out = tmp_path / "robot"
    r = CliRunner().invoke(main, ["build", "webots_pioneer2", "--board", "mega2560", "--io",
                                  str(EXAMPLE_IO), "--link", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "+ 1,090 B static for the link" in r.output  # 1,069 + io part 21: bitmap (40 bits = 5) + 1, (4 + 1) x (2 actuators + 1)
    assert (out / "lib" / "feagi_runtime" / "src" / "feagi_link.c").is_file()
    assert (out / "src" / "feagi_io_link.c").is_file()
    sketch = (out / "src" / "feagi_arduino.cpp").read_text()
    assert "feagi_link_service()" in sketch and "feagi_test_queue" not in sketch
    # rebuilt without --link: the link files go, the sketch runs the test schedule again
    r = CliRunner().invoke(main, ["build", "webots_pioneer2", "--board", "mega2560", "--io",
                                  str(EXAMPLE_IO), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert not (out / "src" / "feagi_io_link.c").exists()
    assert "feagi_link_service" not in (out / "src" / "feagi_arduino.cpp").read_text()
    r = CliRunner().invoke(main, ["report", "webots_pioneer2", "--board", "mega2560", "--link",
                                  "--json"])
    assert r.exit_code == 0, r.output
    rep = json.loads(r.output)
    assert rep["regions"]["ram"]["link"] == 1069 and sum(rep["link"].values()) == 1069
    r = CliRunner().invoke(main, ["build", "webots_pioneer2", "--board", "wasm", "--link"])
    assert r.exit_code == 2 and "--link builds the serial link" in r.output
    r = CliRunner().invoke(main, ["build", "webots_pioneer2", "--board", "wasm", "--io",
                                  str(EXAMPLE_IO)])
    assert r.exit_code == 2 and "--board wasm has none" in r.output
    # MicroPython: --io packages the glue; a pin-named port is refused with the io file named
    r = CliRunner().invoke(main, ["build", "webots_pioneer2", "--board", "nucleo_f401re",
                                  "--lang", "micropython", "--io", str(EXAMPLE_IO), "--out",
                                  str(tmp_path / "mpy")])
    assert r.exit_code == 2 and f"{EXAMPLE_IO}: --io with --lang micropython" in r.output


def test_monitor_motor_rows(model):
    from feagi_embed.link.monitor import motor_rows

    assert motor_rows(model, [(0, 9, 0, 0, 1, 16384), (1, 9, 1, 0, 0, -65536)]) == {
        "motor o__mot 0": "+0.2500", "motor o__mot 1": "-1.0000 (held)"}


def test_sensor_values_fuzzed_native_sanitizers(tmp_path, model):
    """The native link build with the example io map under ASan + UBSan: 200 bursts of
    SensorValue frames with random fields (unbound areas, channels and axes outside the area,
    den 0, |num| > den, negative unsigned values mixed with valid items). Every item's status is
    the one worked out here from the io map; the valid items, encoded by coders.py, drive the
    twin to the device's digests and the reference decoders to its motor values."""
    import struct

    from feagi_embed.link.client import LinkClient, ProcessTransport
    from feagi_embed.link.firmware import build_link_firmware, link_command

    require([t for t in ("gcc",) if shutil.which(t) is None], "native sanitizer build")
    io = load_io_map(EXAMPLE_IO, model, load_board("mega2560"))
    (ipu,) = {s.area for s in io.inputs}
    desc = io.descs[ipu]
    elf = build_link_firmware(model, "native", tmp_path / "fw", sanitize=True,
                              io_map=EXAMPLE_IO, io_board="mega2560")
    tr = ProcessTransport(link_command("native", elf))
    cb: list = []
    cl = LinkClient(tr, model, timeout=30, on_motors=lambda b, m: cb.append((b, m)))
    rng = np.random.default_rng(11)

    def expect(a, ch, ax, num, den):
        if a != ipu:
            return -13
        if ch >= desc.w // desc.ndims or ax >= desc.ndims:
            return -1
        if den == 0 or num > den or num < 0:
            return -3
        return 0

    stream, got = [], []
    try:
        cl.hello()
        cl.set_trace(P.TRACE_BURST | P.TRACE_MOTOR)
        for b in range(200):
            items = []
            for _ in range(int(rng.integers(0, 23))):
                den = int(rng.integers(0, 65536))
                num = int(rng.integers(0, den + 1)) if rng.random() < 0.8 else \
                    int(rng.integers(-70000, 70000))
                items.append((int(rng.choice([ipu] * 9 + [int(rng.integers(0, 0x10000))])),
                              int(rng.integers(0, 20)), int(rng.choice([0] * 9 + [1, 7])),
                              num, den))
            body = bytes([len(items)]) + b"".join(struct.pack("<HHBiH", *it) for it in items)
            cl.t.write(P.encode_frame(P.SENSOR_VALUE, body, (b + 7) & 0xFF))
            ack, _ = cl._wait(lambda m: isinstance(m, P.Ack) and m.type == P.SENSOR_VALUE,
                              "Ack of SensorValue")
            codes = [expect(*it) for it in items]
            assert (ack.n_ok, ack.n_bad) == (codes.count(0), len(codes) - codes.count(0))
            assert ack.status == next((c for c in codes if c), 0)
            stream.append([it for it, c in zip(items, codes) if c == 0])
            got += cl.run(1)
        stats = cl.stats()
    finally:
        rc = tr.close()
    assert rc == 0, tr.stderr[-3000:]
    assert "runtime error" not in tr.stderr and "AddressSanitizer" not in tr.stderr
    assert sum(stats[k] for k in P.STAT_NAMES[1:8]) == 0
    assert sum(len(r) for r in stream) > 800 and stats["item_errors"] > 300
    check(model, io, stream, got, cb)


def test_link_project_native_env_compiles_links_and_runs(tmp_path, model):
    """`pio run -e native` of a `--link --io` project: src/ + lib/*/src (the link and
    feagi_io_link.c included) compile with -Werror and link; the test driver runs and prints its
    protocol (the link compiled in is not served there: its weak byte reader reads end of
    stream)."""
    require([t for t in ("gcc", "g++") if shutil.which(t) is None], "native build")
    proj = build_project(model, "native", tmp_path / "p", io_map=EXAMPLE_IO, link=True,
                         io_board="mega2560", bursts=5).out_dir
    pb = pio_build(proj, "native")
    names = {p.name for p in pb.sources}
    assert {"feagi_link.c", "feagi_io_link.c", "hal_native.c", "main.c"} <= names
    exe = tmp_path / "fw"
    r = subprocess.run(["gcc", "-std=c99", "-O1", "-Wall", "-Wextra", "-Werror", "-x", "c",
                        *[str(p) for p in pb.sources if p.suffix == ".c"],
                        *[f"-I{d}" for d in pb.include_dirs], "-o", str(exe)],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr[-3000:]
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0 and len(re.findall(r"^B ", run.stdout, re.M)) == 5
