"""The essential genome fits a classic ESP32: 16-bit membrane potentials where proven, state arrays
beyond ESP-IDF's 160 KB static-DRAM limit taken from the heap at boot, bit-exact on the emulated
Xtensa stand-in core.

Independent expectations: the board's cited budgets (boards/esp32.toml), hand-computed byte
counts, and the numba twin's digests.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from feagi_embed.boards import BoardError, load_board
from feagi_embed.build import build_project, c_plan
from feagi_embed.plan import Budget, CapacityError, budget_for, check_fit, layout, place_state
from feagi_embed.cli import main
from feagi_embed.connectome import develop
from feagi_embed.genome import load_genome
from feagi_embed.quantize import quantize
from feagi_embed.stimulus import Stimulus, StimulusError

from .conftest import GENOMES
from .test_build_on_targets import run_project_against_twin

ESSENTIAL = GENOMES / "essential_genome.json"


@pytest.fixture(scope="module")
def essential():
    return quantize(develop(load_genome(ESSENTIAL)))


def _vision_stimulus() -> Stimulus:
    """Camera-like input into the 128x128x3 vision area (multiples of its 1/256 step, including
    sub-threshold values that must accumulate) plus the peripheral areas that drive motors."""
    return Stimulus.from_json({"stimuli": [
        {"bursts": [1, 30], "area": "iic400", "kind": "inject", "value": 255,
         "voxels": [[0, 0, 0], [5, 5, 1], [127, 127, 2], [64, 3, 0], [10, 100, 2]]},
        {"bursts": [3, 12], "area": "iic400", "kind": "inject", "value": 0.0390625,
         "voxels": [[1, 1, 0], [2, 2, 0], [3, 3, 0]]},
        {"bursts": [4, 40], "area": "iic400", "kind": "inject", "value": 37.5,
         "voxels": [[6, 6, 0], [7, 7, 1]]},
        {"bursts": [2, 2], "area": "iic100", "kind": "force", "voxels": [[12, 4, 0]]},
        {"bursts": [5, 25], "area": "iic700", "kind": "inject", "value": 200,
         "voxels": [[6, 12, 2], [13, 15, 2]]},
    ]}, "vision")


def test_essential_plan_for_esp32(essential):
    """Wide int32 state cannot fit 136 KB static + 136 KB heap (110 KB blocks); the plan narrows the
    nine vision areas (55,296 neurons, uint16 V) and moves the 2-bit consecutive counts (L <= 3)
    to the heap."""
    b = load_board("esp32")
    assert budget_for(b).static_ram == 163_840 - 24_576
    assert (budget_for(b).heap, budget_for(b).heap_block) == (163_840 - 24_576, 110_000)
    wide = layout(essential)
    # int32 V alone (55,363 x 4 B) fits neither the static RAM nor the largest heap block
    v32 = wide.buffer("v32").nbytes
    assert v32 > budget_for(b).static_ram and v32 > budget_for(b).heap_block
    plan = c_plan(essential, b)
    check_fit(plan, budget_for(b))
    names = essential.areas.names
    vision = sorted(n for n in names if n.startswith("vision_"))
    assert sorted(plan.narrow_v) == vision
    assert plan.buffer("v16").nbytes == 2 * (128 * 128 * 3 + 8 * 16 * 16 * 3)
    assert plan.heap == {"cc2"}
    assert plan.static_bytes <= budget_for(b).static_ram and plan.heap_bytes <= budget_for(b).heap
    # boards without a static limit keep the exact wide layout
    assert not c_plan(essential, load_board("esp32c3")).narrow_v


def test_heap_block_limit_is_checked(essential):
    plan = layout(essential, narrow_v=True)
    place_state(plan, 10_000, 400_000)          # tiny static RAM: v16 (110,592 B) goes to the heap
    assert "v16" in plan.heap
    with pytest.raises(CapacityError) as e:
        check_fit(plan, Budget("toy", 10_000, heap=400_000, heap_block=100_000, flash=2**20))
    msg = str(e.value)
    assert "heap block: v16 requested 110592 B in one block, available 100000 B, missing 10592 B" in msg


def test_stimulus_outside_the_sensory_step_is_refused(essential, tmp_path):
    stim = Stimulus.from_json({"stimuli": [{"bursts": [3, 3], "area": "iic400", "kind": "inject",
                                            "value": 0.3, "voxels": [[1, 1, 0]]}]}, "bad")
    with pytest.raises(StimulusError) as e:
        build_project(essential, "esp32", tmp_path / "p", stimulus=stim, bursts=5)
    assert "vision_C" in str(e.value) and "multiples of 0.00390625" in str(e.value)
    assert not (tmp_path / "p").exists()


def test_cli_build_esp32_essential_writes_project(tmp_path):
    r = CliRunner().invoke(main, ["build", str(ESSENTIAL), "--board", "esp32", "--out",
                                  str(tmp_path / "p")])
    assert r.exit_code == 0, r.output
    assert "heap at boot" in r.output and "multiples of 0.00390625" in r.output
    hdr = (tmp_path / "p" / "include" / "feagi_model.h").read_text()
    assert "#define FEAGI_HEAP_CC2 1 " in hdr and "#define FEAGI_HEAP_V16 0 " in hdr
    assert (tmp_path / "p" / "platformio.ini").exists()


def test_essential_runs_bit_exact_on_the_esp32_stand_in(essential, tmp_path):
    stim, bursts, every = _vision_stimulus(), 50, 10
    res, r, tr = run_project_against_twin(essential, "esp32", stim, bursts, every, tmp_path,
                                          timeout=300)
    assert res.plan.heap and res.plan.narrow_v
    assert sum(len(f) for f in tr.fired) > 50  # the vision input really drives firing
    # the ELF holds every static state array at its predicted size; heap arrays only as pointers
    from feagi_embed.targets.memreport import measured_memory
    m = {a["name"]: a for a in measured_memory(res.plan, r.elf)["arrays"]}
    assert m["cc2"]["status"] == "heap" and m["cc2"]["measured"] == 0
    assert m["v16"]["status"] == "exact" and m["v16"]["measured"] == 110_592
    assert m["bits"]["status"] == "exact"


@pytest.mark.parametrize("text,key,value", [
    ('[regions.extra]\nbytes = 100\nkind = "heap"\nreserve = 200\n', "regions.extra.reserve", 200),
    ('[regions.extra]\nbytes = 100\nkind = "heap"\nmax_block = -1\n', "regions.extra.max_block",
     -1),
])
def test_board_region_reserve_and_block_are_validated(tmp_path, text, key, value):
    from .test_boards import _valid_text, _write
    p = _write(tmp_path, "bad", _valid_text("bad") + "\n" + text)
    with pytest.raises(BoardError) as e:
        load_board(p)
    assert e.value.key == key and e.value.value == value and "bad.toml" in str(e.value)


def test_avr_flash_limits_refuse_unaddressable_constants(tmp_path):
    """ATmega2560: 253,952 B of flash, but near pgm_read_* reach only the first 64 KB and one
    avr-gcc object is at most 32,767 B. 150 x 150 all-to-all synapses (22,500: syn_dst 45,000 B)
    fit the flash total and the 8 KB SRAM, so only these two limits can refuse them."""
    from .genome_builder import area_genes, genome
    morph = {"all": {"type": "patterns", "parameters": {
        "patterns": [[["*", "*", "*"], ["*", "*", "*"]]]}}}
    g = genome(area_genes("c__src", "src", dims=(150, 1, 1), **{
                   "dstmap-d": {"c__dst": [["all", [1, 1, 1], 1, False]]}}),
               area_genes("c__dst", "dst", dims=(150, 1, 1)), morphologies=morph)
    model = quantize(develop(load_genome(g)))
    assert model.n_synapses == 150 * 150
    plan = c_plan(model, load_board("mega2560"))
    assert plan.flash_bytes < 253_952 and plan.static_bytes < 8_192
    with pytest.raises(CapacityError) as e:
        build_project(model, "mega2560", tmp_path / "p")
    msg = str(e.value)
    syn_dst = plan.buffer("syn_dst").nbytes
    assert f"flash array: syn_dst requested {syn_dst} B in one object, available 32767 B" in msg
    assert (f"flash (addressable data): requested {plan.flash_bytes} B, available 65308 B, "
            f"missing {plan.flash_bytes - 65308} B") in msg
    assert not (tmp_path / "p").exists()


@pytest.mark.parametrize("genome", ["webots_basic", "mujoco_camera_interaction"])
def test_esp32_stand_in_links_models_whose_constants_exceed_dram(genome):
    """The lx106 stand-in links like an ESP32 (constants in a flash-mapped window, state in
    DRAM): models the capacity check accepts for esp32 whose constants (~430 KB) exceed DRAM link
    and run bit-exact with the twin."""
    from feagi_embed.executors import Firmware
    from feagi_embed.verify import verify

    from .conftest import require_board
    require_board("esp32")
    model = quantize(develop(load_genome(GENOMES / f"{genome}.json")))
    assert c_plan(model, load_board("esp32")).flash_bytes > 320 * 1024
    stim = Stimulus.random(model, 12, 1, max_per_burst=16)
    rows = verify(model, [Firmware("esp32", "esp32")], stim, 12, state_every=4)
    assert rows[1]["equal"] is True, rows[1]


def test_big_genome_fits_the_classic_esp32_static_dram_and_boot_heap():
    """bench/big_genome.py (>= 56,000 neurons, >= 440,000 synapses) on the ESP32's cited budgets
    (boards/esp32.toml: 160 KB static DRAM and 160 KB heap, each less 24 KB for the framework;
    heap blocks <= 110,000 B). Its 16-bit consecutive counts (unlimited areas) exceed one heap
    block, so they stay static; largest-first placement then overflows the static DRAM by the
    buffers that can never move (input queue, side list), the exact placement does not."""
    from bench.big_genome import big_genome
    from feagi_embed.plan import HEAP_CAPABLE

    model = quantize(develop(load_genome(big_genome())))
    assert model.n_neurons >= 56_000 and model.n_synapses >= 440_000
    bud = budget_for(load_board("esp32"))
    assert (bud.static_ram, bud.heap, bud.heap_block) == (139_264, 139_264, 110_000)
    plan = c_plan(model, load_board("esp32"))
    check_fit(plan, bud)
    cc16 = plan.buffer("cc16").nbytes
    assert cc16 == 2 * model.n_neurons - 2 * sum(  # every neuron but those of limited areas
        int(c) for c, lim in zip(model.area_counts, model.area_cfl) if lim <= 255)
    assert cc16 > bud.heap_block and "cc16" not in plan.heap
    fixed = sum(b.nbytes for b in plan.buffers if b.region == "ram" and b.name not in HEAP_CAPABLE)
    assert plan.static_bytes == cc16 + fixed <= bud.static_ram
    assert plan.heap_bytes == plan.ram_bytes - plan.static_bytes <= bud.heap
    assert all(plan.buffer(n).nbytes <= bud.heap_block for n in plan.heap)
    greedy = layout(model, queue_len=plan.constants["queue_len"], narrow_v=True, v8=True,
                    nonneg=True)
    place_state(greedy, bud.static_ram, bud.heap, bud.heap_block)
    assert greedy.ram_bytes == plan.ram_bytes and greedy.static_bytes > bud.static_ram
