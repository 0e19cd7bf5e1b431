"""What every target reports: :class:`Trace`, its digests, the firmware's device protocol, and the
comparison of a target's trace with the reference (``docs/model.md`` §4).

Importable without numba or a GPU: the GPU twins, the firmware runners and the verifier all
produce or read a :class:`Trace`.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Trace:
    """What every target reports (``docs/model.md`` §4).

    Attributes:
        fired: per burst, uint32 array of fired neuron ids (ascending); index 0 = burst 1. Empty
            for targets that report digests only (firmware without ``FEAGI_TRACE_IDS``).
        fired_v: per burst, membrane potential at fire (int32 fixed point with F fractional bits,
            or float32 in float mode).
        burst_crc: uint32 ``[B]`` CRC-32 of ``[b, count, ids…]`` (u32 LE).
        state_crc: ``{burst: crc}`` CRC-32 of V (int32 LE), cd (u16 LE), cc (u16 LE) after that
            burst.
        watch: per burst, float64 ``[len(watch), 3]`` of ``(V, cd, cc)`` of watched neurons.
        detail: one line a target adds (instruction count, run time, exit status …).
    """

    fired: list[np.ndarray] = field(default_factory=list)
    fired_v: list[np.ndarray] = field(default_factory=list)
    burst_crc: list[int] = field(default_factory=list)
    state_crc: dict[int, int] = field(default_factory=dict)
    watch: list[np.ndarray] = field(default_factory=list)
    detail: str = ""

    @property
    def bursts(self) -> int:
        """Number of bursts recorded."""
        return len(self.burst_crc) if not self.fired else len(self.fired)

    @property
    def final_digest(self) -> int:
        """CRC-32 chained over all burst digests (u32 LE), the ``E`` line of the device protocol."""
        return zlib.crc32(np.asarray(self.burst_crc, np.uint32).astype("<u4").tobytes())


def burst_digest(burst: int, ids: np.ndarray) -> int:
    """CRC-32 over little-endian u32 words ``[b, count, id_1 … id_count]``."""
    words = np.concatenate(([burst, len(ids)], ids)).astype("<u4")
    return zlib.crc32(words.tobytes())


def state_digest(V: np.ndarray, cd: np.ndarray, cc: np.ndarray) -> int:
    """CRC-32 over V (int32 LE; f32 bits in float mode), then cd (u16 LE), then cc (u16 LE)."""
    crc = zlib.crc32(V.astype("<i4" if V.dtype.kind == "i" else "<f4").tobytes())
    crc = zlib.crc32(cd.astype("<u2").tobytes(), crc)
    return zlib.crc32(cc.astype("<u2").tobytes(), crc)


# ------------------------------------------------------------------------------ device protocol
def parse_protocol(text: str) -> tuple[list[int], dict[int, int], int | None]:
    """Device protocol lines (docs/model.md §4) → (burst digests, {burst: state digest}, final)."""
    bursts: list[int] = []
    states: dict[int, int] = {}
    final = None
    for line in text.splitlines():
        f = line.split()
        if len(f) >= 4 and f[0] == "B":
            bursts.append(int(f[3], 16))
        elif len(f) >= 3 and f[0] == "S":
            states[int(f[1])] = int(f[2], 16)
        elif len(f) >= 3 and f[0] == "E":
            final = int(f[2], 16)
    return bursts, states, final


def parse_fired_ids(text: str) -> dict[int, list[int]]:
    """Diagnostic ``I <b> <id> ...`` lines (firmware built with ``-DFEAGI_TRACE_IDS``) →
    ``{burst: [fired neuron ids, ascending]}``. Other lines are ignored."""
    out: dict[int, list[int]] = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) >= 2 and f[0] == "I":
            out[int(f[1])] = [int(x) for x in f[2:]]
    return out


def trace_from_protocol(text: str, detail: str = "") -> Trace:
    """A :class:`Trace` from a target's protocol output: burst and state digests, and the fired
    ids of every burst when the output has ``I`` lines (``-DFEAGI_TRACE_IDS``)."""
    bursts, states, _ = parse_protocol(text)
    ids = parse_fired_ids(text)
    fired = [np.asarray(ids.get(b, []), np.uint32) for b in range(1, len(bursts) + 1)] \
        if ids else []
    return Trace(fired=fired, burst_crc=bursts, state_crc=states, detail=detail)


# ------------------------------------------------------------------------------ comparison
def compare_digests(reference: Trace, bursts: list[int], states: dict[int, int]
                    ) -> tuple[bool, Any]:
    """``(equal, first_divergence)`` of a target's digests against the reference trace;
    ``first_divergence`` is ``{"burst": b, "what": "burst digest" | "state digest" | "missing"}``
    (the verifier adds ``"neuron"``, see :func:`first_differing_neuron`)."""
    for i, ref in enumerate(reference.burst_crc):
        if i >= len(bursts):
            return False, {"burst": i + 1, "what": "missing"}
        if bursts[i] != ref:
            return False, {"burst": i + 1, "what": "burst digest"}
    for b, ref in sorted(reference.state_crc.items()):
        if states.get(b) != ref:
            return False, {"burst": b, "what": "state digest"}
    return True, None


def first_differing_neuron(model, reference: Trace, fired: dict[int, list[int]] | list,
                           burst: int) -> dict[str, Any] | None:
    """The lowest neuron id whose firing in ``burst`` differs between ``reference`` and a target's
    fired ids (``{burst: ids}`` as from :func:`parse_fired_ids`, or a per-burst list such as
    another ``Trace.fired``), named as docs/model.md §4 asks.

    Returns:
        ``{"id", "area" (genome id), "area_name", "x", "y", "z", "k", "twin_fired",
        "target_fired"}``, or ``None`` when the fired sets of that burst are equal (or the target
        did not report it).
    """
    if isinstance(fired, dict):
        if burst not in fired:
            return None
        got = set(fired[burst])
    else:
        if burst > len(fired):
            return None
        got = {int(i) for i in fired[burst - 1]}
    ref = {int(i) for i in reference.fired[burst - 1]}
    diff = sorted(ref ^ got)
    if not diff:
        return None
    i = diff[0]
    area, x, y, z, k = (int(v[0]) for v in model.neuron_coords(np.array([i], np.int64)))
    names = model.areas.names
    return {"id": i, "area": model.areas.genome_ids[area],
            "area_name": names[area] if area < len(names) else "", "x": x, "y": y, "z": z, "k": k,
            "twin_fired": i in ref, "target_fired": i in got}


def describe_divergence(first: dict[str, Any] | None) -> str:
    """One line for a ``first_divergence`` dict: burst, what differs and, when known, the neuron."""
    if not first:
        return ""
    text = f"burst {first['burst']} ({first['what']})"
    n = first.get("neuron")
    if n:
        text += (f", neuron {n['id']} = {n['area']} ({n['area_name']}) x={n['x']} y={n['y']} "
                 f"z={n['z']} k={n['k']}: twin {'fired' if n['twin_fired'] else 'silent'}, "
                 f"target {'fired' if n['target_fired'] else 'silent'}")
    return text
