"""The generated project as a robot builder uses it (issue 11): user code survives rebuilds, a
folder made for another genome or board is refused, PlatformIO's native environment links and
runs equal to the twin, the Arduino IDE entry exists, named areas and the input queue."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest
from click.testing import CliRunner

from feagi_embed.build import MANIFEST, ProjectFolderError, build_project
from feagi_embed.cli import main
from feagi_embed.connectome import develop
from feagi_embed.genome import load_genome
from feagi_embed.host.twin import Twin
from feagi_embed.quantize import quantize
from feagi_embed.stimulus import Stimulus
from feagi_embed.targets.pio import pio_build
from feagi_embed.trace import parse_protocol

from .conftest import GENOMES, require


def _model(name):
    return quantize(develop(load_genome(GENOMES / f"{name}.json")))


def test_rebuild_keeps_user_code_and_settings(tmp_path):
    m = _model("test_timer")
    out = tmp_path / "robot"
    res = build_project(m, "esp32", out)
    user = out / "src" / "feagi_user.cpp"
    ini = out / "platformio_user.ini"
    assert user.is_file() and ini.is_file() and (out / "robot.ino").is_file()
    user.write_text(user.read_text() + "\n// my motor code\n")
    ini.write_text("[env:esp32]\nupload_port = /dev/ttyUSB7\n")
    (out / "include" / "feagi_model.h").write_text("hand-edited")   # a generated file
    build_project(m, "esp32", out)
    assert user.read_text().endswith("// my motor code\n")
    assert ini.read_text() == "[env:esp32]\nupload_port = /dev/ttyUSB7\n"
    assert (out / "include" / "feagi_model.h").read_text().startswith("/* feagi_model.h")
    man = json.loads((out / MANIFEST).read_text())
    assert man["board"] == "esp32" and "src/feagi_user.cpp" not in man["generated"]
    assert "include/feagi_model.h" in man["generated"] and len(res.files) > 10
    assert "extra_configs = platformio_user.ini" in (out / "platformio.ini").read_text()
    assert "platform = espressif32 @ 6.10.0" in (out / "platformio.ini").read_text()


def test_other_genome_or_board_is_refused_unless_forced(tmp_path):
    out = tmp_path / "p"
    build_project(_model("test_timer"), "esp32", out)
    (out / "src" / "feagi_user.cpp").write_text("// mine\n")
    with pytest.raises(ProjectFolderError, match="made for genome test_timer.json"):
        build_project(_model("logic_and_gate"), "esp32", out)
    with pytest.raises(ProjectFolderError, match="on board esp32"):
        build_project(_model("test_timer"), "stm32f4", out)
    r = CliRunner().invoke(main, ["build", "logic_and_gate", "--board", "esp32", "--out", str(out)])
    assert r.exit_code == 2 and "--force" in r.output and "Traceback" not in r.output
    build_project(_model("logic_and_gate"), "esp32", out, force=True)
    assert json.loads((out / MANIFEST).read_text())["genome"] == "logic_and_gate.json"
    assert (out / "src" / "feagi_user.cpp").read_text() == "// mine\n"
    # a folder with files but no manifest is not ours to overwrite
    other = tmp_path / "someone_elses"
    other.mkdir()
    (other / "notes.txt").write_text("x")
    with pytest.raises(ProjectFolderError, match="not made by feagi-embed"):
        build_project(_model("test_timer"), "esp32", other)


def test_stale_generated_files_are_removed_user_files_kept(tmp_path):
    out = tmp_path / "p"
    build_project(_model("test_timer"), "esp32", out)           # has src/feagi_arduino.cpp
    build_project(_model("test_timer"), "native", out, force=True)  # no Arduino sketch
    assert not (out / "src" / "feagi_arduino.cpp").exists()
    assert (out / "src" / "feagi_user.cpp").exists()


def test_platformio_native_env_links_and_equals_the_twin(tmp_path):
    """What `pio run -e native` compiles (src/ + the libraries admitted on `native`) links with
    gcc and prints the same digests as the twin."""
    gcc = shutil.which("gcc")
    require([] if gcc else ["gcc"], "native build")
    m = _model("webots_pioneer2")
    stim = Stimulus.from_json({"stimuli": [
        {"bursts": [2, 30], "area": "i__pro", "kind": "inject", "value": 3.0,
         "voxels": [[x, 0, z] for x in range(16) for z in range(10)]}]})
    out = build_project(m, "native", tmp_path / "p", stimulus=stim, bursts=30).out_dir
    pb = pio_build(out, "native")
    names = {p.name for p in pb.sources}
    assert {"main.c", "feagi_model.c", "feagi_runtime.c", "hal_native.c", "feagi_user.cpp"} <= names
    exe = tmp_path / "fw"
    r = subprocess.run([gcc, "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-x", "c",
                        *[str(p) for p in pb.sources if p.suffix == ".c"],
                        *[f"-I{d}" for d in pb.include_dirs], "-o", str(exe)],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr[-3000:]
    for cpp in (p for p in pb.sources if p.suffix == ".cpp"):  # compile to nothing off Arduino
        r = subprocess.run(["g++", "-Wall", "-Wextra", "-Werror", "-c", str(cpp),
                            *[f"-I{d}" for d in pb.include_dirs], "-o", str(tmp_path / "x.o")],
                           capture_output=True, text=True, check=False)
        assert r.returncode == 0, r.stderr[-2000:]
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stdout[-2000:]
    bursts, states, final = parse_protocol(run.stdout)
    ref = Twin(m).run(30, stim, state_every=10)
    assert bursts == ref.burst_crc and states == ref.state_crc and final == ref.final_digest


def test_a_160_voxel_proximity_frame_is_accepted_whole_every_burst(tmp_path):
    """webots_pioneer2's i__pro is 16 x 1 x 10 voxels: the default input queue takes all 160 every
    burst (the proof: the plan's queue and the twin agree above; here the sizing itself)."""
    from feagi_embed.build import c_plan
    from feagi_embed.boards import load_board
    m = _model("webots_pioneer2")
    assert tuple(m.areas.dims[m.area_index("i__pro")]) == (16, 1, 10)
    plan = c_plan(m, load_board("esp32"))
    assert plan.constants["queue_len"] == 160
    assert c_plan(m, load_board("esp32"), queue_len=500).constants["queue_len"] == 500
    r = CliRunner().invoke(main, ["build", "webots_pioneer2", "--board", "native", "--queue-len",
                                  "0", "--out", str(tmp_path / "q")])
    assert r.exit_code == 2 and "--queue-len 0" in r.output


def test_named_areas_in_the_header(tmp_path):
    m = _model("webots_pioneer2")
    out = build_project(m, "native", tmp_path / "p").out_dir
    h = (out / "include" / "feagi_model.h").read_text()
    a = m.area_index("i__pro")
    assert f"FEAGI_AREA_PROXIMITY_SENSOR = {a}, /* i__pro */" in h
    assert "#define FEAGI_AREA_PROXIMITY_SENSOR_W 16u" in h
    assert "#define FEAGI_AREA_MOTOR_CONTROL_NPV" in h
    # the enum compiles and equals the area table (a C program prints it)
    prog = tmp_path / "areas.c"
    prog.write_text('#include <stdio.h>\n#include "feagi_model.h"\nint main(void){printf("%d %u\\n",'
                    ' (int)FEAGI_AREA_PROXIMITY_SENSOR, FEAGI_AREA_PROXIMITY_SENSOR_H); return 0;}\n')
    exe = tmp_path / "areas"
    subprocess.run(["gcc", "-std=c99", "-Wall", "-Werror", f"-I{out / 'include'}", str(prog), "-o",
                    str(exe)], check=True)
    assert subprocess.run([str(exe)], capture_output=True, text=True).stdout.split() == [str(a), "1"]


def test_unknown_area_errors_list_the_valid_ones():
    m = _model("test_timer")
    with pytest.raises(KeyError, match="areas: .*___pwr"):
        m.area_index("nope")
    assert np.all(np.array([m.area_index(g) for g in m.areas.genome_ids]) == np.arange(m.n_areas))
