"""Arduino glue of an io map: ``include/feagi_io_map.h`` (tables) and ``src/feagi_io_glue.cpp``
(read pins → encode → ``feagi_inject``; fired OPU neurons → decode → drive pins), plus the
runtime's coder files. Rendered from ``templates/c/feagi_io_*.j2``."""

from __future__ import annotations

import os

from ..codegen.cgen import banner
from ..codegen.env import render
from ..resources import firmware_dir
from .pinmap import DRIVES, IoMap

__all__ = ["RUNTIME_FILES", "emit_glue", "test_reading"]

#: coder sources copied into ``lib/feagi_runtime/src`` when a build has an io map
RUNTIME_FILES = ("feagi_io.c", "feagi_io.h")


def test_reading(i: int, burst: int, lo: int, hi: int) -> int:
    """The reading the glue uses for sensor ``i`` before ``burst`` when built with
    ``-DFEAGI_IO_TEST_READINGS`` (same 32-bit arithmetic as the C)."""
    h = ((burst * 2654435761 + i * 40503) & 0xFFFFFFFF) >> 8
    return lo + h % (hi - lo + 1)


def emit_glue(io: IoMap, model, board) -> dict[str, str]:
    """``{relative path: text}`` of the generated glue files for ``io`` (validated by
    :func:`~feagi_embed.io.pinmap.load_io_map` for ``model`` and ``board``)."""
    prov = model.provenance
    areas = model.areas
    order = sorted(io.descs)
    pos = {a: i for i, a in enumerate(order)}
    rows, bits = [], 0
    for a in order:
        d = io.descs[a]
        opu = areas.kinds[a] == "opu"
        rows.append({"w": d.w, "d": d.d, "ndims": d.ndims, "signed": int(d.is_signed),
                     "frac": int(d.fractional), "label": areas.label(a).replace("*/", "* /"),
                     "index": a, "first": int(model.area_first[a]), "h": int(areas.dims[a][1]),
                     "npv": int(areas.npv[a]), "bits": bits if opu else 0, "opu": int(opu)})
        if opu:
            bits += (d.w * d.d + 7) // 8
    def cm(b):
        return f"{b.key} {b.name} -> {areas.label(b.area)} channel {b.channel}".replace("*/", "* /")
    inputs = [{"io": pos[b.area], "axis": b.axis, "channel": b.channel, "pin": b.pin,
               "digital": int(b.digital), "invert": int(b.invert), "lo": b.lo, "hi": b.hi,
               "comment": cm(b)} for b in io.inputs]
    outputs = [{"io": pos[b.area], "axis": b.axis, "channel": b.channel,
                "drive": f"FEAGI_IO_{b.drive.upper()}", "pin": b.pin, "pin2": b.pin2,
                "lo": b.lo, "hi": b.hi, "comment": cm(b) + f" ({b.drive})"} for b in io.outputs]
    assert all(b.drive in DRIVES for b in io.outputs)
    name = os.path.basename(io.path)
    ban = lambda what: banner(prov.genome_name, prov.genome_sha256, board.name, what)
    # most voxels one value of a bound sensor area encodes into: Linear 1 (signed zero 2),
    # Fractional up to its z depth (firmware/feagi_io.c feagi_io_encode)
    max_encoded = max([d.d if d.fractional else 2 for a, d in io.descs.items()
                       if areas.kinds[a] == "ipu"] or [1])
    ctx = {"io_name": name, "areas": rows, "inputs": inputs, "outputs": outputs,
           "max_encoded": max_encoded,
           "bits_bytes": bits, "pwm_top": io.pins.pwm_top if io.pins else 255,
           "board": board.name, "has_servo": any(b.drive == "servo" for b in io.outputs)}
    return {
        "include/feagi_io_map.h": render("c/feagi_io_map.h.j2", **ctx, banner=ban(
            f"feagi_io_map.h - io map {name} as tables")),
        "src/feagi_io_glue.cpp": render("c/feagi_io_glue.cpp.j2", **ctx, banner=ban(
            f"feagi_io_glue.cpp - sensors and actuators of io map {name}")),
    }


def runtime_sources() -> list:
    """Paths of the coder sources (:data:`RUNTIME_FILES`)."""
    fw = firmware_dir()
    return [fw / f for f in RUNTIME_FILES]


#: MicroPython runtime files of an io map (copied from ``firmware/micropython``)
MPY_RUNTIME_FILES = ("feagi_io.py", "feagi_io_glue.py")
#: MicroPython ports whose ``machine.Pin(n)`` takes the GPIO numbers of the boards' pin facts
MPY_GPIO_PORTS = ("esp32", "rp2")
_MPY_DRIVE = {"hbridge": 0, "pwm": 1, "digital": 2, "servo": 3}


def emit_mpy_tables(io: IoMap, model, board, banner_fn) -> str:
    """``feagi_io_map.py``: the io map as Python tables for ``feagi_io_glue.py``.

    ``AREAS``: (model area index, coder desc (w, d, ndims, is_signed, fractional), is OPU) per
    bound area; ``INPUTS``: (area row, axis, channel, pin, digital, invert, lo, hi);
    ``OUTPUTS``: (area row, axis, channel, drive 0 hbridge/1 pwm/2 digital/3 servo, pin, pin2,
    lo, hi); ``F``, ``ADC_MAX`` (the io map's analogRead scale), ``PWM_HZ``.
    """
    areas = model.areas
    order = sorted(io.descs)
    pos = {a: i for i, a in enumerate(order)}
    lines = [banner_fn(f"feagi_io_map.py - io map {os.path.basename(io.path)} as tables"),
             '"""Tables of the io map for feagi_io_glue.py (docs/io.md)."""', "",
             f"F = {int(model.frac_bits)}",
             f"ADC_MAX = {io.pins.adc_max if io.pins else 1023}  # analogRead full scale of {board.name}",
             "PWM_HZ = 1000", "", "AREAS = ("]
    for a in order:
        d = io.descs[a]
        lines.append(f"    ({a}, ({d.w}, {d.d}, {d.ndims}, {int(d.is_signed)}, {int(d.fractional)}),"
                     f" {int(areas.kinds[a] == 'opu')}),  # {areas.label(a)}")
    lines += [")", "INPUTS = ("]
    for b in io.inputs:
        lines.append(f"    ({pos[b.area]}, {b.axis}, {b.channel}, {b.pin}, {int(b.digital)}, "
                     f"{int(b.invert)}, {b.lo}, {b.hi}),  # {b.key} {b.name}")
    lines += [")", "OUTPUTS = ("]
    for b in io.outputs:
        lines.append(f"    ({pos[b.area]}, {b.axis}, {b.channel}, {_MPY_DRIVE[b.drive]}, {b.pin}, "
                     f"{b.pin2}, {b.lo}, {b.hi}),  # {b.key} {b.name} ({b.drive})")
    lines.append(")")
    return "\n".join(lines) + "\n"
