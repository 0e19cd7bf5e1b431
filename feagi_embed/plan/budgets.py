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

    @property
    def flash_reachable(self) -> int:
        """Constant bytes the model may use: ``flash``, or less where reads cannot reach it."""
        return min(self.flash, self.flash_data_limit or self.flash)


def budget_for(board) -> Budget:
    """The budget of a :class:`~feagi_embed.boards.Board` (no ``[micropython]`` table: no port)."""
    ram = board.regions_of_kind("ram")
    heap = board.regions_of_kind("heap")
    flash = board.regions_of_kind("flash")
    mp = getattr(board, "micropython", None) or {}
    return Budget(
        board=board.name,
        static_ram=sum(r.usable for r in ram) if ram else board.ram_bytes,
        heap=sum(r.usable for r in heap),
        heap_block=max((r.max_block or r.usable for r in heap), default=0),
        flash=board.flash_bytes,
        flash_data_limit=min((r.data_limit for r in flash if r.data_limit), default=0),
        flash_array_max=min((r.max_block for r in flash if r.max_block), default=0),
        mpy_port=str(mp.get("port", "none")), mpy_heap=int(mp.get("heap_bytes", 0)),
        mpy_heap_source=str(mp.get("heap_source", "")), mpy_arch=str(mp.get("arch", "")))
