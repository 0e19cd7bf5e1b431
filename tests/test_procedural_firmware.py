"""Procedural synapses on the targets: the C runtime (firmware/feagi_procedural.h) and the
MicroPython engine expand the rule records and give the fixed-point twin's traces, digest for
digest (the twin keeps the full tables: an independent implementation of the same synapses).

Native runs are built with ASan/UBSan; the emulated cores (QEMU Cortex-M4, QEMU RISC-V, simavr
AVR) and the MicroPython ports run through their executors (tests/test_executor_matrix.py has the
conformance cases for them).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from feagi_embed.executors import Firmware, MicroPython
from feagi_embed.plan import layout, queue_len_for
from feagi_embed.plan.procedural import MAX_CYCLE_RATIO, choose
from feagi_embed.resources import firmware_dir
from feagi_embed.verify import verify

from .conftest import require
from .test_firmware_native import (CFLAGS, CONFORMANCE, CROSS, REAL_GENOMES, SANITIZE, _case,
                                   assert_same_as_twin, emit)

GCC = shutil.which("gcc")
BURSTS = 80


def _build_and_run(model, stim, out: Path, synapses: str, state_every: int = 10) -> str:
    plan = layout(model, queue_len=queue_len_for(model, stim, BURSTS), synapses=synapses)
    emit(model, plan, out, board="native", stimulus=stim, bursts=BURSTS, state_every=state_every)
    fw = firmware_dir()
    exe = out / "fw"
    cmd = [GCC, *CFLAGS, *SANITIZE, "-I", str(out), "-I", str(fw), "-I", str(fw / "hal"),
           str(out / "main.c"), str(out / "feagi_model.c"), str(fw / "feagi_runtime.c"),
           str(fw / "hal" / "hal_native.c"), str(fw / "hal" / "hal_common.c"), "-o", str(exe)]
    r = subprocess.run(cmd, check=False, capture_output=True, text=True)
    assert r.returncode == 0, f"gcc failed:\n{r.stderr[-4000:]}"
    r = subprocess.run([str(exe)], check=False, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"firmware exited {r.returncode}:\n{r.stderr[-4000:]}"
    return r.stdout


@pytest.mark.skipif(GCC is None, reason="host gcc not installed")
@pytest.mark.parametrize("name", REAL_GENOMES + CONFORMANCE)
def test_native_procedural_equals_twin_sanitized(name, tmp_path):
    model, stim, _, _ = _case(name)
    plan = layout(model, synapses="procedural")
    n_rules = plan.constants.get("n_rules", 0)
    if model.n_synapses and any(r.procedural and r.n_synapses for r in model.rules):
        assert n_rules > 0 and plan.constants["s"] < model.n_synapses
    text = _build_and_run(model, stim, tmp_path, "procedural", state_every=1 if
                          name in CONFORMANCE else 10)
    assert_same_as_twin(model, stim, text, bursts=BURSTS, state_every=1 if
                        name in CONFORMANCE else 10)


@pytest.mark.skipif(GCC is None, reason="host gcc not installed")
@pytest.mark.parametrize("name", ["learning_v1_1b", "gesture_recognition_12_1"])
def test_native_auto_mixes_tables_and_rules(name, tmp_path):
    """auto keeps some rules as tables (multi-pair patterns, costly rules) beside procedural
    ones in the same rows; still the twin's trace."""
    model, stim, _, _ = _case(name)
    storage = {c.storage for c in choose(model, "auto")}
    assert {"table", "procedural"} <= storage
    assert_same_as_twin(model, stim, _build_and_run(model, stim, tmp_path, "auto"),
                        bursts=BURSTS)


def test_procedural_saves_flash_on_bundled_genomes():
    """Flash bytes of the table and procedural plans (the numbers of docs/benchmarks.md): rule
    records replace the big rule-made mappings; auto does so for webots_basic's fan-out 10-18
    camera projectors (estimated within 1.5x of a table event) and keeps its fan-out-3 ones."""
    for name in ("webots_basic", "gesture_recognition_12_1", "learning_v1_1b"):
        model, _, _, _ = _case(name)
        table, proc = layout(model), layout(model, synapses="procedural")
        assert proc.flash_bytes < table.flash_bytes / 4, name
        rows = proc.synapse_rules
        assert sum(r["synapses"] for r in rows) == model.n_synapses
        assert {r["storage"] for r in rows} <= {"table", "procedural", "empty"}
    model, _, _, _ = _case("webots_basic")
    auto = {model.rules[c.rule].morphology: c for c in choose(model, "auto")}
    rows = {r["rule"]: r for r in layout(model, synapses="auto").synapse_rules}
    assert layout(model, synapses="auto").flash_bytes < layout(model).flash_bytes / 4
    for ri, r in rows.items():  # procedural exactly where the estimate is within the limit
        if r["storage"] != "empty" and r["rule_bytes"] and r["rule_bytes"] < r["table_bytes"]:
            within = r["cycles_rule"] <= MAX_CYCLE_RATIO * r["cycles_table"]
            assert (r["storage"] == "procedural") == within, r
    assert {r["storage"] for r in rows.values()} >= {"table", "procedural"}
    assert auto


def test_auto_goes_procedural_only_to_fit_the_board():
    """--synapses auto for a board: tables (and rules within 1.5x of a table event) where they
    fit; mujoco_camera_interaction's camera projector (fan-out 7, estimated over the limit) stays
    a table on the 1 MB STM32F4 and becomes a rule record on the 512 KB Nucleo-F401RE, where the
    tables (571 KB of model flash) cannot fit."""
    from feagi_embed.boards import load_board
    from feagi_embed.plan import budget_for, plan_fits, plan_for

    model = _model("mujoco_camera_interaction")
    big = plan_for(model, budget_for(load_board("stm32f4")), synapses="auto")
    small_budget = budget_for(load_board("nucleo_f401re"))
    small = plan_for(model, small_budget, synapses="auto")
    assert big.constants["s"] == model.n_synapses  # all tables: they fit
    assert plan_fits(small, small_budget)
    assert small.constants["s"] < model.n_synapses
    made = [r for r in small.synapse_rules if r["storage"] == "procedural"]
    assert made and all("to fit the board" in r["reason"] for r in made
                        if r["cycles_rule"] > MAX_CYCLE_RATIO * r["cycles_table"])
    assert plan_for(model, small_budget, synapses="table").flash_bytes > small_budget.flash


def _model(name):
    from feagi_embed.connectome import develop
    from feagi_embed.genome import load_genome
    from feagi_embed.quantize import quantize

    from .conftest import genome_path

    return quantize(develop(load_genome(genome_path(name))))


@pytest.mark.parametrize("target", sorted(CROSS))
def test_procedural_cross_compiles_warning_free(target, tmp_path):
    """feagi_procedural.h compiles warning-free for AVR (16-bit int, PROGMEM), Cortex-M4,
    RV32IMC and Xtensa LX106, with run-time PSP sources (mp_driven_psp) and vectors (test_timer)."""
    cc = CROSS[target]
    if shutil.which(cc[0]) is None:
        require([cc[0]], target)
    fw = firmware_dir()
    for name in ("mp_driven_psp", "test_timer"):
        model, stim, _, _ = _case(name)
        plan = layout(model, queue_len=queue_len_for(model, stim, 20), synapses="procedural")
        assert plan.constants["n_rules"] > 0
        out = tmp_path / name
        emit(model, plan, out, board=target, stimulus=stim, bursts=20, state_every=5)
        for src in (out / "feagi_model.c", fw / "feagi_runtime.c", out / "main.c"):
            r = subprocess.run([*cc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-Os",
                                "-I", str(out), "-I", str(fw), "-I", str(fw / "hal"), "-c",
                                str(src), "-o", str(out / (src.stem + ".o"))],
                               check=False, capture_output=True, text=True)
            assert r.returncode == 0, f"{target} {src.name}:\n{r.stderr[-3000:]}"


EMULATED = {"stm32f4": "Cortex-M4 (QEMU)", "esp32c3": "RISC-V (QEMU)",
            "mega2560": "AVR (simavr)"}


@pytest.mark.parametrize("board,name", [(b, n) for b in sorted(EMULATED)
                                        for n in ("test_timer", "gesture_recognition_12_1")
                                        if b != "mega2560" or n == "test_timer"])  # AVR: 8 KB RAM
def test_emulated_procedural_equals_twin(board, name):
    ex = Firmware(board, board, synapses="procedural")
    require(ex.available(), ex.name)
    model, stim, _, _ = _case(name)
    ref, row = verify(model, [ex], stim, 40, state_every=10)
    assert row["bursts"] == 40 and row["equal"] is True, row


@pytest.mark.parametrize("port", ["wasm", "unix"])
@pytest.mark.parametrize("name", ["test_timer", "gesture_recognition_12_1", "mp_driven_psp",
                                  "degeneration"])
def test_micropython_procedural_equals_twin(port, name):
    ex = MicroPython(port, synapses="procedural")
    require(ex.available(), ex.name)
    model, stim, _, _ = _case(name)
    ref, row = verify(model, [ex], stim, 40, state_every=10)
    assert row["bursts"] == 40 and row["equal"] is True, row


def test_table_mode_emits_what_it_did_before(tmp_path):
    """--synapses table (the default) writes no rule records and no FEAGI_N_RULES."""
    model, stim, _, _ = _case("test_timer")
    plan = layout(model)
    assert "n_rules" not in plan.constants
    assert not [b for b in plan.buffers if b.name.startswith("rule_")]
    assert np.array_equal(plan.buffer("syn_dst").values, np.asarray(model.syn_dst))


def test_cli_report_lists_mapping_storage():
    """`report --synapses auto`: per mapping its storage, bytes and estimated instructions per
    event; the fan-out 10-18 camera projectors of webots_basic become rule records and flash
    shrinks (more than 4x; its fan-out-3 projectors stay tables, over 1.5x a table event)."""
    import json

    from click.testing import CliRunner

    from feagi_embed.cli import main

    r = CliRunner().invoke(main, ["report", "webots_basic", "-b", "esp32", "--synapses", "auto",
                                  "--json"])
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout)
    rows = rep["synapse_rules"]
    assert sum(x["synapses"] for x in rows) == 121_776
    big = max(rows, key=lambda x: x["synapses"])
    assert big["storage"] == "procedural" and big["rule_bytes"] < big["table_bytes"]
    assert big["cycles_rule"] <= 1.5 * big["cycles_table"]
    t = CliRunner().invoke(main, ["report", "webots_basic", "-b", "esp32"])
    assert rep["regions"]["flash"]["used"] * 4 < json.loads(CliRunner().invoke(
        main, ["report", "webots_basic", "-b", "esp32", "--json"]).stdout)["regions"]["flash"]["used"]
    assert t.exit_code == 0
    text = CliRunner().invoke(main, ["report", "webots_basic", "-b", "esp32", "--synapses",
                                     "auto"]).output
    assert "mappings (--synapses auto)" in text and "procedural" in text
