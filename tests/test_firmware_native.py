"""The C runtime (firmware/) compiled natively reproduces the numba twin bit for bit.

Independent expectation: the fixed-point twin (host/twin.py), itself pinned to the FEAGI release
engine by tests/test_oracle_traces.py. For real genomes (the force-fire schedules of
tests/fixtures/traces plus injections of our own, positive and negative) and every conformance
micro-genome, the generated model + runtime is compiled with the host gcc
(-std=c99 -Wall -Wextra -Werror -pedantic -O2), run, and every burst digest, state digest and the
final digest of its device protocol output must equal the twin's. One genome also runs under
AddressSanitizer + UndefinedBehaviorSanitizer, and the large-brain reset path is forced on a small
genome.
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from feagi_embed.host.twin import Twin

from feagi_embed.codegen import emit_c_model
from feagi_embed.connectome import develop
from feagi_embed.genome import load_genome
from feagi_embed.plan import (Budget, CapacityError, check_fit, layout, narrow_v_proof, place_state,
                              queue_len_for)
from feagi_embed.quantize import quantize
from feagi_embed.resources import firmware_dir
from feagi_embed.stimulus import Stimulus

from .conftest import FIXTURES, GENOMES


def emit(model, plan, out, board="native", **kw):
    """emit_c_model with a budget of exactly the plan's own sizes (the header's checks pass)."""
    budget = Budget(board, plan.static_bytes, heap=plan.heap_bytes, flash=plan.flash_bytes)
    return emit_c_model(model, plan, budget, out, **kw)

GCC = shutil.which("gcc")
pytestmark = pytest.mark.skipif(GCC is None, reason="host gcc not installed")

CFLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-g"]
BURSTS = 120
STATE_EVERY = 10
#: the brief's six, then every other genome with an oracle trace (32-bit ids: taffy_bot,
#: blender_ap; no synapses: barebones_genome; degeneration: autopilot_static_1, …)
REAL_GENOMES = ["essential_genome", "webots_basic", "learning_v1_1b", "gesture_recognition_12_1",
                "test_timer", "logic_and_gate"]
REAL_GENOMES += sorted({p.name[:-len(".json.gz")] for p in (FIXTURES / "traces").glob("*.json.gz")}
                       - set(REAL_GENOMES))
CONFORMANCE = sorted(p.name[:-len(".json.gz")] for p in (FIXTURES / "conformance").glob("*.json.gz"))


@cache
def _fixture(path: Path) -> dict:
    with gzip.open(path, "rt") as f:
        return json.load(f)


def _inject_entries(model) -> list[dict]:
    """Injections of our own: positive then negative values into the first input (else custom)
    area, so sensory input, negative input with/without charge accumulation and the queue are
    exercised on every real genome."""
    kinds = model.areas.kinds
    first = np.asarray(model.area_first)
    pick = None
    for want in ("ipu", "custom"):
        for a, k in enumerate(kinds):
            if k == want and first[a + 1] > first[a]:
                pick = a
                break
        if pick is not None:
            break
    if pick is None:
        return []
    area = model.areas.genome_ids[pick]
    w, h, d = model.areas.dims[pick]
    vox = [[0, 0, 0], [w - 1, h - 1, d - 1]]
    return [
        {"area": area, "bursts": [3, 40], "kind": "inject", "voxels": vox, "value": 7.25},
        {"area": area, "bursts": [30, 35], "kind": "inject", "voxels": vox[:1], "value": 200.0},
        {"area": area, "bursts": [50, 60], "kind": "inject", "voxels": vox, "value": -2.5},
    ]


@cache
def _case(name: str):
    """(model, stimulus, genome path, sha256) of a real genome or a conformance case."""
    if (GENOMES / f"{name}.json").exists():
        fx = _fixture(FIXTURES / "traces" / f"{name}.json.gz")
        g = load_genome(GENOMES / f"{name}.json")
        model = quantize(develop(g))
        doc = {"stimuli": list(fx["stimulus"]["stimuli"]) + _inject_entries(model)}
        return model, Stimulus.from_json(doc, name), f"{name}.json", fx.get("genome_sha256", "")
    fx = _fixture(FIXTURES / "conformance" / f"{name}.json.gz")
    g = load_genome(fx["genome"], name=fx["name"])
    model = quantize(develop(g))
    return model, Stimulus.from_json(fx["stimulus"], name), f"{name} (conformance)", \
        fx.get("genome_sha256", "")


def build_and_run(model, stim, out: Path, *, sanitize: bool = False, bursts: int = BURSTS,
                  state_every: int = STATE_EVERY, genome: str = "?", sha: str = "",
                  narrow_v: bool = False, heap: bool = False, v8: bool = False,
                  injections: int = 1) -> str:
    plan = layout(model, queue_len=queue_len_for(model, stim, bursts), narrow_v=narrow_v, v8=v8,
                  nonneg=v8, injections=injections)
    if heap:  # force the big state arrays onto the boot-time heap (malloc natively)
        place_state(plan, plan.ram_bytes // 4, plan.ram_bytes)
        assert plan.heap
    emit(model, plan, out, board="native",
                 stimulus=stim, bursts=bursts, state_every=state_every)
    fw = firmware_dir()
    exe = out / "fw"
    cmd = [GCC, *CFLAGS, *(SANITIZE if sanitize else []), "-I", str(out), "-I", str(fw),
           "-I", str(fw / "hal"), str(out / "main.c"), str(out / "feagi_model.c"),
           str(fw / "feagi_runtime.c"), str(fw / "hal" / "hal_native.c"),
           str(fw / "hal" / "hal_common.c"), "-o", str(exe)]
    r = subprocess.run(cmd, check=False, capture_output=True, text=True)
    assert r.returncode == 0, f"gcc failed:\n{r.stderr[-4000:]}"
    r = subprocess.run(check=False, args=[str(exe)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"firmware exited {r.returncode}:\n{r.stdout[-2000:]}\n{r.stderr[-4000:]}"
    return r.stdout


def parse_protocol(text: str):
    bursts, states, end = {}, {}, None
    for line in text.splitlines():
        f = line.split()
        if not f:
            continue
        if f[0] == "B":
            bursts[int(f[1])] = (int(f[2]), int(f[3], 16))
        elif f[0] == "S":
            states[int(f[1])] = int(f[2], 16)
        elif f[0] == "E":
            end = (int(f[1]), int(f[2], 16))
    return bursts, states, end


def assert_same_as_twin(model, stim, text: str, bursts: int = BURSTS,
                        state_every: int = STATE_EVERY) -> None:
    trace = Twin(model).run(bursts, stim, state_every=state_every)
    got_b, got_s, end = parse_protocol(text)
    for b in range(1, bursts + 1):
        want = (len(trace.fired[b - 1]), trace.burst_crc[b - 1])
        got = got_b.get(b)
        assert got == want, (
            f"first diverging burst {b}: C (count, crc) {got}, twin {want}; twin fired ids "
            f"{trace.fired[b - 1][:20].tolist()}")
    for b, crc in sorted(trace.state_crc.items()):
        assert got_s.get(b) == crc, (
            f"state digest after burst {b}: C {got_s.get(b)}, twin {crc} (bursts before it agree)")
    assert end == (bursts, trace.final_digest)


@pytest.mark.parametrize("name", REAL_GENOMES)
def test_real_genome_native_equals_twin(name, tmp_path):
    model, stim, genome, sha = _case(name)
    text = build_and_run(model, stim, tmp_path, genome=genome, sha=sha)
    assert_same_as_twin(model, stim, text)


@pytest.mark.parametrize("name", CONFORMANCE)
def test_conformance_native_equals_twin(name, tmp_path):
    model, stim, genome, sha = _case(name)
    text = build_and_run(model, stim, tmp_path, genome=genome, sha=sha, state_every=1)
    assert_same_as_twin(model, stim, text, state_every=1)


@pytest.mark.parametrize("name", ["gesture_recognition_12_1", "taffy_bot", "mp_driven_psp", "degeneration",
                                  "force_fire_interactions"])
def test_sanitizers(name, tmp_path):
    model, stim, genome, sha = _case(name)
    text = build_and_run(model, stim, tmp_path, sanitize=True, genome=genome, sha=sha)
    assert_same_as_twin(model, stim, text)


@pytest.mark.parametrize("name", ["mp_accumulation_false", "force_fire_mp_acc_false", "test_timer"])
def test_large_brain_reset_path(name, tmp_path):
    """The ≥1,000,000-neuron reset rule, forced on a small model: C and twin still agree."""
    model, stim, genome, sha = _case(name)
    big = model.evolve(large_brain=True)
    text = build_and_run(big, stim, tmp_path, genome=genome, sha=sha, state_every=1)
    assert_same_as_twin(big, stim, text, state_every=1)


def test_generated_files_banner_and_layout(tmp_path):
    model, stim, genome, sha = _case("test_timer")
    plan = layout(model, queue_len=queue_len_for(model, stim, 20))
    files = emit(model, plan, tmp_path, stimulus=stim, bursts=20, board="native")
    import feagi_embed
    for p in files:
        head = p.read_text().splitlines()[:6]
        text = "\n".join(head)
        assert f"feagi-embed {feagi_embed.__version__}" in text and "DO NOT EDIT" in text
        assert "test_timer" in text and "board: native" in text
    assert plan.index_types["nid"] == "u1"  # 109 neurons
    assert plan.flash_bytes == sum(a.nbytes for a in plan.buffers if a.region == "flash")
    assert sum(v["ram"] for v in plan.per_area.values()) <= plan.ram_bytes


def test_hand_edited_capacity_is_caught(tmp_path):
    """Editing a constant of the generated header so it no longer matches the data stops gcc."""
    model, _, genome, sha = _case("logic_and_gate")
    plan = layout(model)
    emit(model, plan, tmp_path)
    h = tmp_path / "feagi_model.h"
    text = h.read_text()
    n = model.n_neurons
    line = f"#define FEAGI_N {n} /* neurons N */\n"
    assert line in text
    h.write_text(text.replace(line, f"#define FEAGI_N {n + 1}\n", 1))
    r = subprocess.run(check=False, args=[GCC, *CFLAGS, "-c", "-I", str(tmp_path), str(tmp_path / "feagi_model.c"),
                        "-o", str(tmp_path / "m.o")], capture_output=True, text=True)
    assert r.returncode != 0 and "n_vs_area_sizes" in r.stderr
    h.write_text(text.replace(line, "#define FEAGI_N 70000L\n", 1))
    r = subprocess.run(check=False, args=[GCC, *CFLAGS, "-c", "-I", str(tmp_path), str(tmp_path / "feagi_model.c"),
                        "-o", str(tmp_path / "m.o")], capture_output=True, text=True)
    assert r.returncode != 0 and "does not fit feagi_nid_t" in r.stderr


def test_check_fit_refuses_with_numbers():
    model, _, _, _ = _case("essential_genome")
    plan = layout(model)
    with pytest.raises(CapacityError) as e:
        check_fit(plan, Budget("uno", 2048, flash=32768))
    msg = str(e.value)
    assert f"requested {plan.ram_bytes} B, available 2048 B, missing {plan.ram_bytes - 2048} B" in msg
    assert "biggest areas" in msg and "uno" in msg
    check_fit(plan, Budget("exact", plan.ram_bytes, flash=plan.flash_bytes))


CROSS = {
    "avr": ["avr-gcc", "-mmcu=atmega2560"],
    "cortex-m4": ["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb"],
    "rv32imc": ["riscv64-unknown-elf-gcc", "-march=rv32imc", "-mabi=ilp32", "-ffreestanding"],
    "xtensa-lx106": ["xtensa-lx106-elf-gcc", "-ffreestanding"],
}


@pytest.mark.parametrize("target", sorted(CROSS))
@pytest.mark.parametrize("name", ["test_timer", "mp_driven_psp", "degeneration", "refractory"])
def test_cross_compiles_warning_free(target, name, tmp_path):
    """The same runtime and generated sources compile warning-free for the MCU families
    (AVR: 16-bit int and PROGMEM; Cortex-M4; RV32IMC; Xtensa LX106). Running them is the
    emulator tests' job."""
    cc = CROSS[target]
    if shutil.which(cc[0]) is None:
        pytest.skip(f"{cc[0]} not installed")
    model, stim, genome, sha = _case(name)
    plan = layout(model, queue_len=queue_len_for(model, stim, 20))
    emit(model, plan, tmp_path, board=target,
                 stimulus=stim, bursts=20, state_every=5)
    fw = firmware_dir()
    for src in (tmp_path / "feagi_model.c", fw / "feagi_runtime.c", tmp_path / "main.c"):
        r = subprocess.run(check=False, args=[*cc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-Os",
                            "-I", str(tmp_path), "-I", str(fw), "-I", str(fw / "hal"), "-c",
                            str(src), "-o", str(tmp_path / "o.o")], capture_output=True, text=True)
        assert r.returncode == 0, f"{target} {src.name}:\n{r.stderr[-3000:]}"


def test_coordinate_api_and_on_fire_hook(tmp_path):
    """feagi_inject / feagi_force_fire by (area, x, y, z) and the output-area hook: a hand-written
    driver equals the twin run with the same schedule as a stimulus file; the hook reports exactly
    the twin's fired neurons of output (OPU) areas, by coordinates, in id order."""
    from feagi_embed.quantize import q
    model, _, genome, sha = _case("essential_genome")
    ids = model.areas.genome_ids
    kinds = model.areas.kinds
    opu = [a for a, k in enumerate(kinds) if k == "opu"]
    assert opu, "essential_genome has output areas"
    vision = ids.index("iic400")
    # (burst first, burst last, kind, area, voxel, value)
    sched = [(2, 4, "force", opu[0], (1, 0, 3), 0.0), (6, 6, "force", opu[-1], (7, 0, 0), 0.0),
             (1, 12, "inject", vision, (5, 6, 1), 100.0), (3, 5, "inject", vision, (0, 0, 0), -4.5),
             (8, 9, "force", vision, (127, 127, 2), 0.0)]
    bursts = 20
    stim = Stimulus.from_json({"stimuli": [
        {"area": ids[a], "bursts": [b0, b1], "kind": kind, "voxels": [list(v)],
         **({"value": val} if kind == "inject" else {})}
        for b0, b1, kind, a, v, val in sched]}, "coords")
    plan = layout(model)
    emit(model, plan, tmp_path)
    calls = []
    for b0, b1, kind, a, (x, y, z), val in sched:
        call = (f"feagi_force_fire({a}u, {x}u, {y}u, {z}u)" if kind == "force" else
                f"feagi_inject({a}u, {x}u, {y}u, {z}u, {int(q(val, model.frac_bits))}L)")
        calls.append(f"        if (b >= {b0}u && b <= {b1}u && {call} != 0) return 2;")
    (tmp_path / "main.c").write_text("\n".join([
        "#include <stdio.h>", '#include "feagi_runtime.h"', "static unsigned long cur;",
        "static void hook(uint16_t a, uint16_t x, uint16_t y, uint16_t z, uint16_t k)",
        '{ printf("O %lu %u %u %u %u %u\\n", cur, a, x, y, z, k); }',
        "int main(void)", "{", "    uint32_t b;", "    feagi_init();", "    feagi_set_on_fire(hook);",
        f"    for (b = 1u; b <= {bursts}u; b++) {{", "        cur = b;", *calls,
        "        (void)feagi_burst();", "        feagi_trace_burst();", "    }",
        "    feagi_trace_state();", "    feagi_trace_end();", "    return 0;", "}", ""]))
    fw = firmware_dir()
    exe = tmp_path / "drv"
    r = subprocess.run(check=False, args=[GCC, *CFLAGS, "-I", str(tmp_path), "-I", str(fw), "-I", str(fw / "hal"),
                        str(tmp_path / "main.c"), str(tmp_path / "feagi_model.c"),
                        str(fw / "feagi_runtime.c"), str(fw / "hal" / "hal_native.c"),
                        str(fw / "hal" / "hal_common.c"), "-o", str(exe)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    r = subprocess.run(check=False, args=[str(exe)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout[-2000:]
    assert_same_as_twin(model, stim, r.stdout, bursts=bursts, state_every=0)
    trace = Twin(model).run(bursts, stim)
    first = np.asarray(model.area_first)
    want = []
    for b, fired in enumerate(trace.fired, start=1):
        for i in fired.tolist():
            a = int(np.searchsorted(first, i, side="right") - 1)
            if kinds[a] != "opu":
                continue
            _, h, d = model.areas.dims[a]
            npv = model.areas.npv[a]
            rr = i - int(first[a])
            vox = rr // npv
            want.append((b, a, vox // (h * d), (vox // d) % h, vox % d, rr % npv))
    got = [tuple(map(int, line.split()[1:])) for line in r.stdout.splitlines()
           if line.startswith("O ")]
    assert got == want and len(want) >= 4


@pytest.mark.parametrize("name", ["logic_and_gate", "degeneration", "refractory"])
def test_avr_simavr_equals_twin(name, tmp_path):
    """Smoke run on an emulated ATmega2560 (16-bit int, PROGMEM reads) with the simavr CLI: the
    protocol lines equal the twin. (The CLI prints UART on stderr in ANSI colour with '.' for
    CR/LF and always exits 0, hence the parsing; the emulator suite uses a libsimavr harness.)"""
    import re
    if shutil.which("avr-gcc") is None or shutil.which("simavr") is None:
        pytest.skip("avr-gcc/simavr not installed")
    model, stim, genome, sha = _case(name)
    plan = layout(model, queue_len=queue_len_for(model, stim, BURSTS))
    emit(model, plan, tmp_path, board="mega2560",
                 stimulus=stim, bursts=BURSTS, state_every=STATE_EVERY)
    fw = firmware_dir()
    elf = tmp_path / "fw.elf"
    r = subprocess.run(check=False, args=[
        "avr-gcc", "-mmcu=atmega2560", "-DF_CPU=16000000UL", "-std=c99", "-Wall", "-Wextra",
        "-Werror", "-pedantic", "-Os", "-I", str(tmp_path), "-I", str(fw), "-I", str(fw / "hal"),
        str(tmp_path / "main.c"), str(tmp_path / "feagi_model.c"), str(fw / "feagi_runtime.c"),
        str(fw / "hal" / "hal_avr.c"), str(fw / "hal" / "hal_common.c"), "-o", str(elf)],
        capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    r = subprocess.run(check=False, args=["simavr", "-m", "atmega2560", "-f", "16000000", str(elf)],
                       capture_output=True, text=True, timeout=120)
    text = re.sub(r"\x1b\[[0-9;]*m", "", r.stderr).replace(".", "\n")
    assert "E " in text, f"no end line from simavr:\n{r.stderr[-2000:]}"
    assert_same_as_twin(model, stim, text)


def test_ram_layout_narrow_cc_and_accumulator_hole():
    """cc is uint8_t for areas with L <= 255 and the dense accumulator skips the longest run of
    neurons no synapse targets (their sums live in a side list of queue_len + 1 entries), so
    essential_genome (128x128x3 vision area) fits the ESP32-C3's 320 KB."""
    model, _, _, _ = _case("essential_genome")
    plan = layout(model)
    c = plan.constants
    lo, hi = c["hole_lo"], c["hole_hi"]
    dst = np.asarray(model.syn_dst)
    assert hi - lo >= 49152 and not ((dst >= lo) & (dst < hi)).any()
    assert plan.buffer("acc").length == model.n_neurons - (hi - lo)
    assert plan.buffer("side_acc").length == c["queue_len"] + 1
    cfl = np.asarray(model.area_cfl)
    counts = np.diff(np.asarray(model.area_first))
    assert c["n_cc2"] == int(counts[cfl <= 3].sum())
    assert c["n_cc8"] == int(counts[(cfl > 3) & (cfl <= 255)].sum())
    assert c["n_cc2"] + c["n_cc8"] + c["n_cc16"] == model.n_neurons
    assert plan.buffer("cc2").length == (c["n_cc2"] + 3) // 4  # four 2-bit counts per byte
    assert plan.ram_bytes <= 327680


def test_accumulator_side_list_full_equals_twin(tmp_path):
    """Fill the side list of the untargeted hole (vision area of essential_genome): every burst
    as many queued injections as the queue holds, repeated voxels (same id twice in a burst),
    negative values, under ASan/UBSan; the digests must equal the twin's."""
    model, _, genome, sha = _case("essential_genome")
    first = np.asarray(model.area_first)
    a = int(np.argmax(np.diff(first)))
    area = model.areas.genome_ids[a]
    w, h, d = model.areas.dims[a]
    vox = [[x, y, z] for x, y, z in ((0, 0, 0), (w - 1, h - 1, d - 1), (1, 2, 0), (5, 5, 1),
                                     (w - 1, 0, 2), (0, h - 1, 1))]
    stim = Stimulus.from_json({"stimuli": [
        {"area": area, "bursts": [2, 30], "kind": "inject", "voxels": vox, "value": 3.0},
        {"area": area, "bursts": [4, 30], "kind": "inject", "voxels": vox[:3], "value": 250.0},
        {"area": area, "bursts": [10, 20], "kind": "inject", "voxels": vox[2:], "value": -7.5},
        {"area": area, "bursts": [12, 25], "kind": "force", "voxels": vox[4:]},
    ]}, "side_list")
    text = build_and_run(model, stim, tmp_path, sanitize=True, bursts=40, genome=genome, sha=sha)
    assert_same_as_twin(model, stim, text, bursts=40)


# ------------------------------------------------------------------ 16-bit V and heap placement
def _narrow_stimulus(model, name: str) -> Stimulus:
    """The trace's force-fires plus integer-valued injections (multiples of every sensory step
    up to 1.0), non-negative into areas without charge accumulation (their narrow-V proof needs
    non-negative input)."""
    fx = _fixture(FIXTURES / "traces" / f"{name}.json.gz")
    entries = []
    for e in _inject_entries(model):
        v = float(np.trunc(e["value"]))
        if not model.area_mp_acc[model.area_index(e["area"])]:
            v = abs(v)
        entries.append(dict(e, value=v))
    return Stimulus.from_json({"stimuli": list(fx["stimulus"]["stimuli"]) + entries}, name)


@pytest.mark.parametrize("name,v8", [("essential_genome", False), ("webots_basic", False),
                                     ("learning_v1_1b", False), ("visual_pathway_v1", False),
                                     ("taffy_bot", False), ("essential_genome", True),
                                     ("webots_basic", True), ("mujoco_camera_interaction", True)])
def test_narrow_v_and_heap_state_equal_twin(name, v8, tmp_path):
    """Areas stored as uint16 (``v8``: also uint8) V >> shift and state arrays taken from the heap
    at boot give the twin's digests (the narrowing is exact, not an approximation)."""
    model = _case(name)[0]
    stim = _narrow_stimulus(model, name)
    proofs = narrow_v_proof(model)
    if name == "essential_genome":  # the 49K-neuron vision area must qualify (ESP32 fit)
        names = model.areas.names
        assert any(names[a] == "vision_C" for a in proofs)
    if v8:  # the 8-bit width is really used
        assert any(p.bits == 8 for p in narrow_v_proof(model, (16, 8), nonneg=True).values())
    out = build_and_run(model, stim, tmp_path, narrow_v=True, heap=True, genome=f"{name}.json",
                        v8=v8)
    ref = Twin(model).run(BURSTS, stim, state_every=STATE_EVERY)
    bursts, states, end = parse_protocol(out)
    assert [bursts[b][1] for b in sorted(bursts)] == ref.burst_crc
    assert states == ref.state_crc
    assert end[1] == ref.final_digest


def _stress_model():
    from .genome_builder import area_genes, genome
    g = genome(
        area_genes("c__inp", "inp", dims=(4, 2, 1), **{
            "fire_t-f": 3.0, "mp_acc-b": True, "c_fr_c-i": 2, "leak_c-f": 0.0,
            "pstcr_-f": 2.0, "pspuni-b": True,
            "dstmap-d": {"c__out": [["projector", [1, 1, 1], 1, False]]}}),
        area_genes("c__out", "out", dims=(4, 2, 1), **{
            "fire_t-f": 5.0, "mp_acc-b": True, "c_fr_c-i": 1, "leak_c-f": 0.0}),
        area_genes("c__lky", "leaky", dims=(2, 1, 1), **{
            "fire_t-f": 1.0, "mp_acc-b": True, "leak_c-f": 0.5}))
    return quantize(develop(load_genome(g)))


def test_narrow_v_proof_hand_computed():
    """inp: thr 3.0, no leak, L = 2, only injections (≤ 255): A = q(255), V ≤ q(3) - 1 + A =
    q(258) - 1 = 16908287 at F = 16; >> 8 = 66047 > 65535, >> 9 = 33023: shift 9 (uint16),
    sensory step 2^-7. The leaky area (K = 0.5) does not qualify."""
    m = _stress_model()
    assert m.frac_bits == 16
    proofs = narrow_v_proof(m)
    names = m.areas.names
    by_name = {names[a]: p for a, p in proofs.items()}
    assert "leaky" not in by_name
    inp = by_name["inp"]
    assert inp.input_max == 255 << 16
    assert inp.v_max == (3 << 16) - 1 + (255 << 16)
    assert inp.shift == 9 and inp.sensory_step == 2.0 ** -7
    assert (inp.v_max >> inp.shift) <= 65535 < (inp.v_max >> (inp.shift - 1))
    out = by_name["out"]   # projector: one source per target, C = q(2.0)
    assert out.input_max == (2 << 16) + (255 << 16)


def test_narrow_v_stress_random_injections_at_the_bound(tmp_path):
    """Random injections up to ±max_sensory (multiples of the step) every burst, with the
    consecutive-limit block that lets V reach the proof's bound: native C (int16 V) = twin."""
    m = _stress_model()
    rng = np.random.default_rng(7)
    inp = list(m.areas.names).index("inp")
    step = narrow_v_proof(m)[inp].sensory_step
    stimuli = []
    for b in range(1, 201):
        for x in range(4):
            if x < 2:
                # 255 every burst: fire, fire, blocked by L = 2 with V = q(255) stored, fire with
                # the transient 2*q(255): the stored V reaches the largest value it can hold
                v = 255.0
            else:
                v = float(rng.choice([255.0, 254.0, 0.5, 3.0 - step, step, -255.0,
                                      float(rng.integers(-255 * 64, 255 * 64)) * step]))
            if v != 0:
                stimuli.append({"bursts": [b, b], "area": "c__inp", "voxels": [[x, int(b % 2), 0]],
                                "kind": "inject", "value": v})
    stim = Stimulus.from_json({"stimuli": stimuli}, "stress")
    out = build_and_run(m, stim, tmp_path, narrow_v=True, bursts=200, state_every=1)
    ref = Twin(m).run(200, stim, state_every=1)
    bursts, states, _ = parse_protocol(out)
    assert [bursts[b][1] for b in sorted(bursts)] == ref.burst_crc
    assert states == ref.state_crc
    # sanity: the stimulus really drives the stored V of inp to q(255) (uint16 >> 7 would wrap)
    tw = Twin(m)
    lo, hi = int(m.area_first[inp]), int(m.area_first[inp + 1])
    peak = 0
    for _ in range(200):
        tw.run(1, stim)
        peak = max(peak, int(tw.V[lo:hi].max()))
    assert peak == 255 << 16


def test_runtime_refuses_sensory_values_outside_the_proof(tmp_path):
    """feagi_inject_id returns FEAGI_ERR_VALUE for |value| > max_sensory and, in an int16-V area,
    for a value that is not a multiple of the step; valid values are queued (0)."""
    m = _stress_model()
    plan = layout(m, narrow_v=True)
    names = list(m.areas.names)
    shift = narrow_v_proof(m)[names.index("inp")].shift
    inp = int(m.area_first[names.index("inp")])      # an int16-V neuron
    leaky = int(m.area_first[names.index("leaky")])  # an int32-V neuron
    emit(m, plan, tmp_path)
    main = tmp_path / "main.c"
    main.write_text("\n".join([
        '#include <stdio.h>', '#include "feagi_runtime.h"',
        "int main(void)", "{",
        "    if (feagi_init() != 0) return 9;",
        "    printf(\"%d %d %d %d %d %d\\n\",",
        f"        feagi_inject_id({inp}u, {1 << shift}), feagi_inject_id({inp}u, {(1 << shift) + 1}),",
        f"        feagi_inject_id({inp + 1}u, {255 << 16}),",  # another neuron (per-burst budget)
        f"        feagi_inject_id({leaky}u, {(255 << 16) + (1 << shift)}),",
        f"        feagi_inject_id({leaky}u, {(1 << shift) + 1}), feagi_inject_id({m.n_neurons}u, 1));",
        "    return 0;", "}", ""]))
    fw = firmware_dir()
    exe = tmp_path / "fw"
    r = subprocess.run([GCC, *CFLAGS, "-I", str(tmp_path), "-I", str(fw), "-I", str(fw / "hal"),
                        str(main), str(tmp_path / "feagi_model.c"), str(fw / "feagi_runtime.c"),
                        str(fw / "hal" / "hal_native.c"), str(fw / "hal" / "hal_common.c"),
                        "-o", str(exe)], capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    got = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.split()
    # int32-V areas accept any value within max_sensory
    assert got == ["0", "-3", "0", "-3", "0", "-1"]


def test_many_injections_into_the_accumulator_hole(tmp_path):
    """A camera-like frame: 300 injections per burst into essential_genome's 128x128x3 vision area
    (neurons no synapse targets: the side list and its hash index), repeated voxels included (their
    inputs sum), values that fire and values that stay sub-threshold. Native C = twin."""
    model = _case("essential_genome")[0]
    rng = np.random.default_rng(3)
    stimuli = []
    for b in range(1, 41):
        vox = rng.integers(0, [128, 128, 3], size=(300, 3))
        vox[:20] = vox[20:40]  # the same neuron twice in one burst
        vals = rng.choice([255.0, 0.05, 0.0390625, 37.5], size=300)
        for v in np.unique(vals):
            stimuli.append({"bursts": [b, b], "area": "iic400", "kind": "inject",
                            "value": float(v), "voxels": vox[vals == v].tolist()})
    stim = Stimulus.from_json({"stimuli": stimuli}, "frames")
    out = build_and_run(model, stim, tmp_path, bursts=40, state_every=5)
    ref = Twin(model).run(40, stim, state_every=5)
    assert sum(len(f) for f in ref.fired) > 1000
    bursts, states, end = parse_protocol(out)
    assert [bursts[b][1] for b in sorted(bursts)] == ref.burst_crc
    assert states == ref.state_crc
