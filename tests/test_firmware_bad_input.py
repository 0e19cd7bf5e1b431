"""Firmware and bad input (issue 12): the 16-bit membrane-potential proof holds for everything the
injection queue accepts (two injections into one voxel in one burst), every public call is safe
before feagi_init(), and the C API survives random arguments under ASan + UBSan.

Independent expectations: the numba twin's digests (int32 V, no narrowing), hand-computed budget
sums, and the error codes documented in firmware/feagi_runtime.h.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from feagi_embed import build as build_mod
from feagi_embed.boards import load_board
from feagi_embed.build import build_project
from feagi_embed.codegen import emit_c_model
from feagi_embed.plan import Budget, layout, narrow_v_proof
from feagi_embed.resources import firmware_dir
from feagi_embed.connectome import develop
from feagi_embed.genome import load_genome
from feagi_embed.quantize import quantize
from feagi_embed.stimulus import Stimulus, StimulusError
from feagi_embed.targets import run_on_target

from .conftest import GENOMES, require, require_board
from .test_build_on_targets import run_project_against_twin

GCC = shutil.which("gcc") or "gcc"
CFLAGS = ["-std=c99", "-O1", "-g", "-Wall", "-Wextra", "-Werror"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]
ERR_INDEX, ERR_QUEUE, ERR_VALUE, ERR_HEAP, ERR_BUDGET, ERR_INIT = -1, -2, -3, -4, -5, -6


@pytest.fixture(scope="module")
def essential():
    return quantize(develop(load_genome(GENOMES / "essential_genome.json")))


def two_injections(first: float, second: float, bursts=(1, 6)) -> Stimulus:
    """Two entries injecting into the same vision voxel in the same bursts (+ a force-fire)."""
    return Stimulus.from_json({"stimuli": [
        {"bursts": list(bursts), "area": "iic400", "kind": "inject", "value": first,
         "voxels": [[5, 5, 0], [9, 2, 1]]},
        {"bursts": list(bursts), "area": "iic400", "kind": "inject", "value": second,
         "voxels": [[5, 5, 0]]},
        {"bursts": [2, 2], "area": "iic100", "kind": "force", "voxels": [[12, 4, 0]]},
    ]}, "two.json")


def test_two_injections_of_128_into_a_16_bit_voxel_are_refused_by_the_build(essential, tmp_path):
    with pytest.raises(StimulusError) as e:
        build_project(essential, "esp32", tmp_path / "p", stimulus=two_injections(128, 128),
                      bursts=8)
    msg = str(e.value)
    assert msg.startswith("two.json: stimuli[1]: got 256 of positive sensory input into voxel "
                          "[5, 5, 0] of area vision_C in burst 1; expected at most 255")
    assert not (tmp_path / "p").exists()
    # a wide (int32 V) board takes the same stimulus: nothing to refuse there
    build_project(essential, "esp32c3", tmp_path / "c3", stimulus=two_injections(128, 128),
                  bursts=8)


def test_injections_summing_to_the_budget_run_bit_exact_on_the_esp32_stand_in(essential, tmp_path):
    # 128 + 127 = 255 = max_sensory: inside the proof, so the 16-bit build equals the twin
    res, r, tr = run_project_against_twin(essential, "esp32", two_injections(128, 127), 8, 2,
                                          tmp_path, timeout=300)
    assert res.plan.narrow_v
    vision = essential.area_index("iic400")
    lo, hi = int(essential.area_first[vision]), int(essential.area_first[vision + 1])
    assert any(((f >= lo) & (f < hi)).any() for f in tr.fired)


def test_esp32_runtime_refuses_the_second_injection_instead_of_wrapping(essential, tmp_path,
                                                                         monkeypatch):
    """The firmware repeats the build's check: with the build check bypassed, the esp32 stand-in
    stops at the refused injection (exit 3, FEAGI_ERR_BUDGET) instead of wrapping V and silently
    diverging from the twin."""
    b = load_board("esp32")
    require_board(b)
    monkeypatch.setattr(build_mod, "check_stimulus", lambda *a, **k: None)
    res = build_project(essential, b, tmp_path / "proj", stimulus=two_injections(128, 128),
                        bursts=8, state_every=2)
    assert res.plan.narrow_v
    proj = res.out_dir
    r = run_on_target(b, [proj / "src", proj / "lib" / "feagi_runtime" / "src"],
                      [proj / "include", proj / "lib" / "feagi_runtime" / "src"],
                      out_dir=tmp_path / "build", timeout=300,
                      extra_cflags=["-Werror", "-pedantic"])
    assert r.exit_code == 3 and "X stimulus queue" in r.stdout, r.stdout[-500:]
    assert "B 1 " not in r.stdout  # refused while queueing burst 1, before it ran


def _stress():
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


def _compile(model, plan, out, main_c: str, *, sanitize: bool) -> str:
    emit_c_model(model, plan, Budget("native", plan.static_bytes, heap=plan.heap_bytes,
                                     flash=plan.flash_bytes), out)
    (out / "main.c").write_text(main_c)
    fw = firmware_dir()
    exe = out / "fw"
    r = subprocess.run([GCC, *CFLAGS, *(SANITIZE if sanitize else []), "-I", str(out),
                        "-I", str(fw), "-I", str(fw / "hal"), str(out / "main.c"),
                        str(out / "feagi_model.c"), str(fw / "feagi_runtime.c"),
                        str(fw / "hal" / "hal_native.c"), str(fw / "hal" / "hal_common.c"),
                        "-o", str(exe)], capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr[-3000:]
    return str(exe)


def _sanitizers_work(tmp_path) -> str | None:
    src = tmp_path / "t.c"
    src.write_text("int main(void) { return 0; }\n")
    r = subprocess.run([GCC, *SANITIZE, str(src), "-o", str(tmp_path / "t")], capture_output=True,
                       check=False)
    return None if r.returncode == 0 else "gcc -fsanitize=address,undefined"


def test_runtime_budget_codes_hand_computed(tmp_path):
    """In a 16-bit-V neuron: 200 then 55 (sum 255) accepted, then 1 more refused (FEAGI_ERR_BUDGET);
    negative values and other neurons are unaffected; the next burst starts a fresh budget. An
    int32-V neuron takes several 255s."""
    m = _stress()
    names = list(m.areas.names)
    assert names.index("inp") in narrow_v_proof(m)
    f = m.frac_bits
    inp = int(m.area_first[names.index("inp")])
    leaky = int(m.area_first[names.index("leaky")])
    calls = [(inp, 200), (inp, 55), (inp, 1), (inp, -255), (inp + 1, 255), (leaky, 255), None,
             (inp, 255), (leaky, 255), (leaky, 255)]
    lines = ['#include <stdio.h>', '#include "feagi_runtime.h"', "int main(void)", "{",
             "    if (feagi_init() != 0) return 9;"]
    for c in calls:  # one call per statement (argument evaluation order is unspecified in C)
        lines.append("    (void)feagi_burst(); printf(\"|\");" if c is None else
                     f'    printf("%d ", feagi_inject_id({c[0]}u, {c[1] * (1 << f)}));')
    main_c = "\n".join(lines + ['    printf("\\n");', "    return 0;", "}", ""])
    exe = _compile(m, layout(m, narrow_v=True), tmp_path, main_c, sanitize=False)
    out = subprocess.run([exe], capture_output=True, text=True, check=True).stdout.split("|")
    assert out[0].split() == ["0", "0", str(ERR_BUDGET), "0", "0", "0"]
    assert out[1].split() == ["0", "0", "0"]


BEFORE_INIT = r"""
#include <stdio.h>
#include "feagi_runtime.h"
int main(void)
{
    int bad = 0;
    bad |= feagi_inject(0u, 0u, 0u, 0u, 1) != FEAGI_ERR_INIT;
    bad |= feagi_inject_id(0u, 1) != FEAGI_ERR_INIT;
    bad |= feagi_force_fire(0u, 0u, 0u, 0u) != FEAGI_ERR_INIT;
    bad |= feagi_force_fire_id(0u) != FEAGI_ERR_INIT;
    bad |= feagi_burst() != 0u;
    bad |= feagi_burst_number() != 0u;
    bad |= feagi_fired_count() != 0u;
    bad |= feagi_is_fired(0u) != 0;
    bad |= feagi_state_digest() != 0u;
    bad |= feagi_burst_digest() != 0u;
    bad |= feagi_final_digest() != 0u;
    feagi_set_on_fire(0);
    feagi_trace_burst();
    feagi_trace_state();
    feagi_trace_end();
    if (feagi_init() != 0) return 9;
    bad |= feagi_force_fire_id(0u) != 0;
    bad |= feagi_burst() == 0u; /* the forced neuron fires */
    printf("%s %08lx\n", bad ? "BAD" : "OK", (unsigned long)feagi_state_digest());
    return bad;
}
"""


@pytest.mark.parametrize("heap", [False, True])
def test_public_api_is_safe_before_init_under_sanitizers(tmp_path, heap):
    """On heap-placed builds the state arrays are NULL until feagi_init(): every public call must
    return an error code or a neutral value, not dereference them (ASan + UBSan)."""
    require(_sanitizers_work(tmp_path))
    from feagi_embed.plan import place_state
    m = _stress()
    plan = layout(m, narrow_v=True)
    if heap:
        place_state(plan, 0, plan.ram_bytes * 4)
        assert plan.heap
    exe = _compile(m, plan, tmp_path, BEFORE_INIT, sanitize=True)
    r = subprocess.run([exe], capture_output=True, text=True, check=False, timeout=60)
    assert r.returncode == 0 and r.stdout.splitlines()[-1].startswith("OK "), (r.stdout, r.stderr[-2000:])
    assert r.stdout.splitlines()[:3] == ["B 0 0 00000000", "S 0 00000000", "E 0 00000000"]


def test_off_grid_value_refusal_names_file_key_path_and_the_value_given(essential, tmp_path):
    stim = Stimulus.from_json({"stimuli": [
        {"bursts": [1, 2], "area": "iic400", "kind": "inject", "value": 2, "voxels": [[0, 0, 0]]},
        {"bursts": [3, 3], "area": "iic400", "kind": "inject", "value": 0.3001,
         "voxels": [[1, 1, 0]]}]}, "cam.json")
    with pytest.raises(StimulusError) as e:
        build_project(essential, "esp32", tmp_path / "p", stimulus=stim, bursts=5)
    # the value as given (0.3001), not its quantized form (0.30010986328125 at F = 16)
    assert str(e.value).startswith("cam.json: stimuli[1].value: got 0.3001; expected")
    assert "multiples of 0.00390625" in str(e.value)


FUZZ_C = __import__("pathlib").Path(__file__).resolve().parent / "c" / "fuzz_api.c"


def _fuzz_models():
    return {"stress-narrow-heap": (_stress(), True, True), "test_timer": (
        quantize(develop(load_genome(GENOMES / "test_timer.json"))), False, False)}


@pytest.mark.parametrize("name,seed", [("stress-narrow-heap", 1), ("stress-narrow-heap", 2),
                                       ("test_timer", 3), ("essential-narrow", 4)])
def test_native_api_fuzzed_under_sanitizers_equals_twin(name, seed, tmp_path, essential):
    """Random public-API calls (tests/c/fuzz_api.c) under ASan + UBSan: no sanitizer report, only
    documented return codes, and the calls the runtime accepted, replayed on the twin as a
    stimulus, give the same burst and state digests (16-bit V areas included)."""
    require(_sanitizers_work(tmp_path))
    from feagi_embed.trace import parse_protocol
    from feagi_embed.plan import place_state
    from feagi_embed.host.twin import Twin
    if name == "essential-narrow":
        model, narrow, heap = essential, True, False
    else:
        model, narrow, heap = _fuzz_models()[name]
    plan = layout(model, narrow_v=narrow)
    if narrow:
        assert plan.narrow_v
    if heap:
        place_state(plan, 0, plan.ram_bytes * 4)
    bursts = 60
    exe = _compile(model, plan, tmp_path, FUZZ_C.read_text(), sanitize=True)
    r = subprocess.run([exe, str(bursts), str(seed)], capture_output=True, text=True,
                       check=False, timeout=300)
    assert r.returncode == 0 and "BADRC" not in r.stdout, (r.stdout[-1000:], r.stderr[-3000:])
    ids, scale = model.areas.genome_ids, float(1 << model.frac_bits)
    entries = []
    for line in r.stdout.splitlines():
        f = line.split()
        if f and f[0] in ("I", "F"):
            b, a, x, y, z = (int(t) for t in f[1:6])
            e = {"bursts": [b, b], "area": ids[a], "voxels": [[x, y, z]]}
            e.update({"kind": "inject", "value": int(f[6]) / scale} if f[0] == "I"
                     else {"kind": "force"})
            entries.append(e)
    counts = [int(t) for t in r.stdout.splitlines()[-1].split()[1:]]
    assert counts[0] and counts[-ERR_INDEX] and counts[-ERR_VALUE]  # accepted, bad voxel, bad value
    if narrow:  # the 16-bit-V budget was really exercised (same voxel twice in a burst)
        assert counts[-ERR_BUDGET] > 0, counts
    kinds = {e["kind"] for e in entries}
    assert kinds == {"inject", "force"} and len(entries) > 100
    stim = Stimulus.from_json({"stimuli": entries}, "replay")
    got_b, got_s, final = parse_protocol(r.stdout)
    ref = Twin(model).run(bursts, stim, state_every=5)
    assert got_b == ref.burst_crc and got_s == ref.state_crc and final == ref.final_digest
