"""Every executor × every case, against one baseline (Brian2's feature-test matrix:
configurations × feature tests compared with a reference): each :class:`Executor` that can run
here must give the fixed-point numba twin's burst and state digests, digest for digest.

Adding a target is one class in ``feagi_embed/executors.py`` (or its own module, like
``feagi_embed/link/executor.py``) and one entry in ``EXECUTORS``.
Cases: oracle conformance micro-genomes (each pins one rule of docs/model.md) and small real
genomes with force-fires and injections. The f32 reference compares bursts only, on lossless
models (on a lossy one fixed point and f32 may differ by design).
"""

from __future__ import annotations

import gzip
import json

import pytest

from feagi_embed.connectome import develop
from feagi_embed.executors import Firmware, GpuTwin, MicroPython, NumbaTwin
from feagi_embed.genome import load_genome
from feagi_embed.link.executor import LinkFirmware
from feagi_embed.quantize import quantize
from feagi_embed.stimulus import Stimulus
from feagi_embed.verify import verify
from feagi_embed.web import WasmExecutor

from .conftest import FIXTURES, GENOMES, require

BURSTS = 40
#: executor id → factory (one entry per target)
EXECUTORS = {
    "numba-f32": lambda: NumbaTwin("float"),
    "wgpu": lambda: GpuTwin("wgpu"),
    "cuda": lambda: GpuTwin("cuda"),
    "native": lambda: Firmware("native", "native"),
    "stm32f4-qemu": lambda: Firmware("stm32f4", "stm32f4"),
    "esp32c3-qemu": lambda: Firmware("esp32c3", "esp32c3"),
    "esp32-lx106": lambda: Firmware("esp32", "esp32"),
    "mega2560-simavr": lambda: Firmware("mega2560", "mega2560"),
    "micropython-wasm": lambda: MicroPython("wasm"),
    "micropython-unix": lambda: MicroPython("unix"),
    "wasm-node": lambda: WasmExecutor(),
    "link-native": lambda: LinkFirmware("native"),
    # procedural synapses (rule records expanded by the runtime; the twin keeps tables)
    "native-procedural": lambda: Firmware("native", "native", synapses="procedural"),
    "stm32f4-qemu-procedural": lambda: Firmware("stm32f4", "stm32f4", synapses="procedural"),
    "esp32c3-qemu-procedural": lambda: Firmware("esp32c3", "esp32c3", synapses="procedural"),
    "mega2560-simavr-procedural": lambda: Firmware("mega2560", "mega2560", synapses="procedural"),
    "micropython-wasm-procedural": lambda: MicroPython("wasm", "procedural"),
    "micropython-unix-procedural": lambda: MicroPython("unix", "procedural"),
}
#: executors a CI machine without a GPU cannot run (everything else is forced there)
NO_GPU_IN_CI = {"cuda"}
CONFORMANCE = ("refractory", "consecutive_limit", "degeneration", "mp_driven_psp",
               "threshold_gradient", "inhibitory_mp_acc_false")
GENOME_CASES = ("test_timer", "logic_and_gate")


def _case(name: str):
    """(model, stimulus) of a conformance case or a bundled genome (with its trace stimulus)."""
    if name in GENOME_CASES:
        with gzip.open(FIXTURES / "traces" / f"{name}.json.gz", "rt") as f:
            fx = json.load(f)
        g = load_genome(GENOMES / f"{name}.json")
    else:
        with gzip.open(FIXTURES / "conformance" / f"{name}.json.gz", "rt") as f:
            fx = json.load(f)
        g = load_genome(fx["genome"], name=fx["name"])
    return quantize(develop(g)), Stimulus.from_json(fx["stimulus"], name)


@pytest.mark.parametrize("case", CONFORMANCE + GENOME_CASES)
@pytest.mark.parametrize("executor", list(EXECUTORS))
def test_executor_equals_reference(executor, case):
    ex = EXECUTORS[executor]()
    why = ex.available()
    if why and executor not in NO_GPU_IN_CI:
        require(why, ex.name)
    elif why:
        pytest.skip(why)
    model, stim = _case(case)
    if not ex.compares_state and not model.report.get("lossless"):
        pytest.skip("f32 and fixed point differ by design on a lossy model")
    ref_row, row = verify(model, [ex], stim, BURSTS, state_every=10)
    assert ref_row["detail"] == "reference"
    assert row["bursts"] == BURSTS, row
    assert row["equal"] is True, row


def test_cli_verify_rows(tmp_path):
    """`feagi-embed verify --json`: the reference row first, every other executor either equal
    or not run with its reason; the f32 row compares bursts only (no state divergence)."""
    from click.testing import CliRunner

    from feagi_embed.cli import main

    r = CliRunner().invoke(main, ["verify", "test_timer", "--board", "native", "--bursts", "12",
                                  "--json"])
    assert r.exit_code == 0, r.output
    rows = {row["name"]: row for row in json.loads(r.stdout)["targets"]}
    assert "no --stimulus: driving a random stimulus (seed 0" in r.stderr
    assert list(rows)[0] == "twin (numba, fixed point)"
    f32 = rows["twin (numba, f32 reference)"]
    assert f32["equal"] is True and f32["first_divergence"] is None
    assert rows["native (host gcc)"]["equal"] is True
    for row in rows.values():
        assert row["equal"] is True or (row["equal"] is None and row["detail"].startswith("not run"))


def test_random_stimulus_makes_synapses_carry_spikes_and_silence_is_reported():
    """The default verify stimulus is deterministic per seed and drives activity beyond the
    power neuron on a real genome; a model whose run fires only the power neuron is flagged."""
    from feagi_embed.host.twin import Twin
    from feagi_embed.verify import activity

    model, _ = _case("test_timer")
    a, b = Stimulus.random(model, 10, 3), Stimulus.random(model, 10, 3)
    assert a.entries == b.entries and a.entries != Stimulus.random(model, 10, 4).entries
    kinds = {e["kind"] for e in a.entries}
    assert kinds == {"force", "inject"}
    assert all(float(e["value"]).is_integer() for e in a.entries if e["kind"] == "inject")
    act = activity(model, Twin(model).run(10, a))
    assert act["fired_without_power"] > 0
    silent = activity(model, Twin(model).run(10, Stimulus()))
    assert silent["fired"] > 0 and silent["fired_without_power"] == 0  # the power neuron only
