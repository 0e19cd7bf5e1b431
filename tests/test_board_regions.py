"""Board regions of issue 14: ESP32-S3 PSRAM, ESP32 app partitions larger than the default,
RP2040 flash/RAM budgets.

Independent expectations: the numbers cited in boards/*.toml (vendor documents), hand-computed
byte counts, and the generated files' text.
"""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from feagi_embed.boards import load_board
from feagi_embed.build import build_project, c_plan
from feagi_embed.cli import main
from feagi_embed.connectome import develop
from feagi_embed.genome import load_genome
from feagi_embed.plan import budget_for
from feagi_embed.quantize import quantize

from .conftest import GENOMES
from .genome_builder import area_genes, genome


def test_esp32s3_psram_budget_is_the_cited_numbers():
    b = budget_for(load_board("esp32s3_psram"))
    assert b.psram == 8 * 1024 * 1024 - 65_536          # 8 MB octal PSRAM less the core's use
    assert b.static_ram == 327_680 - 24_576 and b.heap == 0
    assert b.flash == 1_310_720 and b.flash_large == 0x7F0000 - 327_680
    assert budget_for(load_board("esp32s3")).psram == 0


def test_rp2040_budget_follows_the_pico_sdk_memory_map():
    b = budget_for(load_board("rp2040"))
    assert b.static_ram == 256 * 1024 - 16_384           # SRAM0-3; SCRATCH_X/Y hold the stacks
    assert b.flash == 2 * 1024 * 1024 - 256 - 131_072    # less boot2 and the framework's code
    e = load_board("rp2040").emulator
    assert (e["flash_size"], e["ram_size"]) == (2 * 1024 * 1024, 256 * 1024)
    # boards without a flash reserve keep their manifest number
    assert budget_for(load_board("stm32f4")).flash == load_board("stm32f4").flash_bytes


@pytest.fixture(scope="module")
def blender():
    return quantize(develop(load_genome(GENOMES / "blender_ap.json")))


def test_blender_ap_state_goes_to_psram_coldest_first(blender, tmp_path):
    """203,512 neurons: 4 B of V each cannot stay in 296 KB of DRAM with the rest; V (and the
    16-bit consecutive counts, also touched per candidate only) move to the PSRAM, the bitmaps
    and the accumulator stay internal."""
    plan = c_plan(blender, load_board("esp32s3_psram"))
    assert plan.heap == {"v32", "cc16"}
    assert plan.buffer("v32").nbytes == 4 * blender.n_neurons
    assert plan.static_bytes <= 327_680 - 24_576 < plan.static_bytes + plan.buffer("cc16").nbytes + plan.buffer("v32").nbytes
    res = build_project(blender, "esp32s3_psram", tmp_path / "p", bursts=3)
    hdr = (res.out_dir / "include" / "feagi_model.h").read_text()
    assert "#define FEAGI_HEAP_PSRAM 1" in hdr and re.search(r"#define FEAGI_HEAP_V32 1 ", hdr)
    assert re.search(r"#define FEAGI_HEAP_BITS 0 ", hdr)
    sketch = (res.out_dir / "src" / "feagi_arduino.cpp").read_text()
    assert "heap_caps_malloc(bytes, MALLOC_CAP_SPIRAM | MALLOC_CAP_8BIT)" in sketch
    ini = (res.out_dir / "platformio.ini").read_text()
    assert "board_build.arduino.memory_type = qio_opi" in ini and "-DBOARD_HAS_PSRAM" in ini
    assert "board_build.partitions" not in ini and not (res.out_dir / "partitions.csv").exists()


def _wide_genome(n_src: int, n_dst: int) -> dict:
    morph = {"all": {"type": "patterns", "parameters": {
        "patterns": [[["*", "*", "*"], ["*", "*", "*"]]]}}}
    return genome(area_genes("c__src", "src", dims=(n_src, 1, 1), **{
                      "dstmap-d": {"c__dst": [["all", [1, 1, 1], 1, False]]}}),
                  area_genes("c__dst", "dst", dims=(n_dst, 1, 1)), morphologies=morph)


def test_esp32_partitions_csv_only_when_constants_and_code_exceed_the_default(tmp_path):
    """A 1,000 x 400 all-to-all mapping: 400,000 synapses, > 983,040 B of constants (the default
    1,310,720 B app partition less ~320 KB of code), gets the 4 MB factory partition."""
    big = quantize(develop(load_genome(_wide_genome(1000, 400))))
    assert big.n_synapses == 400_000
    b = budget_for(load_board("esp32"))
    plan = c_plan(big, load_board("esp32"))
    assert plan.flash_bytes + 327_680 > 1_310_720 and plan.flash_bytes < 0x3F0000 - 327_680
    res = build_project(big, "esp32", tmp_path / "big", bursts=2)
    csv = (res.out_dir / "partitions.csv").read_text()
    rows = [r.split(",") for r in csv.splitlines() if r and not r.startswith("#")]
    factory = [r for r in rows if r[0].strip() == "factory"]
    assert factory and int(factory[0][3], 16) == 0x10000 and int(factory[0][4], 16) == 0x3F0000
    assert int(factory[0][3], 16) % 0x10000 == 0                     # app alignment (ESP-IDF)
    assert int(factory[0][3], 16) + int(factory[0][4], 16) == 4 * 1024 * 1024
    ini = (res.out_dir / "platformio.ini").read_text()
    assert "board_build.partitions = partitions.csv" in ini
    hdr = (res.out_dir / "include" / "feagi_model.h").read_text()
    assert f"#define FEAGI_FLASH_BUDGET {b.flash_large}UL" in hdr
    gfile = tmp_path / "wide.json"
    gfile.write_text(json.dumps(_wide_genome(1000, 400)))
    r = CliRunner().invoke(main, ["report", str(gfile), "--board", "esp32"])
    assert r.exit_code == 0, r.output
    assert "writes partitions.csv with one factory app partition (3,801,088 B" in r.output
    # a small model keeps the default partition table
    small = quantize(develop(load_genome(_wide_genome(10, 10))))
    res2 = build_project(small, "esp32", tmp_path / "small", bursts=2)
    assert not (res2.out_dir / "partitions.csv").exists()
    assert "board_build.partitions" not in (res2.out_dir / "platformio.ini").read_text()
    assert "#define FEAGI_FLASH_BUDGET 1310720UL" in (res2.out_dir / "include" / "feagi_model.h").read_text()
