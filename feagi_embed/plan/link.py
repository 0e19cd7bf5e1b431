"""RAM of the two-way link (``firmware/feagi_link.c``, ``firmware/feagi_io_link.c``), counted by
the capacity plan when a build has the link (``feagi-embed build --link``).

The link's buffers are fixed by the protocol (``docs/link.md``), not by the model: one receive
buffer for the largest COBS-encoded frame, one transmit frame and its encoding, a batch of OPU
firing entries, and the receive counters. With an io map, ``feagi_io_link.c`` adds the fired-voxel
bitmaps of the bound OPU areas and the held value of every actuator. Sizes are the C objects'
``.bss`` on a target without padding (AVR); ``tests/test_link_robot.py`` measures them with
``avr-size``.
"""

from __future__ import annotations

from dataclasses import replace

from .budgets import Budget

MAX_FRAME = 256  #: FEAGI_LINK_MAX_FRAME
MAX_ENCODED = MAX_FRAME + MAX_FRAME // 254 + 1  #: FEAGI_LINK_MAX_ENCODED (258)
OPU_BATCH = ((MAX_FRAME - 7 - 6) // 10) * 10  #: 24 NeuronFiring entries of 10 bytes

#: bytes of feagi_link.c's static state, by part
LINK_RAM = {
    "receive buffer (encoded frame)": MAX_ENCODED,
    "receive length and overflow flag": 4 + 1,
    "transmit frame": MAX_FRAME,
    "transmit encoded frame": MAX_ENCODED,
    "OPU firing batch and count": OPU_BATCH + 4,
    "counters (10 x u32), seq, trace flags, state_every, pending bursts": 40 + 1 + 1 + 2 + 4,
}


def io_link_ram(bits_bytes: int, n_outputs: int) -> int:
    """Bytes of ``feagi_io_link.c``: fired-voxel bitmaps (``bits_bytes`` + 1), held Q16 value and
    fired flag per actuator (``n_outputs`` + 1 each, as the C sizes its arrays)."""
    return (bits_bytes + 1) + 5 * (n_outputs + 1)


def link_ram(model=None, io=None) -> dict[str, int]:
    """The link's RAM by part (bytes); with ``io`` (an :class:`~feagi_embed.io.pinmap.IoMap` of
    ``model``) also the io part."""
    parts = dict(LINK_RAM)
    if io is not None:
        parts["io map: OPU bitmaps, actuator values"] = io_link_ram(io_bits_bytes(model, io),
                                                                    len(io.outputs))
    return parts


def io_bits_bytes(model, io) -> int:
    """Bytes of the fired-voxel bitmaps of the io map's OPU areas (``FEAGI_IO_BITS_BYTES`` of
    ``feagi_io_map.h``)."""
    return sum((d.w * d.d + 7) // 8 for a, d in io.descs.items()
               if model.areas.kinds[a] == "opu")


def reserve_link(budget: Budget, nbytes: int) -> Budget:
    """``budget`` less ``nbytes`` of static RAM (the link's buffers are static)."""
    return replace(budget, static_ram=budget.static_ram - int(nbytes))
