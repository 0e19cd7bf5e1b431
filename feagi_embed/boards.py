"""Board definitions: ``boards/<name>.toml`` → :class:`Board`.

A board file gives the MCU, the architecture, the PlatformIO environment, flash/RAM budgets (with
their cited source), memory regions, compiler flags for the local cross toolchain, the emulator CI
runs it on, and the MicroPython heap of its port. ``load_board("esp32")`` reads and validates one;
``list_boards()`` lists the names. Problems raise :class:`BoardError` naming file, key, value and
what was expected.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:  # Python >= 3.11
    import tomllib as _toml
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as _toml  # type: ignore[no-redef]

from feagi_embed.errors import FeagiEmbedError

ARCHITECTURES = ("xtensa", "riscv", "arm", "avr", "native", "wasm32")
REGION_KINDS = ("flash", "ram", "heap", "psram")
EMULATOR_KINDS = ("qemu", "simavr", "node", "none")
HALS = ("native", "cortexm", "riscv_virt", "xtensa_lx106", "avr", "wasm")


from feagi_embed.resources import boards_dir  # noqa: E402  (re-exported)


class BoardError(FeagiEmbedError):
    """A board file that is missing or invalid.

    Attributes:
        file: the board file (or the board name asked for).
        key: dotted TOML key (``""`` for the whole file).
        value: the offending value (``None`` when missing).
        expected: what was expected, in words.
    """

    def __init__(self, file: str, key: str, value: Any, expected: str):
        self.file = file
        self.key = key
        self.value = value
        self.expected = expected
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file}: {self.key}" if self.key else self.file
        return f"{where}: got {self.value!r}; expected {self.expected}"


class UnknownBoardError(BoardError):
    """``load_board`` was asked for a name with no board file."""


@dataclass(frozen=True)
class Region:
    """One memory region of a board budget (``kind``: flash, ram, heap or psram: external RAM
    that boot-time allocations take, ESP32-S3 PSRAM through ``heap_caps_malloc(MALLOC_CAP_SPIRAM)``).

    Attributes:
        bytes: size of the region.
        reserve: bytes of it the framework (ESP-IDF, Arduino core, RTOS tasks) keeps for itself;
            the model may use ``bytes - reserve`` (:attr:`usable`).
        max_block: the largest single array the region can hold: heap regions, the largest
            allocation the heap can serve; flash on AVR, 32,767 B (avr-gcc objects are limited
            by its 16-bit size_t). 0: no limit beyond the region.
        data_limit: flash regions: bytes of constant data the runtime's reads can reach (AVR
            ``pgm_read_*`` use 16-bit addresses: the first 64 KB). 0: all of it.
    """

    name: str
    bytes: int
    kind: str
    note: str = ""
    reserve: int = 0
    max_block: int = 0
    data_limit: int = 0

    @property
    def usable(self) -> int:
        """Bytes the model may take (``bytes - reserve``)."""
        return max(self.bytes - self.reserve, 0)


@dataclass(frozen=True)
class Board:
    """Facts about one board, read from ``boards/<name>.toml``.

    Attributes:
        name: board id (file stem).
        description: human description.
        mcu: MCU part (PlatformIO ``build.mcu`` spelling where there is one).
        architecture: one of :data:`ARCHITECTURES`.
        cpu_hz: core clock (0 for native).
        pio_platform, pio_board, pio_framework: the PlatformIO environment.
        flash_bytes, ram_bytes: total budgets.
        budget_source: where the budgets come from (manifest key or datasheet).
        regions: memory regions by name (e.g. ``flash``, ``dram_static``, ``dram_heap``).
        toolchain: toolchain family (``native``, ``arm-none-eabi``, ``riscv-none``, ``avr``,
            ``xtensa-lx106``); ``cc`` the compiler; ``cflags`` its board flags; ``hal`` the
            ``firmware/hal`` family; ``stand_in`` says when the build is for a stand-in core.
        emulator: the ``[emulator]`` table (``kind`` = qemu / simavr / none, plus machine, cpu,
            mcu, memory map).
        micropython: the ``[micropython]`` table (``port``, ``heap_bytes``, ``heap_source``, ``arch``).
        path: the file it was read from.
        pio_options: ``[platformio.options]``: extra ``key = value`` lines of the PlatformIO
            environment (e.g. ``board_build.arduino.memory_type`` of a PSRAM module);
            ``pio_build_flags`` (``platformio.build_flags``) extra ``build_flags`` lines.
        partitions: ``[partitions]``: the larger app partition a build may select when the
            model's flash need exceeds the default one (``app_bytes``, ``csv`` rows, ``source``;
            empty: none), :func:`feagi_embed.plan.budgets.budget_for`.
    """

    name: str
    description: str
    mcu: str
    architecture: str
    cpu_hz: int
    pio_platform: str
    pio_board: str
    pio_framework: str
    pio_platform_version: str
    flash_bytes: int
    ram_bytes: int
    budget_source: str
    regions: Mapping[str, Region]
    toolchain: str
    cc: str
    cflags: tuple[str, ...]
    hal: str
    stand_in: str
    emulator: Mapping[str, Any]
    micropython: Mapping[str, Any]
    path: Path = field(compare=False)
    pio_options: Mapping[str, str] = field(default_factory=dict)
    pio_build_flags: tuple[str, ...] = ()
    partitions: Mapping[str, Any] = field(default_factory=dict)

    @property
    def emulator_kind(self) -> str:
        """``qemu``, ``simavr`` or ``none``."""
        return str(self.emulator.get("kind", "none"))

    def regions_of_kind(self, kind: str) -> list[Region]:
        """Regions whose ``kind`` is ``flash``, ``ram`` or ``heap``."""
        return [r for r in self.regions.values() if r.kind == kind]


def list_boards() -> list[str]:
    """Names of every board file, sorted."""
    d = boards_dir()
    return sorted(p.stem for p in d.glob("*.toml")) if d.is_dir() else []


class _Reader:
    def __init__(self, file: str, data: Mapping[str, Any]):
        self.file = file
        self.data = data

    def get(self, key: str, typ: type | tuple[type, ...], expected: str, default: Any = ...) -> Any:
        node: Any = self.data
        for part in key.split("."):
            if not isinstance(node, Mapping) or part not in node:
                if default is not ...:
                    return default
                raise BoardError(self.file, key, None, f"{expected} (key missing)")
            node = node[part]
        if not isinstance(node, typ) or (isinstance(node, bool) and typ is int):
            raise BoardError(self.file, key, node, expected)
        return node

    def positive(self, key: str, allow_zero: bool = False) -> int:
        v = self.get(key, int, "an integer byte count")
        if v < 0 or (v == 0 and not allow_zero):
            raise BoardError(self.file, key, v, "a positive integer" if not allow_zero else "an integer >= 0")
        return v

    def choice(self, key: str, options: tuple[str, ...], default: Any = ...) -> str:
        v = self.get(key, str, f"one of {', '.join(options)}", default)
        if v not in options:
            raise BoardError(self.file, key, v, f"one of {', '.join(options)}")
        return v


def _parse(path: Path) -> Board:
    file = str(path)
    try:
        data = _toml.loads(path.read_text(encoding="utf-8"))
    except _toml.TOMLDecodeError as e:
        raise BoardError(file, "", None, f"valid TOML ({e})") from None
    r = _Reader(file, data)
    name = r.get("name", str, "the board id (a string)")
    if name != path.stem:
        raise BoardError(file, "name", name, f"{path.stem!r} (the file name)")
    regions: dict[str, Region] = {}
    for rname, rdata in r.get("regions", dict, "a [regions.<name>] table").items():
        if not isinstance(rdata, Mapping):
            raise BoardError(file, f"regions.{rname}", rdata, "a table with bytes and kind")
        kind = r.choice(f"regions.{rname}.kind", REGION_KINDS)
        size = r.positive(f"regions.{rname}.bytes", allow_zero=(kind in ("heap", "psram")))
        reserve = r.get(f"regions.{rname}.reserve", int, "bytes (an integer >= 0)", 0)
        if reserve < 0 or reserve > size:
            raise BoardError(file, f"regions.{rname}.reserve", reserve,
                             f"0 <= reserve <= bytes ({size})")
        max_block = r.get(f"regions.{rname}.max_block", int, "bytes (an integer >= 0)", 0)
        if max_block < 0:
            raise BoardError(file, f"regions.{rname}.max_block", max_block, "an integer >= 0")
        data_limit = r.get(f"regions.{rname}.data_limit", int, "bytes (an integer >= 0)", 0)
        if data_limit < 0:
            raise BoardError(file, f"regions.{rname}.data_limit", data_limit, "an integer >= 0")
        regions[rname] = Region(rname, size, kind, r.get(f"regions.{rname}.note", str, "a string", ""),
                                reserve, max_block, data_limit)
    if not any(x.kind == "flash" for x in regions.values()):
        raise BoardError(file, "regions", sorted(regions), "at least one region with kind = \"flash\"")
    if not any(x.kind == "ram" for x in regions.values()):
        raise BoardError(file, "regions", sorted(regions), "at least one region with kind = \"ram\"")
    emulator = dict(r.get("emulator", dict, "an [emulator] table"))
    ekind = r.choice("emulator.kind", EMULATOR_KINDS)
    if ekind == "qemu":
        r.get("emulator.binary", str, "the qemu-system-* binary")
        r.get("emulator.machine", str, "a QEMU machine name (-M)")
        if r.get("build.hal", str, "a HAL name") != "xtensa_lx106":
            for k in ("flash_origin", "flash_size", "ram_origin", "ram_size"):
                r.positive(f"emulator.{k}", allow_zero=k.endswith("origin"))
    elif ekind == "simavr":
        r.get("emulator.mcu", str, "an avr mcu name (e.g. atmega328p)")
        r.positive("emulator.frequency")
    cflags = r.get("build.cflags", list, "a list of compiler flags")
    if not all(isinstance(f, str) for f in cflags):
        raise BoardError(file, "build.cflags", cflags, "a list of strings")
    options = dict(r.get("platformio.options", dict, "a [platformio.options] table", {}))
    for k, v in options.items():
        if not isinstance(v, str):
            raise BoardError(file, f"platformio.options.{k}", v, "a string (the value of that "
                             "platformio.ini line)")
    pio_flags = r.get("platformio.build_flags", list, "a list of build flags", [])
    if not all(isinstance(f, str) for f in pio_flags):
        raise BoardError(file, "platformio.build_flags", pio_flags, "a list of strings")
    partitions = dict(r.get("partitions", dict, "a [partitions] table", {}))
    if partitions:
        r.positive("partitions.app_bytes")
        r.get("partitions.csv", str, "the partition table rows (ESP-IDF CSV)")
        r.get("partitions.source", str, "where the partition layout comes from")
    mp = dict(r.get("micropython", dict, "a [micropython] table"))
    r.get("micropython.port", str, "a MicroPython port name or \"none\"")
    r.positive("micropython.heap_bytes", allow_zero=True)
    r.get("micropython.heap_source", str, "where the heap size comes from")
    return Board(
        name=name,
        description=r.get("description", str, "a string"),
        mcu=r.get("mcu", str, "the MCU part name"),
        architecture=r.choice("architecture", ARCHITECTURES),
        cpu_hz=r.positive("cpu_hz", allow_zero=True),
        pio_platform=r.get("platformio.platform", str, "a PlatformIO platform"),
        pio_board=r.get("platformio.board", str, "a PlatformIO board id"),
        pio_framework=r.get("platformio.framework", str, "a PlatformIO framework"),
        pio_platform_version=r.get("platformio.platform_version", str,
                                   "a PlatformIO platform version such as \"6.10.0\"", ""),
        flash_bytes=r.positive("budget.flash_bytes"),
        ram_bytes=r.positive("budget.ram_bytes"),
        budget_source=r.get("budget.source", str, "the cited source of the budgets"),
        regions=regions,
        toolchain=r.choice("build.toolchain", ("native", "arm-none-eabi", "riscv-none", "avr", "xtensa-lx106", "wasm32")),
        cc=r.get("build.cc", str, "the C compiler executable"),
        cflags=tuple(cflags),
        hal=r.choice("build.hal", HALS),
        stand_in=r.get("build.stand_in", str, "a string", ""),
        emulator=emulator,
        micropython=mp,
        path=path,
        pio_options=options,
        pio_build_flags=tuple(pio_flags),
        partitions=partitions,
    )


def load_board(name: str | os.PathLike[str]) -> Board:
    """Load a board by id (``"esp32"``) or by path to a ``.toml`` file.

    Raises:
        UnknownBoardError: no such board (the message lists the known ones).
        BoardError: the file is invalid (file, key, value, expected).
    """
    s = os.fspath(name)
    path = Path(s)
    if not (s.endswith(".toml") and path.is_file()):
        path = boards_dir() / f"{s}.toml"
    if not path.is_file():
        raise UnknownBoardError(str(path), "", s, f"one of {', '.join(list_boards()) or '(no boards found)'}")
    return _parse(path)
