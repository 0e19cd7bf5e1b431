"""ELF section sizes (pyelftools) and a flash/RAM summary."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from feagi_embed.errors import FeagiEmbedError

SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR = 0x1, 0x2, 0x4
_NOT_LOADED = {".mmcu", ".eeprom", ".fuse", ".lock", ".signature", ".reset_vector"}


@dataclass(frozen=True)
class Section:
    """One allocated ELF section."""

    name: str
    addr: int
    size: int
    kind: str  # "text", "rodata", "data", "bss" or "stack" (the linker's stack reserve)


@dataclass(frozen=True)
class ElfSizes:
    """Sizes of an ELF's allocated sections and the flash/RAM they take.

    ``flash`` = text + rodata + data (the initialiser image), ``ram`` = data + bss (static RAM;
    the ``.stack`` reserve of the cortexm/riscv linker scripts is in ``stack``, not in ``ram``).
    AVR metadata sections (.mmcu, .eeprom, fuses) are left out.
    """

    sections: tuple[Section, ...]
    text: int
    rodata: int
    data: int
    bss: int
    stack: int = 0

    @property
    def flash(self) -> int:
        return self.text + self.rodata + self.data

    @property
    def ram(self) -> int:
        return self.data + self.bss

    def to_json(self) -> dict:
        return {"text": self.text, "rodata": self.rodata, "data": self.data, "bss": self.bss, "stack": self.stack,
                "flash": self.flash, "ram": self.ram,
                "sections": {s.name: {"addr": s.addr, "size": s.size, "kind": s.kind} for s in self.sections}}


def elf_sizes(elf: str | os.PathLike[str]) -> ElfSizes:
    """Read allocated sections of ``elf`` with pyelftools.

    Raises:
        FeagiEmbedError: pyelftools missing, or not an ELF file.
    """
    try:
        from elftools.common.exceptions import ELFError
        from elftools.elf.elffile import ELFFile
    except ImportError as e:  # pragma: no cover
        raise FeagiEmbedError("pyelftools is needed for ELF sizes: pip install pyelftools") from e
    secs: list[Section] = []
    totals = {"text": 0, "rodata": 0, "data": 0, "bss": 0, "stack": 0}
    try:
        with open(Path(elf), "rb") as f:
            ef = ELFFile(f)
            for s in ef.iter_sections():
                flags = s["sh_flags"]
                if not flags & SHF_ALLOC or s["sh_size"] == 0 or s.name in _NOT_LOADED:
                    continue
                if s.name == ".stack":
                    kind = "stack"
                elif s["sh_type"] == "SHT_NOBITS":
                    kind = "bss"
                elif flags & SHF_EXECINSTR:
                    kind = "text"
                elif flags & SHF_WRITE:
                    kind = "data"
                else:
                    kind = "rodata"
                secs.append(Section(s.name, s["sh_addr"], s["sh_size"], kind))
                totals[kind] += s["sh_size"]
    except ELFError as e:
        raise FeagiEmbedError(f"{elf}: not a readable ELF file ({e})") from None
    return ElfSizes(tuple(secs), **totals)
