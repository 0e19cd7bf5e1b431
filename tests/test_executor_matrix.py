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
    "micropython-wasm-procedural": lambda: MicroPython("wasm", synapses="procedural"),
    "micropython-unix-procedural": lambda: MicroPython("unix", synapses="procedural"),
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


# ------------------------------------------------------------------ --precision fp32
SANITIZE = ("-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer")


def _sanitized_native():
    ex = Firmware("native", "native", precision="fp32")
    ex.extra_cflags = SANITIZE
    ex.name += ", ASan+UBSan"
    return ex


#: fp32 targets (FEAGI_PRECISION_FP32): each must equal the f32 twin, burst and state digest
#: (state = f32 bits of V) for burst. FPU: Cortex-M4 (fpv4-sp). Soft float (libgcc): RV32IMC,
#: Cortex-M0, lx106. AVR: avr-libc's float routines (float = double = IEEE single). MicroPython:
#: the WebAssembly and unix ports (double floats).
FP32_EXECUTORS = {
    "native-fp32": lambda: Firmware("native", "native", precision="fp32"),
    "native-asan-fp32": _sanitized_native,
    "stm32f4-qemu-fp32": lambda: Firmware("stm32f4", "stm32f4", precision="fp32"),
    "esp32c3-qemu-fp32": lambda: Firmware("esp32c3", "esp32c3", precision="fp32"),
    "rp2040-qemu-m0-fp32": lambda: Firmware("rp2040", "rp2040", precision="fp32"),
    "esp32-lx106-fp32": lambda: Firmware("esp32", "esp32", precision="fp32"),
    "mega2560-simavr-fp32": lambda: Firmware("mega2560", "mega2560", precision="fp32"),
    # double-precision ports: the engine rounds every result to f32 (array("f") stores, _r32)
    "micropython-wasm-fp32": lambda: MicroPython("wasm", "fp32"),
    "micropython-unix-fp32": lambda: MicroPython("unix", "fp32"),
}
#: bundled genomes driven through their input areas with values off every fixed-point grid
SENSORY_CASES = ("test_timer+sensory", "logic_and_gate+sensory")


def sensory_stimulus(model, bursts: int, seed: int) -> Stimulus:
    """Force-fires and injections of :meth:`Stimulus.random`, with every injected value replaced by
    a random decimal in [-0.4, 1.6] (3 places: what an agent sends; off the Q grid) and, every
    third burst, FEAGI's f32 example 0.01 + 0.035 + 0.055 (= 0.1f in f32, one unit short of q(0.1)
    in fixed point) summed into one voxel: the order of f32 additions matters."""
    import numpy as np

    rng = np.random.default_rng(seed)
    entries = []
    for e in Stimulus.random(model, bursts, seed).entries:
        e = dict(e)
        if e["kind"] == "inject":
            e["value"] = float(np.round(rng.uniform(-0.4, 1.6), 3))
        entries.append(e)
        if e["kind"] == "inject" and e["bursts"][0] % 3 == 0:
            entries += [dict(e, value=v) for v in (0.01, 0.035, 0.055)]
    return Stimulus.from_json({"stimuli": entries}, f"<sensory stimulus, seed {seed}>")


def _fp32_case(name: str):
    if name in SENSORY_CASES:
        model, _ = _case(name.split("+")[0])
        return model, sensory_stimulus(model, BURSTS, 7)
    return _case(name)


@pytest.mark.parametrize("case", CONFORMANCE + GENOME_CASES + SENSORY_CASES)
@pytest.mark.parametrize("executor", list(FP32_EXECUTORS))
def test_fp32_executor_equals_f32_twin(executor, case, tmp_path):
    """``--precision fp32``: the C runtime in IEEE single precision equals the numba f32 twin
    (FEAGI's operation order) digest for digest, state included, on every target — also on
    sensory input that fixed point cannot represent."""
    from feagi_embed.executors import reference_for

    ex = FP32_EXECUTORS[executor]()
    why = ex.available()
    if why:
        require(why, ex.name)
    if executor == "native-asan-fp32":
        from .test_firmware_bad_input import _sanitizers_work
        require(_sanitizers_work(tmp_path))
    model, stim = _fp32_case(case)
    ref_row, row = verify(model, [ex], stim, BURSTS, state_every=10,
                          reference=reference_for("fp32"))
    assert ref_row["name"] == "twin (numba, f32 reference)"
    assert row["bursts"] == BURSTS, row
    assert row["equal"] is True, row


def test_sensory_cases_need_fp32():
    """The sensory cases are off the fixed-point grid: the fixed-point twin fires differently
    from the f32 twin on at least one of them (so the fp32 rows above prove more than fixed
    point could), and both twins see activity beyond the power neuron."""
    from feagi_embed.host.twin import Twin
    from feagi_embed.verify import activity

    differ = 0
    for name in SENSORY_CASES:
        model, stim = _fp32_case(name)
        fx, fl = Twin(model).run(BURSTS, stim), Twin(model, "float").run(BURSTS, stim)
        assert activity(model, fl)["fired_without_power"] > 0
        differ += fx.burst_crc != fl.burst_crc
    assert differ >= 1


def test_cli_precision_fp32(tmp_path):
    """`verify --precision fp32`: the f32 twin is the reference and the fp32 firmware equals it,
    state digests included; `run --precision fp32` prints the f32 twin's digests; `report` says
    which precision it sized (f32 contributions make fp32 flash larger, never smaller)."""
    from click.testing import CliRunner

    from feagi_embed.cli import main
    from feagi_embed.host.twin import Twin
    from feagi_embed.runner import trace_report

    r = CliRunner().invoke(main, ["verify", "test_timer", "--board", "native", "--bursts", "12",
                                  "--precision", "fp32", "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)["targets"]
    assert [row["name"] for row in rows] == ["twin (numba, f32 reference)", "twin (cuda, fp32)",
                                              "twin (wgpu, fp32)", "native (host gcc), fp32"]
    assert rows[3]["equal"] is True and rows[3]["bursts"] == 12
    for row in rows[1:3]:  # the GPU twins: equal where they ran, else a stated reason
        assert row["equal"] is True or (row["equal"] is None and row["detail"].startswith("not run"))
    model, _ = _case("test_timer")
    want = trace_report(model, Twin(model, "float").run(12, Stimulus(), state_every=4))
    r = CliRunner().invoke(main, ["run", "test_timer", "-n", "12", "--state-every", "4",
                                  "--precision", "fp32", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["final_digest"] == want["final_digest"]
    reps = {}
    for prec in ("fixed", "fp32"):
        r = CliRunner().invoke(main, ["report", "test_timer", "-b", "stm32f4", "--json",
                                      "--precision", prec])
        assert r.exit_code == 0, r.output
        reps[prec] = json.loads(r.stdout)
        assert reps[prec]["precision"] == prec
    assert reps["fp32"]["regions"]["flash"]["used"] >= reps["fixed"]["regions"]["flash"]["used"]
    r = CliRunner().invoke(main, ["build", "test_timer", "-b", "esp32", "--lang", "micropython",
                                  "--precision", "fp32", "--out", str(tmp_path / "m")])
    assert r.exit_code == 0, r.output  # an fp32 MicroPython package (array "f" model and state)
    assert "FP32 = True" in (tmp_path / "m" / "feagi_model.py").read_text()
    r = CliRunner().invoke(main, ["build", "test_timer", "-b", "wasm", "--precision", "fp32",
                                  "--out", str(tmp_path / "w")])
    assert r.exit_code == 2 and "fixed point only" in r.output
