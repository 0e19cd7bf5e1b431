"""Board → :class:`Budget`: what a model may use of a board, region by region.

Every number comes from the board file (``boards/*.toml``, each cited there); the reserves the
framework keeps are already subtracted (``Region.usable``).
"""

from __future__ import annotations

from dataclasses import dataclass



@dataclass(frozen=True)
class Budget:
    """Bytes a model may use on one board.

    Attributes:
        board: board name (for messages).
        static_ram: statically allocatable RAM (``kind = "ram"`` regions less reserves).
        heap: boot-time heap (``kind = "heap"`` regions such as ESP32's ``dram_heap``; 0: none).
        heap_block: largest single heap allocation (0: no limit beyond ``heap``).
        flash: flash for model constants.
        flash_data_limit: constant bytes the runtime can address (AVR near ``pgm_read_*``; 0:
            no limit beyond ``flash``).
        flash_array_max: largest single constant array (avr-gcc: 32,767 B; 0: no limit).
        mpy_port: MicroPython port of the board (``"none"``: no port).
        mpy_heap: MicroPython GC heap (bytes).
        mpy_heap_source: where ``mpy_heap`` comes from.
        mpy_arch: mpy-cross architecture of the port.
        psram: external RAM (``kind = "psram"`` regions, ESP32-S3 PSRAM) that boot-time
            allocations take instead of ``heap`` (0: none); the boot-placed arrays then live there.
        psram_block: largest single PSRAM allocation (0: no limit beyond ``psram``).
        flash_large: constant bytes with the board's larger app partition (``[partitions]``,
            ESP32 ``partitions.csv``): ``app_bytes - code_bytes``; 0: the board has none.
        flash_code: bytes of the larger partition's app taken by code (framework + runtime; the
            ``[partitions] code_bytes`` estimate), counted when deciding whether the default
            partition suffices (:meth:`needs_partitions`).
        partitions_csv: the larger partition table (ESP-IDF CSV rows) a build writes when needed.
    """

    board: str
    static_ram: int
    heap: int = 0
    heap_block: int = 0
    flash: int = 0
    flash_data_limit: int = 0
    flash_array_max: int = 0
    mpy_port: str = "none"
    mpy_heap: int = 0
    mpy_heap_source: str = ""
    mpy_arch: str = ""
    psram: int = 0
    psram_block: int = 0
    flash_large: int = 0
    flash_code: int = 0
    partitions_csv: str = ""

    def needs_partitions(self, flash_bytes: int) -> bool:
        """True when ``flash_bytes`` of model constants plus the code do not fit the default app
        partition (``flash``) and the board has a larger one (``flash_large``)."""
        return bool(self.flash_large) and flash_bytes + self.flash_code > self.flash

    def flash_for(self, flash_bytes: int) -> int:
        """Flash available to ``flash_bytes`` of constants: the default app partition, or the
        larger one when :meth:`needs_partitions`."""
        return self.flash_large if self.needs_partitions(flash_bytes) else self.flash

    @property
    def flash_reachable(self) -> int:
        """Constant bytes the model may use: ``flash``, or less where reads cannot reach it."""
        return min(self.flash, self.flash_data_limit or self.flash)


def budget_for(board) -> Budget:
    """The budget of a :class:`~feagi_embed.boards.Board` (no ``[micropython]`` table: no port;
    ``kind = "psram"`` regions: :attr:`Budget.psram`; a ``[partitions]`` table:
    :attr:`Budget.flash_large`)."""
    ram = board.regions_of_kind("ram")
    heap = board.regions_of_kind("heap")
    flash = board.regions_of_kind("flash")
    psram = board.regions_of_kind("psram")
    mp = getattr(board, "micropython", None) or {}
    part = getattr(board, "partitions", None) or {}
    code = int(part.get("code_bytes", 0))
    return Budget(
        board=board.name,
        static_ram=sum(r.usable for r in ram) if ram else board.ram_bytes,
        heap=sum(r.usable for r in heap),
        heap_block=max((r.max_block or r.usable for r in heap), default=0),
        # a flash region's reserve (boot loader, framework code) is not the model's
        flash=min([board.flash_bytes] + [r.usable for r in flash if r.reserve]),
        flash_data_limit=min((r.data_limit for r in flash if r.data_limit), default=0),
        flash_array_max=min((r.max_block for r in flash if r.max_block), default=0),
        mpy_port=str(mp.get("port", "none")), mpy_heap=int(mp.get("heap_bytes", 0)),
        mpy_heap_source=str(mp.get("heap_source", "")), mpy_arch=str(mp.get("arch", "")),
        psram=sum(r.usable for r in psram),
        psram_block=max((r.max_block or r.usable for r in psram), default=0),
        flash_large=max(int(part.get("app_bytes", 0)) - code, 0), flash_code=code,
        partitions_csv=str(part.get("csv", "")))
