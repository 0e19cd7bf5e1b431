"""The PlatformIO project's Arduino-framework build (`framework = arduino`) really works.

PlatformIO cannot download its platforms here, so the test builds what `pio run -e mega2560` would
build: Debian's Arduino AVR core (arduino-core-avr, the same ArduinoCore-avr sources PlatformIO's
atmelavr platform uses) plus the project's src/ and lib/ with avr-gcc, links it, runs it in simavr
and compares the B/S/E lines the sketch prints on Serial with the numba twin (independent
expectation). Tools missing → skip, unless FEAGI_EMBED_REQUIRE_TOOLS=1 (CI installs them).
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from feagi_embed.boards import load_board
from feagi_embed.build import build_project
from feagi_embed.trace import parse_protocol
from feagi_embed.connectome import develop
from feagi_embed.genome import load_genome
from feagi_embed.host.twin import Twin
from feagi_embed.quantize import quantize
from feagi_embed.stimulus import Stimulus
from feagi_embed.targets import missing_run_tools
from feagi_embed.targets.emulators import run_elf
from feagi_embed.targets.pio import pio_build

from .conftest import FIXTURES, GENOMES, require

ARDUINO_AVR = Path("/usr/share/arduino/hardware/arduino/avr")
CORE = ARDUINO_AVR / "cores" / "arduino"
MCU_FLAGS = ["-mmcu=atmega2560", "-DF_CPU=16000000L", "-DARDUINO=10807",
             "-DARDUINO_AVR_MEGA2560", "-DARDUINO_ARCH_AVR", "-Os", "-ffunction-sections",
             "-fdata-sections", "-DDECIMAL_DIG=9"]
CXX_FLAGS = ["-std=gnu++11", "-fno-exceptions", "-fno-threadsafe-statics"]


def _require():
    missing = [t for t in ("avr-gcc", "avr-g++") if shutil.which(t) is None]
    if not CORE.is_dir():
        missing.append("arduino-core-avr")
    missing += missing_run_tools(load_board("mega2560"))
    require(missing, "Arduino build for mega2560")


def _cc(src: Path, obj: Path, includes: list[Path], extra: list[str]) -> None:
    tool = "avr-g++" if src.suffix == ".cpp" else "avr-gcc"
    lang = CXX_FLAGS if src.suffix == ".cpp" else (["-x", "assembler-with-cpp"]
                                                  if src.suffix == ".S" else ["-std=gnu11"])
    cmd = [tool, *MCU_FLAGS, *lang, *extra, *[f"-I{i}" for i in includes], "-c", str(src),
           "-o", str(obj)]
    r = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert r.returncode == 0, f"{' '.join(cmd)}\n{r.stderr[-3000:]}"


def test_arduino_sketch_runs_bit_exact_on_simavr_mega2560(tmp_path):
    _require()
    genome = "webots_pioneer2"
    with gzip.open(FIXTURES / "traces" / f"{genome}.json.gz", "rt") as f:
        stim = Stimulus.from_json(json.load(f)["stimulus"])
    model = quantize(develop(load_genome(GENOMES / f"{genome}.json")))
    bursts, every = 30, 10
    proj = build_project(model, "mega2560", tmp_path / "proj", stimulus=stim, bursts=bursts,
                         state_every=every).out_dir
    sketch = proj / "src" / "feagi_arduino.cpp"
    assert sketch.exists() and "void loop()" in sketch.read_text()
    includes = [CORE, ARDUINO_AVR / "variants" / "mega", proj / "include",
                proj / "lib" / "feagi_runtime" / "src"]
    objs = []
    for i, src in enumerate(sorted([*CORE.glob("*.c"), *CORE.glob("*.cpp"), *CORE.glob("*.S")])):
        obj = tmp_path / f"core{i}.o"
        _cc(src, obj, includes, [])
        objs.append(obj)
    # exactly what `pio run -e mega2560` compiles: src/ (sketch, main.c, your feagi_user.cpp) and
    # the libraries admitted on atmelavr (not the native HAL)
    pb = pio_build(proj, "atmelavr", "arduino")
    ours = list(pb.sources)
    assert sketch in ours and proj / "src" / "feagi_user.cpp" in ours
    assert not any("feagi_hal_native" in str(p) for p in ours)
    includes += [d for d in pb.include_dirs if d not in includes]
    for i, src in enumerate(ours):
        obj = tmp_path / f"ours{i}.o"
        # our sources are held to -Wall -Wextra -Werror (the Arduino core is not)
        _cc(src, obj, includes, ["-Wall", "-Wextra", "-Werror", "-DFEAGI_SIMAVR_EXIT=1"])
        objs.append(obj)
    elf = tmp_path / "sketch.elf"
    r = subprocess.run(["avr-gcc", "-mmcu=atmega2560", "-Os", "-Wl,--gc-sections",
                        *map(str, objs), "-o", str(elf), "-lm"], capture_output=True, text=True,
                       check=False)
    assert r.returncode == 0, r.stderr[-3000:]
    run = run_elf("mega2560", elf, timeout=300)
    assert run.exit_code == 0, (run.stdout[-800:], run.stderr[-800:])
    got_b, got_s, got_final = parse_protocol(run.stdout)
    tr = Twin(model).run(bursts, stim, state_every=every)
    first = next((i + 1 for i, (x, y) in enumerate(zip(got_b, tr.burst_crc)) if x != y), None)
    assert first is None and len(got_b) == bursts, f"first diverging burst {first}"
    assert got_s == tr.state_crc and got_final == tr.final_digest
    # the burst period is the genome's simulation timestep: 30 bursts took >= 29 periods
    period_us = round(float(model.simulation_timestep) * 1e6)
    assert f"#define FEAGI_BURST_PERIOD_US {period_us}UL" in sketch.read_text()
    assert run.metric is not None and run.metric >= 29 * period_us * 16


def test_main_c_is_empty_under_the_arduino_framework(tmp_path):
    """PlatformIO compiles every src/ file: with ARDUINO defined main.c must not define main()
    (the core's main.cpp calls setup()/loop())."""
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("no host gcc")
    model = quantize(develop(load_genome(GENOMES / "test_timer.json")))
    proj = build_project(model, "stm32f4", tmp_path / "p", bursts=5).out_dir
    obj = tmp_path / "m.o"
    r = subprocess.run([gcc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-DARDUINO=10807",
                        f"-I{proj / 'include'}", f"-I{proj / 'lib' / 'feagi_runtime' / 'src'}",
                        f"-I{proj / 'hal'}", "-c", str(proj / "src" / "main.c"), "-o", str(obj)],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    nm = subprocess.run(["nm", str(obj)], capture_output=True, text=True, check=True).stdout
    assert " T main" not in nm
