"""Build firmware driven over the two-way link (``docs/link.md``).

The generated project is written with the link built in (:func:`feagi_embed.build.build_project`
with ``link=True``: ``feagi_link.c`` in its runtime library, the link's RAM in its capacity check,
``src/feagi_io_link.c`` with an io map); the link firmware compiles its model and runtime with
``firmware/link/link_main.c`` in place of the generated test ``src/main.c``, plus the family's
byte-reading HAL (``firmware/hal/link_<family>.c``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..boards import Board, load_board
from ..errors import FeagiEmbedError
from ..resources import firmware_dir, hal_dir

#: HAL family -> the file implementing feagi_hal_getc
LINK_HAL = {"native": "link_native.c", "avr": "link_avr.c", "cortexm": "link_cortexm.c",
            "riscv_virt": "link_riscv_virt.c", "xtensa_lx106": "link_xtensa_lx106.c"}
#: HAL families whose text output (semihosting) is not the link: frames go to their UART writer
UART_PUTC = ("cortexm", "riscv_virt")
#: HAL families whose emulator never sees the end of its UART input (the host closes it)
NEVER_EXITS = ("cortexm", "riscv_virt")
SANITIZE = ("-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-g", "-O1")


class LinkBuildError(FeagiEmbedError):
    """The board's HAL family has no link byte reader (``firmware/hal/link_<family>.c``)."""


def link_sources(project: Path, board: Board, main: Path | None = None) -> list[Path]:
    """C sources of a link build of ``project`` (a folder made by ``build_project``).

    Args:
        project: the generated project folder.
        board: the board whose HAL family reads the bytes.
        main: the ``main()`` source (default ``firmware/link/link_main.c``; the fuzz driver
            passes its own).

    Raises:
        LinkBuildError: the HAL family has no link reader.
    """
    if board.hal not in LINK_HAL:
        raise LinkBuildError(f"board {board.name}: HAL family {board.hal!r} has no link byte "
                             f"reader; expected one of {', '.join(sorted(LINK_HAL))}")
    fw = firmware_dir()
    srcs = [p for p in sorted((project / "src").glob("*.c")) if p.name != "main.c"]
    srcs += sorted((project / "lib" / "feagi_runtime" / "src").glob("*.c"))
    if not any(p.name == "feagi_link.c" for p in srcs):  # a project built without --link
        srcs.append(fw / "feagi_link.c")
    srcs += [main or fw / "link" / "link_main.c", hal_dir() / LINK_HAL[board.hal]]
    return srcs


def link_includes(project: Path) -> list[Path]:
    """Include folders of a link build (generated headers, runtime, ``firmware/`` for feagi_link.h)."""
    return [project / "include", project / "lib" / "feagi_runtime" / "src", firmware_dir()]


def build_link_firmware(model, board: Board | str, work_dir: str | Path, *,
                        sanitize: bool = False, main: Path | None = None,
                        extra_cflags: Sequence[str] = (), stimulus=None,
                        bursts: int | None = None, io_map=None, io_board=None) -> Path:
    """Generate the project for ``board`` in ``work_dir/project`` and compile the link firmware.

    Args:
        model: :class:`~feagi_embed.model.Model`.
        board: board name or :class:`~feagi_embed.boards.Board`.
        sanitize: (native only) compile with AddressSanitizer + UndefinedBehaviorSanitizer.
        main: replacement ``main()`` source (the fuzz driver).
        stimulus, bursts: size the input queue for this schedule (as ``build_project``).
        io_map: an io map (``io.toml``): the device encodes SensorValue items and decodes its
            actuators after every burst (``firmware/feagi_io_link.c``, MotorValues frames).
        io_board: the board whose pin facts validate ``io_map`` (default ``board``; a native
            build of a robot's io map passes the robot's board).

    Returns:
        The ELF path (``work_dir/build/link-<board>.elf``).

    Raises:
        LinkBuildError, TargetError, ToolMissingError, CapacityError.
    """
    from ..build import build_project
    from ..targets.toolchain import build_elf

    b = board if isinstance(board, Board) else load_board(board)
    work = Path(work_dir)
    proj = build_project(model, b, work / "project", stimulus=stimulus, bursts=bursts,
                         io_map=io_map, link=True, io_board=io_board).out_dir
    flags = ["-Werror", *extra_cflags]
    if sanitize:
        if b.architecture != "native":
            raise LinkBuildError(f"board {b.name}: sanitizers need the native build")
        flags += list(SANITIZE)
    defines = {"FEAGI_LINK_PUTC": "feagi_link_uart_putc"} if b.hal in UART_PUTC else None
    machine = str((b.emulator or {}).get("machine", "")) if b.hal == "cortexm" else ""
    if machine == "microbit":
        defines["FEAGI_LINK_NRF51_UART"] = "1"  # nRF51822's UART
    elif machine.startswith("mps2"):
        defines["FEAGI_LINK_CMSDK_UART"] = "1"  # the rp2040 stand-in (mps2-an385): CMSDK UART0
    r = build_elf(b, link_sources(proj, b, main), link_includes(proj), defines, work / "build",
                  flags, name="link")
    return r.elf


def link_command(board: Board | str, elf: str | Path) -> list[str]:
    """The command line that runs link firmware with its link on stdin / stdout (for
    :class:`~feagi_embed.link.client.ProcessTransport`): the ELF itself natively; the simavr
    harness ``firmware/link/avr_link_run.c`` (USART0 on stdio) for AVR boards; QEMU with the
    first USART on ``-serial stdio`` for Cortex-M boards, the virt machine's 16550 UART for
    RV32 boards (QEMU never exits by itself there: close the transport with a kill timeout).

    Raises:
        LinkBuildError: no emulator link for the board's family.
        ToolMissingError: libsimavr missing.
    """
    b = board if isinstance(board, Board) else load_board(board)
    if b.architecture == "native":
        return [str(elf)]
    if b.hal == "avr":
        from ..resources import hal_dir
        from ..targets.emulators import SIMAVR_INCLUDE, _build_tool, avr_harness_args
        from ..targets.toolchain import ToolMissingError

        if not (SIMAVR_INCLUDE / "sim_avr.h").is_file():
            raise ToolMissingError("libsimavr headers missing (apt-get install libsimavr-dev)")
        harness = _build_tool(firmware_dir() / "link" / "avr_link_run.c", "avr_link_run",
                              avr_harness_args(), (hal_dir() / "avr_sim.h",))
        return [str(harness), str(elf), str(b.emulator["mcu"]), str(int(b.emulator["frequency"]))]
    if b.hal == "xtensa_lx106" and b.emulator_kind == "qemu":
        e = b.emulator
        return [str(e["binary"]), "-M", str(e["machine"]), "-cpu", str(e["cpu"]), "-display",
                "none", "-monitor", "none", "-serial", "none", "-semihosting",
                *[str(a) for a in e.get("extra_args", [])], "-kernel", str(elf)]
    if b.hal in ("cortexm", "riscv_virt") and b.emulator_kind == "qemu":
        e = b.emulator
        cmd = [str(e["binary"]), "-M", str(e["machine"])]
        if e.get("cpu"):
            cmd += ["-cpu", str(e["cpu"])]
        if b.hal == "riscv_virt":
            cmd += ["-bios", "none"]  # the firmware starts at the reset vector itself
        return cmd + ["-display", "none", "-monitor", "none", "-serial", "stdio",
                      "-semihosting-config", "enable=on,target=native", "-kernel", str(elf)]
    raise LinkBuildError(f"board {b.name}: no emulated link for HAL family {b.hal!r} "
                         "(native, avr (simavr), cortexm and riscv_virt (QEMU) are implemented)")
