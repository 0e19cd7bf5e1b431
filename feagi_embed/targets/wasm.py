"""WebAssembly (wasm32) target: section sizes of a ``.wasm`` module.

The build side lives in :mod:`feagi_embed.targets.toolchain` (``hal = "wasm"``: clang
``--target=wasm32`` + wasm-ld, ``firmware/hal/hal_wasm.c``), the Node runner in
``firmware/hal/wasm_run.mjs``; the browser page and the Node executor of a built page are in
:mod:`feagi_embed.web`.
"""

from __future__ import annotations

import os
from pathlib import Path

from feagi_embed.errors import FeagiEmbedError
from feagi_embed.targets.elfinfo import ElfSizes, Section

WASM_MAGIC = b"\0asm\x01\0\0\0"
_CODE, _DATA, _GLOBAL, _EXPORT, _CUSTOM = 10, 11, 6, 7, 0


def is_wasm(path: str | os.PathLike[str]) -> bool:
    """True when the file starts with the WebAssembly binary magic and version 1."""
    with open(path, "rb") as f:
        return f.read(8) == WASM_MAGIC


def _leb(buf: bytes, i: int, signed: bool = False) -> tuple[int, int]:
    """(value, next offset) of the LEB128 number at ``buf[i]``."""
    shift = val = 0
    while True:
        b = buf[i]
        i += 1
        val |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            if signed and b & 0x40:
                val -= 1 << shift
            return val, i


def _const_i32(buf: bytes, i: int) -> tuple[int | None, int]:
    """An init expression: (value of ``i32.const v; end``, or None for anything else; next offset)."""
    val = None
    if buf[i] == 0x41:
        val, i = _leb(buf, i + 1, signed=True)
    while buf[i] != 0x0B:  # skip to ``end``
        i += 1
    return val, i + 1


# Long by design: one pass over the module's sections in file order (the wasm binary format).
def wasm_sizes(path: str | os.PathLike[str]) -> ElfSizes:
    """Sizes of a wasm32 module in the :class:`~feagi_embed.targets.elfinfo.ElfSizes` shape.

    ``text`` = the code section's bytes; data segments (named through the ``name`` section's data
    segment names, which wasm-ld writes) count as ``rodata`` (``.rodata*``) or ``data``; ``bss`` =
    ``__data_end`` minus the end of the last data segment (wasm-ld does not store zero-filled
    ``.bss``), ``stack`` = ``__heap_base - __data_end`` when both are exported (the wasm HAL's
    link flags export them); addresses are linear-memory offsets.

    Raises:
        FeagiEmbedError: not a WebAssembly 1 module.
    """
    buf = Path(path).read_bytes()
    if buf[:8] != WASM_MAGIC:
        raise FeagiEmbedError(f"{path}: not a WebAssembly module (magic {buf[:8]!r})")
    i, text = 8, 0
    segs: list[tuple[int | None, int]] = []  # (address, size) per data segment
    seg_names: dict[int, str] = {}
    globals_: list[int | None] = []
    exports: dict[str, tuple[int, int]] = {}
    while i < len(buf):
        sid = buf[i]
        size, j = _leb(buf, i + 1)
        end = j + size
        if sid == _CODE:
            text = size
        elif sid == _DATA:
            n, j = _leb(buf, j)
            for _ in range(n):
                flags, j = _leb(buf, j)
                addr = None
                if flags == 2:
                    _, j = _leb(buf, j)
                if flags in (0, 2):
                    addr, j = _const_i32(buf, j)
                ln, j = _leb(buf, j)
                segs.append((addr, ln))
                j += ln
        elif sid == _GLOBAL:
            n, j = _leb(buf, j)
            for _ in range(n):
                j += 2  # value type, mutability
                v, j = _const_i32(buf, j)
                globals_.append(v)
        elif sid == _EXPORT:
            n, j = _leb(buf, j)
            for _ in range(n):
                ln, j = _leb(buf, j)
                name = buf[j:j + ln].decode("utf-8", "replace")
                j += ln
                kind = buf[j]
                idx, j = _leb(buf, j + 1)
                exports[name] = (kind, idx)
        elif sid == _CUSTOM:
            ln, k = _leb(buf, j)
            if buf[k:k + ln] == b"name":
                k += ln
                while k < end:
                    sub, k = _leb(buf, k)
                    sl, k = _leb(buf, k)
                    if sub == 9:  # data segment names
                        m, q = _leb(buf, k)
                        for _ in range(m):
                            idx, q = _leb(buf, q)
                            nl, q = _leb(buf, q)
                            seg_names[idx] = buf[q:q + nl].decode("utf-8", "replace")
                            q += nl
                    k += sl
        i = end

    def glob(name: str) -> int | None:
        kind, idx = exports.get(name, (None, None))
        return globals_[idx] if kind == 3 and idx is not None and idx < len(globals_) else None

    secs = [Section("code", 0, text, "text")] if text else []
    totals = {"text": text, "rodata": 0, "data": 0, "bss": 0, "stack": 0}
    seg_end = 0
    for k, (addr, ln) in enumerate(segs):
        name = seg_names.get(k, f"data{k}")
        kind = "rodata" if name.startswith(".rodata") else "data"
        secs.append(Section(name, addr or 0, ln, kind))
        totals[kind] += ln
        seg_end = max(seg_end, (addr or 0) + ln)
    data_end, heap_base = glob("__data_end"), glob("__heap_base")
    if data_end is not None and data_end > seg_end:
        totals["bss"] = data_end - seg_end
        secs.append(Section(".bss", seg_end, data_end - seg_end, "bss"))
    if data_end is not None and heap_base is not None and heap_base > data_end:
        totals["stack"] = heap_base - data_end
    return ElfSizes(tuple(secs), **totals)
