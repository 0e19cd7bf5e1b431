"""Per-area packed state (issue 14 part 2): the narrow-V proof at 8 and 16 bits, also for areas
without charge accumulation, against hand-computed bounds and the numba twin.

Independent expectations: bounds computed by hand from the genome below; the twin's digests
(int32 V, no packing) for runs whose stimulus drives each packed V to its proven bound, so a
weaker proof (a smaller bound, a larger shift, a negative input admitted) makes them differ.
"""

from __future__ import annotations

import numpy as np
import pytest
from feagi_embed.host.twin import Twin

from feagi_embed.connectome import develop
from feagi_embed.genome import load_genome
from feagi_embed.plan import layout, narrow_v_proof
from feagi_embed.quantize import quantize
from feagi_embed.stimulus import Stimulus

from .test_firmware_native import build_and_run, parse_protocol

F = 16


def _packed_model():
    """``s8``: thr 1.0, charge accumulation, L = 2, injections only; ``nacc``: the same without
    charge accumulation (L = 1); ``inp`` → ``inh``: an inhibitory projector (PSP −2.0) into an
    area without charge accumulation; ``wide``: thr 3.0 (needs 16 bits)."""
    from .genome_builder import area_genes, genome
    g = genome(
        area_genes("c__s08", "s8", dims=(4, 1, 1), **{
            "fire_t-f": 1.0, "mp_acc-b": True, "c_fr_c-i": 2, "leak_c-f": 0.0}),
        area_genes("c__nac", "nacc", dims=(4, 1, 1), **{
            "fire_t-f": 1.0, "mp_acc-b": False, "c_fr_c-i": 1, "leak_c-f": 0.0}),
        area_genes("c__inp", "inp", dims=(2, 1, 1), **{
            "fire_t-f": 1.0, "mp_acc-b": True, "c_fr_c-i": 3, "leak_c-f": 0.0,
            "pstcr_-f": -2.0, "pspuni-b": True,
            "dstmap-d": {"c__inh": [["projector", [1, 1, 1], 1, False]]}}),
        area_genes("c__inh", "inh", dims=(2, 1, 1), **{
            "fire_t-f": 1.0, "mp_acc-b": False, "c_fr_c-i": 2, "leak_c-f": 0.0}),
        area_genes("c__wid", "wide", dims=(2, 1, 1), **{
            "fire_t-f": 3.0, "mp_acc-b": True, "c_fr_c-i": 2, "leak_c-f": 0.0}))
    return quantize(develop(load_genome(g)))


def _by_name(model, proofs):
    names = list(model.areas.names)
    return {names[a]: p for a, p in proofs.items()}, names


def test_proof_widths_hand_computed():
    """s8: V <= q(1) - 1 + q(255) = 2^24 - 1 → 8 bits at shift 16 (step 1.0), 16 bits at
    shift 8. nacc: the same bound, non-negative sensory values only. inh: a negative
    contribution into an area without charge accumulation → no proof. wide: q(258) - 1 needs
    17 bits → 8 bits would need shift 17 > F: 16 bits at shift 9."""
    m = _packed_model()
    assert m.frac_bits == F
    p16, _ = _by_name(m, narrow_v_proof(m))
    p8, _ = _by_name(m, narrow_v_proof(m, (16, 8), nonneg=True))
    assert "nacc" not in _by_name(m, narrow_v_proof(m, (16, 8)))[0]  # only when asked
    assert p8["s8"].v_max == (1 << F) - 1 + (255 << F) == (1 << 24) - 1
    assert (p8["s8"].bits, p8["s8"].shift, p8["s8"].sensory_step) == (8, 16, 1.0)
    assert (p16["s8"].bits, p16["s8"].shift) == (16, 8)
    assert (p8["nacc"].bits, p8["nacc"].shift) == (8, 16) and p8["nacc"].nonneg_sensory
    assert not p8["s8"].nonneg_sensory
    assert "inh" not in p8 and "inh" not in p16
    assert p8["wide"].v_max == (3 << F) - 1 + (255 << F)
    assert (p8["wide"].bits, p8["wide"].shift) == (16, 9)
    plan = layout(m, narrow_v=True, v8=True, nonneg=True)
    n8 = sum(int(m.area_counts[a]) for a, p in narrow_v_proof(m, (16, 8), nonneg=True).items()
             if p.bits == 8)
    assert n8 >= 8 and plan.constants["n_v8"] == n8 and plan.buffer("v8").nbytes == n8
    assert plan.per_area["s8"]["packing"]["v"] == "uint8 >> 16"
    assert plan.per_area["inh"]["packing"]["v"] == "int32"


def _stress_stimulus(model, bursts: int, seed: int) -> Stimulus:
    """Every burst: 255 into voxel 0 of s8 and nacc (fire, fire, then the consecutive-limit block
    stores V = q(255), the largest value the areas can keep), random integers 0…255 into the
    others, and inp driven so that inh receives its negative input."""
    rng = np.random.default_rng(seed)
    st = []
    for b in range(1, bursts + 1):
        for area in ("c__s08", "c__nac"):
            for x in range(4):
                v = 255.0 if x == 0 else float(rng.integers(0, 256))
                if v:
                    st.append({"bursts": [b, b], "area": area, "voxels": [[x, 0, 0]],
                               "kind": "inject", "value": v})
        st.append({"bursts": [b, b], "area": "c__inp", "voxels": [[int(b % 2), 0, 0]],
                   "kind": "inject", "value": 1.0})
        st.append({"bursts": [b, b], "area": "c__wid", "voxels": [[0, 0, 0]],
                   "kind": "inject", "value": float(rng.choice([255.0, 3.0, 2.0]))})
        if b % 7 == 0:  # a force-fired neuron of an area without charge accumulation keeps V
            st.append({"bursts": [b, b], "area": "c__nac", "voxels": [[1, 0, 0]],
                       "kind": "force"})
    return Stimulus.from_json({"stimuli": st}, "packed-stress")


@pytest.mark.parametrize("v8", [False, True])
def test_packed_v_stress_at_the_bound_equals_twin(v8, tmp_path):
    """uint8/uint16 V at the proven bound, every state digest equal to the twin's (int32)."""
    m = _packed_model()
    bursts = 120
    stim = _stress_stimulus(m, bursts, seed=3)
    out = build_and_run(m, stim, tmp_path, narrow_v=True, v8=v8, bursts=bursts, state_every=1,
                        sanitize=True)
    ref = Twin(m).run(bursts, stim, state_every=1)
    got, states, end = parse_protocol(out)
    assert [got[b][1] for b in sorted(got)] == ref.burst_crc
    assert states == ref.state_crc and end[1] == ref.final_digest
    # the stimulus really reaches the bounds: s8 and nacc keep q(255), inh goes negative
    tw = Twin(m)
    names = list(m.areas.names)
    peak = {n: 0 for n in ("s8", "nacc")}
    low_inh = 0
    for _ in range(bursts):
        tw.run(1, stim)
        for n in peak:
            a = names.index(n)
            peak[n] = max(peak[n], int(tw.V[m.area_first[a]:m.area_first[a + 1]].max()))
        a = names.index("inh")
        low_inh = min(low_inh, int(tw.V[m.area_first[a]:m.area_first[a + 1]].min()))
    assert peak == {"s8": 255 << F, "nacc": 255 << F}
    assert low_inh < 0


def test_runtime_refuses_what_the_packed_proofs_exclude(tmp_path):
    """feagi_inject_id: a negative value into an 8-bit area without charge accumulation →
    FEAGI_ERR_VALUE (-3); the same into one with charge accumulation (negative input ignored)
    → queued (0); a value off the 1.0 grid of an 8-bit area → -3; a second positive value into
    one neuron in one burst above max_sensory → FEAGI_ERR_BUDGET (-5)."""
    import subprocess

    from feagi_embed.resources import firmware_dir

    from .test_firmware_native import CFLAGS, GCC, emit
    m = _packed_model()
    plan = layout(m, narrow_v=True, v8=True, nonneg=True)
    names = list(m.areas.names)
    nacc, s8 = (int(m.area_first[names.index(n)]) for n in ("nacc", "s8"))
    emit(m, plan, tmp_path)
    main = tmp_path / "main.c"
    main.write_text("\n".join([
        '#include <stdio.h>', '#include "feagi_runtime.h"', "int main(void)", "{",
        "    if (feagi_init() != 0) return 9;",
        *(f'    printf("%d ", feagi_inject_id({i}u, {v}));' for i, v in (
            (nacc, -(1 << F)), (s8, -(1 << F)), (nacc, 1 << (F - 1)), (nacc, 200 << F),
            (nacc, 56 << F), (nacc, 55 << F))),
        "    return 0;", "}", ""]))
    fw = firmware_dir()
    exe = tmp_path / "fw"
    r = subprocess.run([GCC, *CFLAGS, "-I", str(tmp_path), "-I", str(fw), "-I", str(fw / "hal"),
                        str(main), str(tmp_path / "feagi_model.c"), str(fw / "feagi_runtime.c"),
                        str(fw / "hal" / "hal_native.c"), str(fw / "hal" / "hal_common.c"),
                        "-o", str(exe)], capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    got = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.split()
    assert got == ["-3", "0", "-3", "0", "-5", "0"]


def test_build_refuses_negative_values_into_non_accumulating_packed_areas(tmp_path):
    from feagi_embed.build import check_stimulus
    from feagi_embed.stimulus import StimulusError
    m = _packed_model()
    plan = layout(m, narrow_v=True, v8=True, nonneg=True)
    bad = Stimulus.from_json({"stimuli": [{"bursts": [2, 2], "area": "c__nac", "kind": "inject",
                                           "value": -3.0, "voxels": [[0, 0, 0]]}]}, "neg.json")
    with pytest.raises(StimulusError) as e:
        check_stimulus(m, plan, bad, 5, "toy")
    assert "neg.json: stimuli[0].value: got -3.0" in str(e.value) and "nacc" in str(e.value)
    ok = Stimulus.from_json({"stimuli": [{"bursts": [2, 2], "area": "c__s08", "kind": "inject",
                                          "value": -3.0, "voxels": [[0, 0, 0]]}]}, "ok.json")
    check_stimulus(m, plan, ok, 5, "toy")  # charge accumulation: negative input is ignored


@pytest.mark.parametrize("board", ["stm32f4", "esp32c3", "mega2560"])
def test_packed_v_stress_bit_exact_on_emulated_cores(board, tmp_path):
    """The packed stress run (uint8 and uint16 V at their bounds) on QEMU Cortex-M4, QEMU
    RV32IMC and simavr (AVR, 16-bit int): every digest equals the twin's."""
    from feagi_embed.boards import load_board
    from feagi_embed.plan import queue_len_for
    from feagi_embed.resources import firmware_dir
    from feagi_embed.targets import run_on_target

    from .conftest import require_board
    from .test_firmware_native import emit
    b = load_board(board)
    require_board(b)
    m = _packed_model()
    bursts = 60
    stim = _stress_stimulus(m, bursts, seed=5)
    plan = layout(m, queue_len=queue_len_for(m, stim, bursts), narrow_v=True, v8=True,
                  nonneg=True)
    assert plan.constants["n_v8"] and plan.constants["n_v16"]
    out = tmp_path / "gen"
    emit(m, plan, out, board=board, stimulus=stim, bursts=bursts, state_every=1)
    fw = firmware_dir()
    r = run_on_target(b, [out / "main.c", out / "feagi_model.c", fw / "feagi_runtime.c"],
                      [out, fw, fw / "hal"], out_dir=tmp_path / "build", timeout=120,
                      extra_cflags=["-Werror", "-pedantic"])
    assert r.run is not None and not r.run.timed_out and r.exit_code == 0, r.stdout[-500:]
    got, states, end = parse_protocol(r.stdout)
    ref = Twin(m).run(bursts, stim, state_every=1)
    assert [got[x][1] for x in sorted(got)] == ref.burst_crc
    assert states == ref.state_crc and end[1] == ref.final_digest


def test_essential_fits_stm32f4_with_uint8_vision_and_runs_bit_exact(tmp_path):
    """essential_genome (55,363 neurons) needs 152,836 B with uint16 vision V: more than the
    STM32F4's 128 KB; the plan then stores the vision areas in uint8 (V >> 16, integer sensory
    values) and it fits. Built with `build_project` and run on QEMU Cortex-M4 = twin."""
    from feagi_embed.boards import load_board
    from feagi_embed.build import c_plan
    from feagi_embed.plan import budget_for, plan_fits

    from .conftest import GENOMES
    from .test_build_on_targets import run_project_against_twin
    m = quantize(develop(load_genome(GENOMES / "essential_genome.json")))
    b = load_board("stm32f4")
    assert layout(m, narrow_v=True).ram_bytes > budget_for(b).static_ram
    plan = c_plan(m, b)
    assert plan_fits(plan, budget_for(b))
    names = list(m.areas.keys)
    assert plan.narrow_v["vision_C"].bits == 8 and plan.narrow_v["vision_C"].shift == 16
    assert plan.per_area["vision_C"]["packing"]["v"] == "uint8 >> 16"
    assert plan.ram_bytes / m.n_neurons < 1.8
    vis = names.index("vision_C")
    w, h, d = m.areas.dims[vis]
    rng = np.random.default_rng(11)
    st = []
    for burst in range(1, 31):
        vox = rng.integers(0, [w, h, d], size=(12, 3))
        st.append({"bursts": [burst, burst], "area": m.areas.genome_ids[vis], "kind": "inject",
                   "value": float(rng.choice([1.0, 30.0, 200.0, 255.0])),
                   "voxels": vox.tolist()})
    stim = Stimulus.from_json({"stimuli": st}, "vision-int")
    _, _, tr = run_project_against_twin(m, b, stim, 30, 5, tmp_path, timeout=300)
    assert sum(len(f) for f in tr.fired) > 30


def _on_packed_contract(model, plan, stim: Stimulus) -> Stimulus:
    """``stim`` with each injection into a packed-V area moved onto that area's contract: the
    value truncated to a multiple of its sensory step, its magnitude if the area has no charge
    accumulation (other entries unchanged)."""
    keys = list(model.areas.keys)
    entries = []
    for e in stim.entries:
        if e["kind"] == "inject":
            p = plan.narrow_v.get(keys[model.area_index(e["area"])])
            if p is not None:
                v = float(np.trunc(e["value"] / p.sensory_step) * p.sensory_step)
                e = dict(e, value=abs(v) if p.nonneg_sensory else v)
        entries.append(e)
    return Stimulus.from_json({"stimuli": entries}, stim.source)


def _conformance():
    from .test_firmware_native import CONFORMANCE
    return CONFORMANCE


@pytest.mark.parametrize("name", _conformance())
def test_conformance_packed_native_sanitized_equals_twin(name, tmp_path):
    """Every conformance case with every packing its proofs allow (uint8/uint16 V), under ASan and
    UBSan, state digest every burst: equal to the twin's."""
    from feagi_embed.build import check_stimulus

    from .test_firmware_native import _case, assert_same_as_twin
    model, stim, genome, sha = _case(name)
    plan = layout(model, narrow_v=True, v8=True, nonneg=True)
    stim = _on_packed_contract(model, plan, stim)
    check_stimulus(model, plan, stim, 120, "native")  # the contract the runtime enforces too
    text = build_and_run(model, stim, tmp_path, genome=genome, sha=sha, state_every=1,
                         sanitize=True, narrow_v=True, v8=True)
    assert_same_as_twin(model, stim, text, state_every=1)


def test_proof_with_two_injections_per_burst(tmp_path):
    """``injections=2``: A = 2 q(255), so s8's bound is q(1) - 1 + 2 q(255) = q(511) - 1 (8 bits
    would need shift 17 > F: uint16 at shift 9); two 255 injections into one voxel in one burst
    are accepted (one proof budgets one) and every digest equals the twin's."""
    m = _packed_model()
    p2, _ = _by_name(m, narrow_v_proof(m, (16, 8), injections=2, nonneg=True))
    assert p2["s8"].input_max == 2 * (255 << F)
    assert p2["s8"].v_max == (1 << F) - 1 + 2 * (255 << F)
    assert (p2["s8"].bits, p2["s8"].shift) == (16, 9)
    plan = layout(m, narrow_v=True, v8=True, nonneg=True, injections=2)
    assert plan.constants["sensory_budget_q"] == 2 * m.max_sensory_q
    st = []
    for b in range(1, 61):
        for _ in range(2):  # twice into the same neuron: 510 in one burst
            st.append({"bursts": [b, b], "area": "c__s08", "voxels": [[0, 0, 0]],
                       "kind": "inject", "value": 255.0})
            st.append({"bursts": [b, b], "area": "c__nac", "voxels": [[0, 0, 0]],
                       "kind": "inject", "value": 255.0})
    stim = Stimulus.from_json({"stimuli": st}, "two-per-burst")
    from feagi_embed.build import check_stimulus
    from feagi_embed.stimulus import StimulusError
    check_stimulus(m, plan, stim, 60, "toy")
    with pytest.raises(StimulusError, match="proven for 1 sensory value"):
        check_stimulus(m, layout(m, narrow_v=True, v8=True, nonneg=True), stim, 60, "toy")
    out = build_and_run(m, stim, tmp_path, narrow_v=True, v8=True, injections=2, bursts=60,
                        state_every=1, sanitize=True)
    ref = Twin(m).run(60, stim, state_every=1)
    got, states, end = parse_protocol(out)
    assert [got[x][1] for x in sorted(got)] == ref.burst_crc
    assert states == ref.state_crc and end[1] == ref.final_digest
    tw = Twin(m)
    s8 = list(m.areas.names).index("s8")
    peak = 0
    for _ in range(60):
        tw.run(1, stim)
        peak = max(peak, int(tw.V[m.area_first[s8]:m.area_first[s8 + 1]].max()))
    assert peak == 510 << F  # the blocked V holds both injections


def test_random_stimulus_nonneg_areas_take_magnitudes_and_keep_the_schedule():
    """``nonneg_areas``: the same draws (voxels, bursts, force-fires), every injected value into
    those areas replaced by its magnitude, the other areas' values untouched."""
    from .conftest import GENOMES
    m = quantize(develop(load_genome(GENOMES / "webots_basic.json")))
    ipu = [i for i in range(m.n_areas) if m.areas.kinds[i] == "ipu"]
    some = set(ipu[::2])
    a = Stimulus.random(m, 12, 3, max_per_burst=16).to_json()["stimuli"]
    b = Stimulus.random(m, 12, 3, max_per_burst=16, nonneg_areas=some).to_json()["stimuli"]
    ids = {m.areas.genome_ids[i] for i in some}
    assert len(a) == len(b)
    assert any(e.get("value", 0) < 0 for e in a if e["area"] in ids)  # the case is exercised
    assert any(e.get("value", 0) < 0 for e in b if e["area"] not in ids)
    for x, y in zip(a, b):
        want = dict(x, value=abs(x["value"])) if "value" in x and x["area"] in ids else x
        assert y == want


def test_cli_verify_random_stimulus_respects_the_boards_nonneg_areas():
    """webots_basic fits the Nucleo-F401RE only with 8/16-bit V in areas without charge
    accumulation (values >= 0 there): `verify` without --stimulus draws non-negative values
    into exactly those areas, so the board's build accepts it and runs bit-exact (the signed
    schedule is refused: tests/test_board_sweep.py)."""
    from click.testing import CliRunner

    from feagi_embed.cli import main

    from .conftest import GENOMES, require_board
    require_board("nucleo_f401re")
    r = CliRunner().invoke(main, ["verify", str(GENOMES / "webots_basic.json"), "--board",
                                  "nucleo_f401re", "-n", "5", "--json"])
    assert r.exit_code == 0, r.output
    assert "values >= 0 into the" in r.output and "proven for non-negative input only" in r.output
    import json
    rows = json.loads(r.output[r.output.index("{"):])["targets"]
    board = [x for x in rows if "nucleo_f401re" in x["name"]]
    assert board and board[0]["equal"] is True and board[0]["bursts"] == 5
