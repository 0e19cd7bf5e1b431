"""`feagi-embed build` projects run on every emulated board and equal the numba twin bit for bit.

Independent expectation: the twin's burst and state digests (itself checked against the FEAGI
engine in test_oracle_traces.py). Tools missing → skip, unless FEAGI_EMBED_REQUIRE_TOOLS=1 (CI).
"""

from __future__ import annotations

import gzip
import json

import pytest
from click.testing import CliRunner

from feagi_embed.boards import load_board
from feagi_embed.build import build_project
from feagi_embed.trace import parse_protocol
from feagi_embed.plan import CapacityError
from feagi_embed.cli import main
from feagi_embed.connectome import develop
from feagi_embed.genome import load_genome
from feagi_embed.host.twin import Twin
from feagi_embed.quantize import quantize
from feagi_embed.stimulus import Stimulus
from feagi_embed.targets import run_on_target

from .conftest import FIXTURES, GENOMES, require_board

#: boards with an emulator here (esp32 runs on the lx106 stand-in core)
BOARDS = ["native", "stm32f4", "esp32c3", "esp32", "rp2040", "mega2560"]
GENOMES_SMALL = ["test_timer", "logic_and_gate", "webots_pioneer2"]


def run_project_against_twin(model, board, stim, bursts: int, every: int, tmp_path, *,
                             timeout: float = 120):
    """Build ``model`` for ``board`` with the test stimulus, run it on the board's emulator and
    assert that every burst digest, state digest and the final digest equal the numba twin's.

    Returns:
        ``(BuildResult, TargetResult, Trace)`` for further checks.
    """
    b = load_board(board) if isinstance(board, str) else board
    require_board(b)
    res = build_project(model, b, tmp_path / "proj", stimulus=stim, bursts=bursts,
                        state_every=every)
    proj = res.out_dir
    r = run_on_target(b, [proj / "src", proj / "lib" / "feagi_runtime" / "src"],
                      [proj / "include", proj / "lib" / "feagi_runtime" / "src"],
                      out_dir=tmp_path / "build", timeout=timeout,
                      extra_cflags=["-Werror", "-pedantic"])
    assert r.run is not None and not r.run.timed_out, r.run and r.run.stderr
    assert r.exit_code == 0, (r.stdout[-500:], r.run.stderr[-500:])
    got_b, got_s, got_final = parse_protocol(r.stdout)
    tr = Twin(model).run(bursts, stim, state_every=every)
    first = next((i + 1 for i, (x, y) in enumerate(zip(got_b, tr.burst_crc)) if x != y), None)
    assert first is None and len(got_b) == bursts, f"{b.name}: first diverging burst {first}"
    assert got_s == tr.state_crc
    assert got_final == tr.final_digest
    return res, r, tr


@pytest.mark.parametrize("genome", GENOMES_SMALL)
@pytest.mark.parametrize("board", BOARDS)
def test_generated_project_runs_bit_exact_on_emulator(board, genome, tmp_path):
    require_board(board)
    with gzip.open(FIXTURES / "traces" / f"{genome}.json.gz", "rt") as f:
        stim = Stimulus.from_json(json.load(f)["stimulus"])
    model = quantize(develop(load_genome(GENOMES / f"{genome}.json")))
    run_project_against_twin(model, board, stim, 60, 10, tmp_path)


def test_build_refuses_what_does_not_fit_before_writing(tmp_path):
    model = quantize(develop(load_genome(GENOMES / "essential_genome.json")))
    with pytest.raises(CapacityError) as e:
        build_project(model, "uno", tmp_path / "p")
    msg = str(e.value)
    assert "requested" in msg and "available" in msg and "missing" in msg and "vision_C" in msg
    assert not (tmp_path / "p").exists()


def test_cli_build_and_report(tmp_path):
    out = tmp_path / "proj"
    r = CliRunner().invoke(main, ["build", "test_timer", "--board", "esp32c3", "--out", str(out)])
    assert r.exit_code == 0, r.output
    ini = (out / "platformio.ini").read_text()
    assert "esp32" in ini and (out / "include" / "feagi_model.h").exists()
    head = (out / "include" / "feagi_model.h").read_text()[:600]
    assert "feagi-embed" in head and "test_timer.json" in head
    r = CliRunner().invoke(main, ["report", "essential_genome", "--board", "uno", "--json"])
    assert r.exit_code == 2
    rep = json.loads(r.output)
    assert rep["fits"] is False and rep["regions"]["ram"]["used"] > rep["regions"]["ram"]["available"]
    r = CliRunner().invoke(main, ["build", "essential_genome", "--board", "uno",
                                  "--out", str(tmp_path / "x")])
    assert r.exit_code == 2 and "missing" in r.output and "Traceback" not in r.output


def test_cli_verify_json(tmp_path):
    r = CliRunner().invoke(main, ["verify", "test_timer", "--board", "native", "-n", "30", "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)["targets"]
    assert {"name", "bursts", "equal", "first_divergence"} <= set(rows[0])
    native = next(x for x in rows if x["name"].startswith("native"))
    assert native["equal"] is True and native["bursts"] == 30


#: large genomes on the QEMU boards whose emulated RAM holds them: essential_genome (55,363 neurons,
#: 305 KB RAM) and learning_v1_1b on the ESP32-C3 class core (virt: 4 MB RAM), the high-connectivity
#: webots_basic (121,776 synapses, 430 KB flash) on the Cortex-M4 (netduinoplus2: 1 MB flash, 128 KB
#: RAM). About 2 s each.
LARGE = [("essential_genome", "esp32c3"), ("learning_v1_1b", "esp32c3"), ("webots_basic", "stm32f4")]


def injection_schedule(model, bursts: int, seed: int = 7) -> list[dict]:
    """Seeded injections into the genome's largest non-core area every third burst (64 voxels,
    values -2 … 5): exercises sensory input into big areas (the accumulator's side list)."""
    import numpy as np

    sizes = np.diff(model.area_first)
    a = max((i for i, k in enumerate(model.areas.kinds) if k != "core"), key=lambda i: sizes[i])
    w, h, d = model.areas.dims[a]
    rng = np.random.default_rng(seed)
    out = []
    for b in range(1, bursts + 1, 3):
        v = rng.choice(w * h * d, size=min(64, w * h * d), replace=False)
        out.append({"bursts": [b, b], "area": model.areas.genome_ids[a], "kind": "inject",
                    "value": float(rng.choice([-2.0, 0.5, 1.0, 2.5, 5.0])),
                    "voxels": [[int(x // (h * d)), int((x // d) % h), int(x % d)] for x in v]})
    return out


@pytest.mark.parametrize(("genome", "board"), LARGE)
def test_large_genome_runs_bit_exact_on_qemu(genome, board, tmp_path):
    require_board(board)
    with gzip.open(FIXTURES / "traces" / f"{genome}.json.gz", "rt") as f:
        forced = json.load(f)["stimulus"]["stimuli"]
    model = quantize(develop(load_genome(GENOMES / f"{genome}.json")))
    bursts, every = 100, 10
    stim = Stimulus.from_json({"stimuli": forced + injection_schedule(model, bursts)})
    _, _, tr = run_project_against_twin(model, board, stim, bursts, every, tmp_path, timeout=300)
    assert sum(len(x) for x in tr.fired) > bursts  # the schedule makes the genome fire
    assert len(tr.state_crc) == bursts // every


@pytest.mark.parametrize("genome", ["test_timer", "logic_and_gate", "autopilot_static_1"])
def test_small_genome_runs_bit_exact_on_uno(genome, tmp_path):
    """The ATmega328P (2 KB RAM, 512 B reserved for the runtime's statics and the stack) under
    simavr, for the genomes that fit. autopilot_static_1 fits since per-area packed state
    (1,432 B of state; it once ran with ~100 B of stack in 1,813 B and corrupted its state)."""
    test_generated_project_runs_bit_exact_on_emulator("uno", genome, tmp_path)


@pytest.mark.parametrize("genome", ["webots_pioneer2"])
def test_uno_refuses_what_leaves_no_stack(genome, tmp_path):
    """webots_pioneer2 once passed a 2,048 B check and did not link; with the 512 B reserve it is
    refused before any file is written (autopilot_static_1, refused here before per-area packed
    state, now fits and runs: test_small_genome_runs_bit_exact_on_uno)."""
    model = quantize(develop(load_genome(GENOMES / f"{genome}.json")))
    with pytest.raises(CapacityError, match="ram: requested .* available 1536 B"):
        build_project(model, "uno", tmp_path / "p")
    assert not (tmp_path / "p").exists()
