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
    """Read allocated sections of ``elf`` with pyelftools (a ``.wasm`` module: its data
    segments, see :func:`feagi_embed.targets.wasm.wasm_sizes`).

    Raises:
        FeagiEmbedError: pyelftools missing, or not an ELF file.
    """
    from feagi_embed.targets.wasm import is_wasm, wasm_sizes

    if is_wasm(elf):
        return wasm_sizes(elf)
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


@dataclass(frozen=True)
class Symbol:
    """One defined object or function symbol of an ELF (``addr`` without the Thumb bit)."""

    name: str
    addr: int
    size: int
    kind: str     # "object" or "func"
    section: str  # name of the section it lies in ("" when absolute/undefined)
    region: str   # "flash" (text/rodata) or "ram" (data/bss), "" for other sections


def elf_symbols(elf: str | os.PathLike[str]) -> dict[str, Symbol]:
    """Defined ``STT_OBJECT``/``STT_FUNC`` symbols of ``elf`` by name (pyelftools).

    ``region`` follows :func:`elf_sizes`: symbols in text/rodata sections are flash, in data/bss
    sections RAM (a ``.data`` object takes both: RAM, plus its initialiser in flash). Static
    (file-local) symbols are included; when two share a name the larger is kept.

    Raises:
        FeagiEmbedError: pyelftools missing, not an ELF file, or no symbol table (stripped).
    """
    from feagi_embed.targets.wasm import is_wasm

    if is_wasm(elf):
        raise FeagiEmbedError(f"{elf}: a WebAssembly module has no ELF symbol table to measure "
                              "arrays with (feagi-embed build --board wasm prints the module size)")
    try:
        from elftools.common.exceptions import ELFError
        from elftools.elf.elffile import ELFFile
        from elftools.elf.sections import SymbolTableSection
    except ImportError as e:  # pragma: no cover
        raise FeagiEmbedError("pyelftools is needed for ELF symbols: pip install pyelftools") from e
    kinds = {s.name: s.kind for s in elf_sizes(elf).sections}
    out: dict[str, Symbol] = {}
    try:
        with open(Path(elf), "rb") as f:
            ef = ELFFile(f)
            tab = ef.get_section_by_name(".symtab")
            if not isinstance(tab, SymbolTableSection):
                raise FeagiEmbedError(f"{elf}: no symbol table (stripped ELF?)")
            arm = ef["e_machine"] == "EM_ARM"
            for sym in tab.iter_symbols():
                typ = sym["st_info"]["type"]
                if typ not in ("STT_OBJECT", "STT_FUNC") or not isinstance(sym["st_shndx"], int):
                    continue
                sec = ef.get_section(sym["st_shndx"]).name
                k = kinds.get(sec, "")
                region = "flash" if k in ("text", "rodata") else "ram" if k in ("data", "bss") else ""
                addr = sym["st_value"] & ~1 if arm and typ == "STT_FUNC" else sym["st_value"]
                s = Symbol(sym.name, addr, sym["st_size"], "func" if typ == "STT_FUNC" else "object",
                           sec, region)
                if sym.name not in out or out[sym.name].size < s.size:
                    out[sym.name] = s
    except ELFError as e:
        raise FeagiEmbedError(f"{elf}: not a readable ELF file ({e})") from None
    return out
