"""Cross-build + emulator harnesses, proved with a CRC-32 self-test on every board.

Tests needing a compiler or emulator skip when it is missing, unless FEAGI_EMBED_REQUIRE_TOOLS=1
(then they fail). Install everything with .ci/install-toolchains.sh.
"""

from __future__ import annotations

import configparser
import json
import zlib
from pathlib import Path

import pytest

from feagi_embed.boards import list_boards, load_board
from feagi_embed.targets import (
    TargetError,
    build_command,
    can_build,
    can_run,
    elf_sizes,
    missing_build_tools,
    run_elf,
    run_on_target,
)

from .conftest import require, require_board

SELFTEST = Path(__file__).parent / "data" / "hal_selftest" / "crc_selftest.c"
BOARDS = list_boards()


def expected_crc() -> int:
    """Python twin of crc_selftest.c's buffer: 64-bit LCG, unsigned and signed 64-bit division."""
    m = 1 << 64
    x = 0x0123456789ABCDEF
    buf = bytearray()
    for _ in range(64):
        x = (x * 6364136223846793005 + 1442695040888963407) % m
        v = x // 1000003
        sx = x - m if x >= 1 << 63 else x
        s = -(sx // 7) if sx >= 0 else (-sx) // 7  # C: trunc(sx / -7)
        buf.append(((v % 251) ^ (x >> 56) ^ (s & 0xFF)) & 0xFF)
    return zlib.crc32(bytes(buf))


def need(tools: list[str], what: str) -> None:
    require(tools, f"{what} (run .ci/install-toolchains.sh)")


def runnable(board: str) -> None:
    require_board(board)


@pytest.mark.parametrize("board", BOARDS)
def test_crc_selftest_runs_on_target(board, tmp_path):
    runnable(board)
    r = run_on_target(board, [SELFTEST], defines={"EXIT_CODE": 3}, out_dir=tmp_path, timeout=60,
                      extra_cflags=["-Werror", "-pedantic"])
    assert r.run is not None, f"{board}: no emulator"
    assert not r.run.timed_out, r.run.stderr
    assert r.stdout == f"crc32={expected_crc():08x} n=-64\n", (r.stdout, r.run.stderr)
    assert r.exit_code == 3, r.run.stderr
    b = load_board(board)
    if b.architecture != "native":
        assert r.metric is not None and r.metric > 1000
        assert r.metric_kind == ("cycles" if b.emulator_kind == "simavr" else "instructions")
    assert 0 < r.sizes.flash <= b.flash_bytes
    assert r.sizes.ram <= b.ram_bytes


@pytest.mark.parametrize("board", ["stm32f4", "uno", "esp32c3", "esp32"])
def test_metric_is_deterministic_and_exit_zero(board, tmp_path):
    runnable(board)
    r1 = run_on_target(board, [SELFTEST], out_dir=tmp_path)
    r2 = run_elf(board, r1.elf)
    assert r1.exit_code == 0 == r2.exit_code
    assert r1.metric == r2.metric and r1.metric is not None


@pytest.mark.parametrize("board", ["native", "stm32f4", "uno"])
def test_timeout_is_reported(board, tmp_path):
    runnable(board)
    src = tmp_path / "spin.c"
    src.write_text("#include \"feagi_hal.h\"\nint main(void) { volatile int x = 1; while (x) { } return 0; }\n")
    r = run_on_target(board, [src], out_dir=tmp_path, timeout=2, max_cycles=2_000_000)
    assert r.run.timed_out and r.exit_code == 124


def test_ram_overflow_is_a_link_error(tmp_path):
    need(missing_build_tools("nucleo_f401re"), "nucleo_f401re")
    src = tmp_path / "big.c"
    src.write_text("#include <stdint.h>\nstatic volatile uint8_t big[100000];\n"
                   "int main(void) { big[0] = 1; return big[99999]; }\n")
    with pytest.raises(TargetError, match="overflowed"):
        run_on_target("nucleo_f401re", [src], out_dir=tmp_path)


def test_build_error_names_command_and_output(tmp_path):
    need(missing_build_tools("native"), "native")
    src = tmp_path / "bad.c"
    src.write_text("int main(void) { return nope; }\n")
    with pytest.raises(TargetError) as ei:
        run_on_target("native", [src], out_dir=tmp_path)
    assert "nope" in str(ei.value) and "gcc" in str(ei.value)


def test_build_command_shape(tmp_path):
    cmd = build_command("esp32c3", [SELFTEST], tmp_path / "x.elf", include_dirs=["inc"], defines={"A": 1, "B": None})
    assert cmd[0] == "riscv64-unknown-elf-gcc" and "-march=rv32imc" in cmd and "-DA=1" in cmd and "-DB" in cmd
    assert "-Iinc" in cmd and "-nostdlib" in cmd and cmd[-1] == "-lgcc"
    cmd = build_command("uno", [SELFTEST.parent], tmp_path / "x.elf")
    assert cmd[0] == "avr-gcc" and "-mmcu=atmega328p" in cmd and str(SELFTEST) in cmd


def test_elf_sizes_native(tmp_path):
    need(missing_build_tools("native"), "native")
    r = run_on_target("native", [SELFTEST], out_dir=tmp_path)
    s = elf_sizes(r.elf)
    assert s.text > 0 and s.flash == s.text + s.rodata + s.data and s.ram == s.data + s.bss
    assert json.loads(json.dumps(s.to_json()))["flash"] == s.flash


def test_can_build_and_run_flags():
    for b in BOARDS:
        assert isinstance(can_build(b), bool) and isinstance(can_run(b), bool)


def test_render_project_files_platformio():
    from feagi_embed.targets.project import render_project_files

    files = render_project_files(load_board("esp32"), {"genome_name": "essential_genome", "genome_sha256": "ab" * 32,
                                                        "tool_version": "0.1.0"})
    ini = files["platformio.ini"]
    cp = configparser.ConfigParser()
    cp.read_string(ini)
    assert cp["env:esp32"]["board"] == "esp32dev" and cp["env:esp32"]["platform"] == "espressif32 @ 6.10.0"
    assert cp["platformio"]["extra_configs"] == "platformio_user.ini"
    assert "FEAGI_BOARD_ESP32" in cp["env:esp32"]["build_flags"]
    lib = json.loads(files["lib/feagi_runtime/library.json"])
    assert lib["name"] == "feagi_runtime"
    props = configparser.ConfigParser()
    props.read_string("[x]\n" + files["lib/feagi_runtime/library.properties"])
    assert props["x"]["name"] == "feagi_runtime" and props["x"]["architectures"] == "esp32"
    assert "xtensa-lx106-elf-gcc" in files["Makefile"] and "essential_genome" in files["README.md"]


def test_render_project_files_all_boards_and_strict():
    from feagi_embed.targets.project import ProjectTemplateError, render_project_files

    for name in BOARDS:
        files = render_project_files(load_board(name), {"genome_name": "g", "genome_sha256": "0" * 64,
                                                        "tool_version": "0"})
        cp = configparser.ConfigParser()
        cp.read_string(files["platformio.ini"])
        assert "\t" in files["Makefile"]
    with pytest.raises(ProjectTemplateError, match="genome_name"):
        render_project_files(load_board("uno"), {"genome_sha256": "0" * 64, "tool_version": "0"})


@pytest.mark.parametrize("board", ["native", "stm32f4", "esp32c3", "uno", "esp32", "rp2040"])
def test_generated_makefile_builds_and_runs(board, tmp_path):
    """The rendered Makefile builds the self-test with the HAL copied into the project."""
    import shutil
    import subprocess

    from feagi_embed.targets.project import render_project_files

    runnable(board)
    if not shutil.which("make"):
        need(["make"], board)
    files = render_project_files(board, {"genome_name": "g", "genome_sha256": "0" * 64, "tool_version": "0"})
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    (tmp_path / "src").mkdir()
    shutil.copy(SELFTEST, tmp_path / "src")
    proc = subprocess.run(["make", "-C", str(tmp_path)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    r = run_elf(board, tmp_path / "build" / "firmware.elf", timeout=60)
    assert r.stdout == f"crc32={expected_crc():08x} n=-64\n" and r.exit_code == 0
