"""Board definitions: every board loads, budgets are positive and cited, errors are precise."""

from pathlib import Path

import pytest

from feagi_embed.boards import (
    ARCHITECTURES,
    Board,
    BoardError,
    UnknownBoardError,
    boards_dir,
    list_boards,
    load_board,
)
from feagi_embed.errors import FeagiEmbedError

REQUIRED = {"esp32", "esp32s3", "esp32c3", "stm32f4", "nucleo_f401re", "nucleo_f446re", "uno", "mega2560",
            "rp2040", "native"}


def test_required_boards_present():
    assert REQUIRED <= set(list_boards())


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_board_loads_with_positive_cited_budgets(name):
    b = load_board(name)
    assert isinstance(b, Board) and b.name == name
    assert b.architecture in ARCHITECTURES
    assert b.flash_bytes > 0 and b.ram_bytes > 0
    assert len(b.budget_source) > 20
    assert b.regions_of_kind("flash") and b.regions_of_kind("ram")
    assert all(r.bytes > 0 for r in b.regions.values() if r.kind != "heap")
    assert b.cc and b.cflags
    assert b.emulator_kind in ("qemu", "simavr", "none")
    assert b.micropython["heap_bytes"] >= 0 and b.micropython["heap_source"]
    if b.architecture != "native":
        assert b.pio_platform and b.pio_board and b.pio_framework


def test_known_budgets():
    uno = load_board("uno")
    assert (uno.flash_bytes, uno.ram_bytes, uno.mcu) == (32256, 2048, "atmega328p")
    mega = load_board("mega2560")
    assert (mega.flash_bytes, mega.ram_bytes) == (253952, 8192)
    assert load_board("nucleo_f401re").ram_bytes == 98304
    assert load_board("rp2040").ram_bytes == 270336


def test_esp32_memory_map_is_honest():
    b = load_board("esp32")
    assert b.regions["dram_static"].bytes == 160 * 1024
    assert b.regions["dram_heap"].kind == "heap"
    assert b.regions["dram_static"].bytes + b.regions["dram_heap"].bytes == b.ram_bytes == 320 * 1024


def test_emulators():
    assert load_board("stm32f4").emulator["machine"] == "netduinoplus2"
    assert load_board("esp32c3").emulator["machine"] == "virt"
    assert load_board("esp32").emulator["cpu"] == "lx106"
    assert load_board("uno").emulator["mcu"] == "atmega328p"
    assert load_board("mega2560").emulator["mcu"] == "atmega2560"
    assert load_board("native").emulator_kind == "none"


def test_unknown_board_is_a_clear_error():
    with pytest.raises(UnknownBoardError) as ei:
        load_board("esp64")
    msg = str(ei.value)
    assert "esp64" in msg and "esp32" in msg and "uno" in msg
    assert isinstance(ei.value, FeagiEmbedError)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / f"{name}.toml"
    p.write_text(text)
    return p


def _valid_text(name: str) -> str:
    return (boards_dir() / "uno.toml").read_text().replace('name = "uno"', f'name = "{name}"')


def test_load_by_path(tmp_path):
    b = load_board(_write(tmp_path, "myuno", _valid_text("myuno")))
    assert b.name == "myuno" and b.ram_bytes == 2048


def test_bad_value_names_file_key_value_expected(tmp_path):
    p = _write(tmp_path, "bad", _valid_text("bad").replace("ram_bytes = 2_048", "ram_bytes = -5"))
    with pytest.raises(BoardError) as ei:
        load_board(p)
    e = ei.value
    assert e.file == str(p) and e.key == "budget.ram_bytes" and e.value == -5
    assert "bad.toml" in str(e) and "budget.ram_bytes" in str(e) and "positive" in str(e)


def test_bad_type_and_missing_key(tmp_path):
    p = _write(tmp_path, "t1", _valid_text("t1").replace('architecture = "avr"', 'architecture = "pdp11"'))
    with pytest.raises(BoardError, match=r"architecture: got 'pdp11'; expected one of xtensa"):
        load_board(p)
    p = _write(tmp_path, "t2", _valid_text("t2").replace('mcu = "atmega328p"\n', "", 1))
    with pytest.raises(BoardError, match=r"mcu: got None; .*key missing"):
        load_board(p)


def test_invalid_toml(tmp_path):
    p = _write(tmp_path, "broken", "name = \n")
    with pytest.raises(BoardError, match="valid TOML"):
        load_board(p)


def test_name_must_match_file(tmp_path):
    p = _write(tmp_path, "other", _valid_text("uno"))
    with pytest.raises(BoardError, match="name: got 'uno'"):
        load_board(p)


def test_cli_boards_lists_every_board():
    import json

    from click.testing import CliRunner

    from feagi_embed.boards import list_boards
    from feagi_embed.cli import main

    r = CliRunner().invoke(main, ["boards", "--json"])
    assert r.exit_code == 0
    names = [b["name"] for b in json.loads(r.output)]
    assert names == list_boards()
    assert {"esp32", "esp32c3", "stm32f4", "uno", "mega2560", "rp2040", "native"} <= set(names)
