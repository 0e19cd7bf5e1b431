"""`feagi-embed verify --log FILE` / `--port PORT`: a real board's serial output checked against
the twin. The "board" here is the native build of the same project (its stdout is what a flashed
board prints over serial); the port is a pty that replays it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time

from click.testing import CliRunner

from feagi_embed.build import build_project
from feagi_embed.cli import main
from feagi_embed.connectome import develop
from feagi_embed.genome import load_genome
from feagi_embed.quantize import quantize
from feagi_embed.stimulus import Stimulus

from .conftest import GENOMES, ROOT, require

STIM = ROOT / "examples" / "stimuli" / "test_timer.json"
BURSTS = 30


def _device_output(tmp_path) -> str:
    """What the board prints: the firmware built with the stimulus, run natively."""
    require([] if shutil.which("gcc") else ["gcc"], "native build")
    model = quantize(develop(load_genome(GENOMES / "test_timer.json")))
    out = build_project(model, "native", tmp_path / "fw", stimulus=Stimulus.load(STIM),
                        bursts=BURSTS).out_dir
    subprocess.run(["make", "-s", "-C", str(out)], check=True, capture_output=True)
    r = subprocess.run([str(out / "build" / "firmware.elf")], capture_output=True, text=True,
                       timeout=60, check=True)
    return "boot banner of a real board\n" + r.stdout


def _verify(*args):
    return CliRunner().invoke(main, ["verify", "test_timer", "--bursts", str(BURSTS), "--stimulus",
                                     str(STIM), "--json", *args])


def test_verify_log_equal_and_a_tampered_log_names_the_burst(tmp_path):
    text = _device_output(tmp_path)
    log = tmp_path / "serial.log"
    log.write_text(text)
    r = _verify("--log", str(log))
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)["targets"]
    assert [x["name"] for x in rows] == ["twin (numba, fixed point)", "device log (serial.log)"]
    assert rows[1]["equal"] is True and rows[1]["bursts"] == BURSTS
    lines = text.splitlines()
    i = next(k for k, x in enumerate(lines) if x.startswith("B 7 "))
    f = lines[i].split()
    lines[i] = " ".join(f[:3] + [f"{int(f[3], 16) ^ 1:08x}"])
    log.write_text("\n".join(lines) + "\n")
    r = _verify("--log", str(log))
    assert r.exit_code == 1
    bad = json.loads(r.stdout)["targets"][1]
    assert bad["equal"] is False and bad["first_divergence"]["burst"] == 7


def test_verify_port_reads_a_serial_device(tmp_path):
    text = _device_output(tmp_path)
    master, slave = os.openpty()

    def board():  # a board starts printing after the port is open (opening flushes input)
        time.sleep(1.5)
        os.write(master, text.encode())

    threading.Thread(target=board, daemon=True).start()
    r = _verify("--port", os.ttyname(slave))
    os.close(slave)
    os.close(master)
    assert r.exit_code == 0, r.output
    row = json.loads(r.stdout)["targets"][1]
    assert row["name"].startswith("board on /dev/") and row["equal"] is True
