"""The io map (build --io) and the two-wheel robot example: validation errors name the io file,
key and value; the io map sizes the input queue; the committed example project is what `build`
generates; it builds with Debian's Arduino AVR core and, on simavr, the glue's decoded motor values
equal the Python reference (coders.py on the numba twin's fired neurons) for the same sensor
readings."""

from __future__ import annotations

import filecmp
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from feagi_embed.host.twin import Twin

from feagi_embed.boards import load_board
from feagi_embed.build import build_project
from feagi_embed.connectome import develop
from feagi_embed.genome import load_genome
from feagi_embed.io import coders
from feagi_embed.io.glue import test_reading as glue_reading
from feagi_embed.io.pinmap import IoMapError, load_io_map
from feagi_embed.plan import input_queue_len
from feagi_embed.quantize import quantize
from feagi_embed.stimulus import Stimulus
from feagi_embed.targets.emulators import run_elf
from feagi_embed.targets.pio import pio_build

from .conftest import GENOMES, ROOT, require
from .test_arduino_build import ARDUINO_AVR, CORE, _cc, _require

EXAMPLE = ROOT / "examples" / "two_wheel_robot"
IO = EXAMPLE / "io.toml"


@pytest.fixture(scope="module")
def model():
    return quantize(develop(load_genome(GENOMES / "webots_pioneer2.json")))


def _io(tmp_path, text: str) -> Path:
    p = tmp_path / "io.toml"
    p.write_text(text)
    return p


MOTOR = '[[output]]\ncortical_mapping = "o__mot"\nchannel = 0\ndrive = "hbridge"\npwm_pin = 5\ndir_pin = 4\n'


@pytest.mark.parametrize("text, match", [
    ('[[input]]\ncortical_mapping = "i__nope"\npin = "A0"\n',
     r"input\[0\]\.cortical_mapping = 'i__nope': expected an IPU \(sensor\) area of the genome: "
     r"i__pro \(Proximity sensor\)"),
    ('[[input]]\ncortical_mapping = "o__mot"\npin = "A0"\n', r"expected an IPU"),
    ('[[input]]\ncortical_mapping = "i__pro"\npin = "A16"\n',
     r"input\[0\]\.pin = 'A16': expected an analog input of mega2560: A0…A15"),
    ('[[input]]\ncortical_mapping = "i__pro"\npin = 70\nread = "digital"\n',
     r"input\[0\]\.pin = 70: expected a pin of mega2560: 0…69"),
    ('[[input]]\ncortical_mapping = "i__pro"\npin = 3\n', r"expected an analog input"),
    ('[[input]]\ncortical_mapping = "i__pro"\nchannel = 16\npin = "A0"\n',
     r"input\[0\]\.channel = 16: expected an integer 0…15"),
    (MOTOR + '[[output]]\ncortical_mapping = "o__mot"\nchannel = 1\ndrive = "pwm"\npin = 5\n',
     r"output\[1\]\.pin = 5: expected a pin not used already \(pin 5 is output\[0\]\.pwm_pin = 5\)"),
    (MOTOR.replace("pwm_pin = 5", "pwm_pin = 22"), r"output\[0\]\.pwm_pin = 22: expected a PWM pin"),
    (MOTOR.replace("dir_pin = 4", "dir_pin = 1"), r"carry Serial"),
    (MOTOR + MOTOR.replace("= 5", "= 6").replace("= 4", "= 7"), r"output\[1\]\.channel = 0: "
     r"expected a channel not bound already"),
    (MOTOR.replace("hbridge", "stepper"), r"output\[0\]\.drive = 'stepper'"),
    (MOTOR + "speed = 3\n", r"output\[0\]\.speed = 3: expected one of the keys"),
])
def test_io_map_errors_name_file_key_value(tmp_path, model, text, match):
    p = _io(tmp_path, text)
    with pytest.raises(IoMapError, match=match) as e:
        load_io_map(p, model, load_board("mega2560"))
    assert str(e.value).startswith(str(p))


def test_io_map_needs_board_pin_facts(tmp_path, model):
    with pytest.raises(IoMapError, match=r"\[pins\]: missing.*esp32, esp32c3, esp32s3, mega2560, "
                       r"nucleo_f401re, nucleo_f446re, rp2040, stm32f4, uno"):
        load_io_map(IO, model, load_board("native"))


SENSOR = '[[input]]\ncortical_mapping = "i__pro"\npin = {pin}\n'
WHEEL = ('[[output]]\ncortical_mapping = "o__mot"\nchannel = 0\ndrive = "hbridge"\n'
         'pwm_pin = {pwm}\ndir_pin = {dir}\n')


@pytest.mark.parametrize("board, text, match", [
    # ESP32 (arduino-esp32 variants/esp32/pins_arduino.h, ESP32 datasheet)
    ("esp32", SENSOR.format(pin=6), r"pin = 6: expected a free pin .*flash"),
    ("esp32", SENSOR.format(pin=3), r"pin = 3: expected a free pin"),  # UART0 RX
    ("esp32", SENSOR.format(pin=20), r"pin = 20: expected a pin of esp32: 0…39 except "
     r"\[20, 24, 28, 29, 30, 31\]"),
    ("esp32", SENSOR.format(pin=5), r"pin = 5: expected an analog input of esp32"),  # no ADC
    ("esp32", SENSOR.format(pin='"A1"'), r"pin = 'A1': expected an analog input of esp32"),
    ("esp32", WHEEL.format(pwm=34, dir=4), r"pwm_pin = 34: expected a pin that can drive an "
     r"output \(pins \[34, 35, 36, 37, 38, 39\] of esp32 are input-only\)"),
    ("esp32", WHEEL.format(pwm=25, dir=39), r"dir_pin = 39: expected a pin that can drive"),
    # ESP32-S3 / C3: flash and UART0 pins
    ("esp32s3", WHEEL.format(pwm=30, dir=4), r"pwm_pin = 30: expected a free pin"),
    ("esp32s3", SENSOR.format(pin=43), r"pin = 43: expected a free pin"),
    ("esp32c3", SENSOR.format(pin=6), r"pin = 6: expected an analog input of esp32c3"),
    ("esp32c3", WHEEL.format(pwm=14, dir=4), r"pwm_pin = 14: expected a free pin"),
    # RP2040 (Pico): GPIO 29 is VSYS/3 on the board
    ("rp2040", SENSOR.format(pin='"A3"'), r"pin = 'A3': expected a free pin"),
    ("rp2040", SENSOR.format(pin=22), r"pin = 22: expected an analog input of rp2040"),
    # Nucleo F401RE: D0/D1 = A13/A14 carry Serial; D number 46 = PA0 = A0, but analogRead wants A0
    ("nucleo_f401re", SENSOR.format(pin='"A13"'), r"pin = 'A13': expected a free pin"),
    ("nucleo_f401re", SENSOR.format(pin=46), r"pin = 46: expected an analog input of "
     r"nucleo_f401re"),
    ("nucleo_f401re", WHEEL.format(pwm=16, dir=4), r"pwm_pin = 16: expected a PWM pin"),
    ("nucleo_f446re", SENSOR.format(pin=39), r"pin = 39: expected a pin of nucleo_f446re"),
])
def test_pin_facts_of_more_boards(tmp_path, model, board, text, match):
    p = _io(tmp_path, text)
    with pytest.raises(IoMapError, match=match):
        load_io_map(p, model, load_board(board))


@pytest.mark.parametrize("board, pins, want", [
    ("esp32", ('"A4"', 25, 26), (32, 25, 26)),  # A4 = GPIO 32 (pins_arduino.h)
    ("esp32s3", ('"A0"', 38, 39), (1, 38, 39)),
    ("esp32c3", ('"A2"', 6, 7), (2, 6, 7)),
    ("rp2040", ('"A0"', 2, 3), (26, 2, 3)),
    ("nucleo_f401re", ('"A0"', 3, 4), (192, 3, 4)),  # A0 = PNUM_ANALOG_BASE + 0
    ("nucleo_f446re", ('"A5"', 5, 8), (197, 5, 8)),
])
def test_pin_facts_resolve_names(tmp_path, model, board, pins, want):
    p = _io(tmp_path, SENSOR.format(pin=pins[0]) + WHEEL.format(pwm=pins[1], dir=pins[2]))
    io = load_io_map(p, model, load_board(board))
    assert (io.inputs[0].pin, io.outputs[0].pin, io.outputs[0].pin2) == want


def test_io_map_sizes_the_input_queue(model):
    io = load_io_map(IO, model, load_board("mega2560"))
    assert io.queue_need() == 2  # two Linear proximity channels: one voxel each per burst
    st = Stimulus.from_json({"stimuli": [{"bursts": [1, 1], "area": "i__pro", "kind": "inject",
                                          "value": 1.0,
                                          "voxels": [[x, 0, z] for x in range(16)
                                                     for z in range(10)]}]})
    # the test schedule's 160 entries and the io map's 2 share burst 1
    assert input_queue_len(model, st, 1) == 160
    assert input_queue_len(model, st, 1, io_need=io.queue_need()) == 162
    assert input_queue_len(model, None, 1, io_need=2) == 160  # every proximity voxel anyway


def test_committed_example_is_what_build_generates(tmp_path, model):
    out = tmp_path / "firmware"
    build_project(model, "mega2560", out, io_map=IO)
    proj = EXAMPLE / "firmware"
    fresh = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert fresh == sorted(p.relative_to(proj) for p in proj.rglob("*") if p.is_file())
    diff = [str(r) for r in fresh if r.name != ".feagi-embed.json" and
            not filecmp.cmp(out / r, proj / r, shallow=False)]
    assert not diff, f"regenerate examples/two_wheel_robot/firmware (README.md): {diff}"
    # a rebuild keeps the user's code
    user = out / "src" / "feagi_user.cpp"
    user.write_text(user.read_text() + "\n// mine\n")
    build_project(model, "mega2560", out, io_map=IO)
    assert user.read_text().endswith("// mine\n")


def _reference_motors(model, io, bursts: int) -> list[tuple[int, int, int]]:
    """(burst, output, q16) the glue must print: test readings -> coders.encode -> twin ->
    fired OPU voxels -> coders.decode (holding the last value)."""
    areas = model.areas
    stimuli = []
    for b in range(1, bursts + 1):
        for i, s in enumerate(io.inputs):
            num, den = coders.scale(glue_reading(i, b, s.lo, s.hi), s.lo, s.hi,
                                    io.descs[s.area].is_signed, s.invert)
            vox = coders.encode(io.descs[s.area], s.channel, s.axis, num, den)
            if vox:
                stimuli.append({"bursts": [b, b], "area": areas.genome_ids[s.area],
                                "kind": "inject", "value": 1.0,
                                "voxels": [[x, 0, z] for x, z in vox]})
    tr = Twin(model).run(bursts, Stimulus.from_json({"stimuli": stimuli}))
    value = [0] * len(io.outputs)
    out = []
    for b in range(1, bursts + 1):
        ids = np.asarray(tr.fired[b - 1], np.int64)
        a, x, y, z, _k = model.neuron_coords(ids) if len(ids) else ([],) * 5
        for i, o in enumerate(io.outputs):
            d = io.descs[o.area]
            fired = [(int(xx), int(yy), int(zz)) for aa, xx, yy, zz in zip(a, x, y, z)
                     if aa == o.area]
            q = coders.decode(d, coders.mark(d, fired), o.channel, o.axis)
            if q is not None:
                value[i] = q
            out.append((b, i, value[i]))
    return out


def test_example_glue_on_simavr_equals_python_reference(tmp_path, model):
    _require()
    bursts = 40
    proj = build_project(model, "mega2560", tmp_path / "robot", io_map=IO, bursts=bursts).out_dir
    includes = [CORE, ARDUINO_AVR / "variants" / "mega", proj / "include",
                proj / "lib" / "feagi_runtime" / "src"]
    objs = []
    for i, src in enumerate(sorted([*CORE.glob("*.c"), *CORE.glob("*.cpp"), *CORE.glob("*.S")])):
        objs.append(tmp_path / f"core{i}.o")
        _cc(src, objs[-1], includes, [])
    pb = pio_build(proj, "atmelavr", "arduino")
    assert proj / "src" / "feagi_io_glue.cpp" in pb.sources
    assert proj / "lib" / "feagi_runtime" / "src" / "feagi_io.c" in pb.sources
    includes += [d for d in pb.include_dirs if d not in includes]
    for i, src in enumerate(pb.sources):
        objs.append(tmp_path / f"ours{i}.o")
        _cc(src, objs[-1], includes, ["-Wall", "-Wextra", "-Werror", "-DFEAGI_SIMAVR_EXIT=1",
                                      "-DFEAGI_IO_TRACE=1", "-DFEAGI_IO_TEST_READINGS=1"])
    elf = tmp_path / "robot.elf"
    r = subprocess.run(["avr-gcc", "-mmcu=atmega2560", "-Os", "-Wl,--gc-sections",
                        *map(str, objs), "-o", str(elf), "-lm"], capture_output=True, text=True,
                       check=False)
    assert r.returncode == 0, r.stderr[-3000:]
    run = run_elf("mega2560", elf, timeout=300)
    assert run.exit_code == 0, (run.stdout[-800:], run.stderr[-800:])
    got = [tuple(map(int, m)) for m in re.findall(r"^M (\d+) (\d+) (-?\d+)\r?$", run.stdout,
                                                  re.MULTILINE)]
    io = load_io_map(IO, model, load_board("mega2560"))
    want = _reference_motors(model, io, bursts)
    assert len(got) == bursts * 2
    assert got == want
    assert any(q != 0 for _, _, q in want), "the stimulus never moved a wheel"


def test_cli_build_io(tmp_path):
    from click.testing import CliRunner

    from feagi_embed.cli import main

    out = tmp_path / "robot"
    r = CliRunner().invoke(main, ["build", "webots_pioneer2", "--board", "mega2560", "--io",
                                  str(IO), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert (out / "src" / "feagi_io_glue.cpp").is_file()
    bad = _io(tmp_path, MOTOR.replace("pwm_pin = 5", "pwm_pin = 99"))
    r = CliRunner().invoke(main, ["build", "webots_pioneer2", "--board", "mega2560", "--io",
                                  str(bad), "--out", str(tmp_path / "other")])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert f"{bad}: output[0].pwm_pin = 99: expected a pin of mega2560" in r.output
    assert not (tmp_path / "other").exists()  # nothing written
    # the same pins exist on an uno, but the brain does not fit its 2 KB of SRAM: refused
    r = CliRunner().invoke(main, ["build", "webots_pioneer2", "--board", "uno", "--io", str(IO),
                                  "--out", str(tmp_path / "uno")])
    assert r.exit_code == 2 and "model does not fit uno" in r.output, r.output


def test_example_native_env_compiles_and_links(tmp_path):
    """`pio run -e native` of the example: src/ + the libraries admitted on native (runtime with
    the coders, the native HAL) compile with -Werror and link; the glue compiles to nothing off
    Arduino."""
    gcc = shutil.which("gcc")
    require([t for t in ("gcc", "g++") if shutil.which(t) is None], "native build")
    proj = EXAMPLE / "firmware"
    pb = pio_build(proj, "native")
    names = {p.name for p in pb.sources}
    assert {"feagi_io.c", "feagi_io_glue.cpp", "hal_native.c"} <= names
    r = subprocess.run([gcc, "-std=c99", "-O1", "-Wall", "-Wextra", "-Werror", "-x", "c",
                        *[str(p) for p in pb.sources if p.suffix == ".c"],
                        *[f"-I{d}" for d in pb.include_dirs], "-o", str(tmp_path / "fw")],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr[-3000:]
    for cpp in (p for p in pb.sources if p.suffix == ".cpp"):
        r = subprocess.run(["g++", "-Wall", "-Wextra", "-Werror", "-c", str(cpp),
                            *[f"-I{d}" for d in pb.include_dirs], "-o", str(tmp_path / "x.o")],
                           capture_output=True, text=True, check=False)
        assert r.returncode == 0, r.stderr[-2000:]


def test_glue_of_every_drive_compiles_for_avr(tmp_path, model):
    """Servo, PWM, digital outputs and a digital input: the generated glue compiles with -Werror
    against the Arduino AVR core (Debian ships no Servo library: a declaration-only stand-in
    with Servo's attach/write signatures is put on the include path)."""
    _require()
    io = _io(tmp_path, '''
[[input]]
cortical_mapping = "i__pro"
channel = 3
pin = 23
read = "digital"
invert = true

[[output]]
cortical_mapping = "o__mot"
channel = 0
drive = "servo"
pin = 9
angle = [20, 160]

[[output]]
cortical_mapping = "o__mot"
channel = 1
drive = "pwm"
pin = 10
''')
    proj = build_project(model, "mega2560", tmp_path / "p", io_map=io).out_dir
    glue = proj / "src" / "feagi_io_glue.cpp"
    assert "#define FEAGI_IO_HAS_SERVO 1" in (proj / "include" / "feagi_io_map.h").read_text()
    stub = tmp_path / "stub"
    stub.mkdir()
    (stub / "Servo.h").write_text("#pragma once\nclass Servo {\npublic:\n"
                                  "  unsigned char attach(int pin);\n  void write(int value);\n};\n")
    pb = pio_build(proj, "atmelavr", "arduino")
    includes = [CORE, ARDUINO_AVR / "variants" / "mega", stub, *pb.include_dirs]
    _cc(glue, tmp_path / "glue.o", includes, ["-Wall", "-Wextra", "-Werror"])
    nm = subprocess.run(["avr-nm", "-C", str(tmp_path / "glue.o")], capture_output=True,
                        text=True, check=True).stdout
    assert "Servo::write" in nm and "analogWrite" in nm and "digitalRead" in nm


ESP32_IO = """
[[input]]
name = "left_proximity"
cortical_mapping = "i__pro"
channel = 0
pin = 34
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
pwm_pin = 25
dir_pin = 26
[[output]]
name = "right_wheel"
cortical_mapping = "o__mot"
channel = 1
drive = "hbridge"
pwm_pin = 32
dir_pin = 33
"""

MPY_DRIVER = """
import feagi_engine, feagi_io_glue
engine = feagi_engine.Engine()
glue = feagi_io_glue.Glue(engine, feagi_io_glue.TestReadings())
for b in range(1, BURSTS + 1):
    glue.before_burst(b)
    engine.burst()
    for i, q in enumerate(glue.after_burst(b)):
        print("M", b, i, q)
print("D", glue.dropped)
"""


def test_micropython_io_glue_in_unix_port_equals_python_reference(tmp_path, model):
    """`build --lang micropython --io` for esp32: the packaged coders and glue, driven by the
    glue's test readings in the MicroPython unix port, give the motor values of the Python
    reference (coders.py over the numba twin); GPIO 34 and A3 (= GPIO 39) are the ADC pins."""
    from feagi_embed.build import build_micropython
    from feagi_embed.targets import micropython as mpyrun

    from .test_micropython import need

    need("unix")
    io_path = _io(tmp_path, ESP32_IO)
    out = tmp_path / "pkg"
    res = build_micropython(model, "esp32", out, io_map=io_path)
    assert {"feagi_io.py", "feagi_io_glue.py", "feagi_io_map.py"} <= {p.name for p in res.files}
    assert "feagi_io_glue.Glue(engine)" in (out / "main.py").read_text()
    bursts = 40
    (out / "robot_test.py").write_text(MPY_DRIVER.replace("BURSTS", str(bursts)))
    r = mpyrun.run_unix(out, "robot_test.py", timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    got = [tuple(map(int, m)) for m in re.findall(r"^M (\d+) (\d+) (-?\d+)$", r.stdout, re.M)]
    io = load_io_map(io_path, model, load_board("esp32"))
    assert [p.pin for p in io.inputs] == [34, 39]
    want = _reference_motors(model, io, bursts)
    assert got == want
    assert any(q != 0 for _, _, q in want)
    assert "D 0" in r.stdout


def test_micropython_io_refuses_pin_named_ports(tmp_path, model):
    from feagi_embed.build import build_micropython

    with pytest.raises(IoMapError, match=r"numbers pins by GPIO.*got nucleo_f401re \(port stm32\)"):
        build_micropython(model, "nucleo_f401re", tmp_path / "p", io_map=IO)


def test_micropython_io_glue_type_checks_against_micropython_stubs(tmp_path, model):
    """The io package's modules type-check against the MicroPython stubs (machine.ADC / Pin /
    PWM signatures: a misspelt call or wrong argument fails here)."""
    from feagi_embed.build import build_micropython
    from feagi_embed.targets import micropython as mpyrun

    from .test_micropython import need

    need("mypy")
    stubs = ROOT / ".tools" / "mpy-stubs"
    if not (stubs / "machine.pyi").is_file():
        require(f"MicroPython stubs in {stubs} (bash .ci/install-toolchains.sh)")
    out = tmp_path / "pkg"
    build_micropython(model, "esp32", out, io_map=_io(tmp_path, ESP32_IO))
    ini = tmp_path / "mypy.ini"
    ini.write_text(f"[mypy]\ncustom_typeshed_dir = {stubs}\nmypy_path = {stubs}\n"
                   "check_untyped_defs = True\n"
                   "[mypy-machine,vfs,_mpy_shed.*,micropython,time,esp32,network]\n"
                   "ignore_errors = True\n")
    files = ["feagi_io.py", "feagi_io_glue.py", "feagi_io_map.py"]
    r = subprocess.run([mpyrun._tool("mypy"), "--config-file", str(ini), "--cache-dir",
                        str(tmp_path / "cache"), *files], cwd=out, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:]
