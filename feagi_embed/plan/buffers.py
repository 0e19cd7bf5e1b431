"""The target-neutral :class:`Plan`: every buffer a target allocates for a model (name, role,
element type, length, region, bytes per cortical area, doc), the constants the runtime needs and
the per-area byte attribution. Made by :func:`feagi_embed.plan.layout`; C and MicroPython
spellings are the emitters' business (:mod:`feagi_embed.codegen`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .narrow import NarrowV
from .widths import dtype_size

#: buffer roles
CONST, STATE, IO = "const", "state", "io"


@dataclass
class Buffer:
    """One array of the plan.

    Attributes:
        name: identifier (the C array is ``feagi_<name>``, the MicroPython attribute ``<name>``).
        role: ``"const"`` (model data), ``"state"`` (neuron state) or ``"io"`` (input queue).
        dtype: element type (``"u1"`` … ``"i4"``, :mod:`~feagi_embed.plan.widths`).
        values: int64 data of a constant buffer; a zero array of the right length for state.
        region: where it lives: ``"flash"`` / ``"ram"`` (C), ``"model"`` (feagi_model.bin) /
            ``"heap"`` (MicroPython).
        per_area: bytes attributed to each area (index → bytes), or None (shared).
        doc: one line for the generated code.
    """

    name: str
    role: str
    dtype: str
    values: np.ndarray
    region: str
    per_area: dict[int, int] | None = None
    doc: str = ""

    @property
    def length(self) -> int:
        """Elements."""
        return len(self.values)

    @property
    def nbytes(self) -> int:
        """Bytes (length × element size)."""
        return self.length * dtype_size(self.dtype)


@dataclass
class Plan:
    """Layout of a model for one target language.

    Attributes:
        target: ``"c"`` or ``"micropython"``.
        buffers: every buffer, constants first.
        index_types: role → element type of the runtime's index types (``nid``: neuron ids,
            ``sptr``: synapse offsets, ``area``: area indices, ``c``: contributions, ``side``:
            side-list slots; C makes typedefs of them).
        constants: runtime constants by target-neutral lower-case name (``n``, ``queue_len``, …).
        per_area: area key → ``{"flash", "ram", "neurons", "synapses_out"}`` bytes and counts.
        narrow_v: area key → :class:`~feagi_embed.plan.narrow.NarrowV` (16-bit V areas).
        heap: names of RAM buffers taken from the board's heap once at boot
            (:func:`~feagi_embed.plan.fit.place_state`).
        state: MicroPython engine state ``{name: (dtype, items)}`` (empty for C, where state
            buffers are in ``buffers``).
        estimate: MicroPython heap estimate by part (:func:`~feagi_embed.plan.mpy.estimate_heap`).
        synapse_rules: one row per mapping rule: storage choice (table / procedural / empty),
            bytes and estimated cycles per event (:meth:`~feagi_embed.plan.procedural.Choice.to_json`).
    """

    target: str
    buffers: list[Buffer]
    index_types: dict[str, str] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    per_area: dict[str, dict[str, int]] = field(default_factory=dict)
    narrow_v: dict[str, NarrowV] = field(default_factory=dict)
    heap: set[str] = field(default_factory=set)
    state: dict[str, tuple[str, int]] = field(default_factory=dict)
    estimate: dict[str, int] = field(default_factory=dict)
    synapse_rules: list[dict[str, Any]] = field(default_factory=list)

    def buffer(self, name: str) -> Buffer:
        """The buffer called ``name``.

        Raises:
            KeyError: no such buffer.
        """
        for b in self.buffers:
            if b.name == name:
                return b
        raise KeyError(name)

    def bytes_in(self, region: str) -> int:
        """Bytes of all buffers in ``region``."""
        return sum(b.nbytes for b in self.buffers if b.region == region)

    @property
    def flash_bytes(self) -> int:
        """Constant bytes (C: flash)."""
        return self.bytes_in("flash")

    @property
    def ram_bytes(self) -> int:
        """RAM bytes (C: static and boot-heap state)."""
        return self.bytes_in("ram")

    @property
    def heap_bytes(self) -> int:
        """RAM bytes allocated from the heap at boot."""
        return sum(b.nbytes for b in self.buffers if b.region == "ram" and b.name in self.heap)

    @property
    def static_bytes(self) -> int:
        """RAM bytes allocated statically (``.bss``)."""
        return self.ram_bytes - self.heap_bytes

    def to_json(self) -> dict[str, Any]:
        """Totals, buffers (region ``heap`` for boot-heap ones), areas and 16-bit V proofs."""
        return {"flash_bytes": self.flash_bytes, "ram_bytes": self.ram_bytes,
                "static_bytes": self.static_bytes, "heap_bytes": self.heap_bytes,
                "index_types": dict(self.index_types),
                "arrays": [{"name": b.name, "dtype": b.dtype, "length": b.length,
                            "region": ("heap" if b.name in self.heap else b.region),
                            "bytes": b.nbytes} for b in self.buffers],
                "areas": self.per_area,
                "narrow_v": {k: v.to_json() for k, v in self.narrow_v.items()}}
