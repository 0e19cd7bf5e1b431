"""``feagi-embed run``: execute a model on a host backend and present its trace."""

from __future__ import annotations

import json
import zlib
from typing import Any

import numpy as np

from .model import Model


def burst_reports(model: Model, trace, first_burst: int = 1) -> list[dict[str, Any]]:
    """The ``"bursts"`` entries of :func:`trace_report`, vectorised over the fired ids of all
    bursts at once (one coordinate decode, then per-burst and per-area slices).

    Returns:
        ``[{"burst", "digest", "count", "fired": {"<area id as in the genome>": [[x, y, z, k],
        …]}}]`` in burst order; areas in ascending area order (ids are ascending).
    """
    gids = model.areas.genome_ids
    counts = np.fromiter((len(ids) for ids in trace.fired), np.int64, len(trace.fired))
    all_ids = np.concatenate(trace.fired) if len(counts) and counts.sum() else np.empty(0, np.int64)
    area, x, y, z, k = model.neuron_coords(all_ids)
    xyzk = np.stack([x, y, z, k], axis=1).tolist()
    bounds = np.concatenate(([0], np.cumsum(counts)))
    bl = bounds.tolist()
    # positions where the area changes or a burst starts: each segment is one (burst, area)
    cut = np.zeros(len(all_ids) + 1, bool)
    cut[0] = cut[-1] = True
    if len(all_ids):
        cut[1:-1] = area[1:] != area[:-1]
    cut[bounds] = True
    seg = np.flatnonzero(cut).tolist()
    area_l = area.tolist()
    crc = trace.burst_crc
    out = [{"burst": first_burst + i, "digest": f"{crc[i]:08x}", "count": c, "fired": {}}
           for i, c in enumerate(counts.tolist())]
    bi = 0
    for a, b in zip(seg[:-1], seg[1:]):
        while bl[bi + 1] <= a:
            bi += 1
        out[bi]["fired"][gids[area_l[a]]] = xyzk[a:b]
    return out


def trace_report(model: Model, trace, first_burst: int = 1) -> dict[str, Any]:
    """JSON form of a trace.

    Returns:
        ``{"frac_bits", "bursts": [{"burst", "digest", "count", "fired": {"<area id as in the
        genome>": [[x, y, z, k], …]}}], "state_digests": {"<burst>": "<crc hex8>"},
        "final_digest": "<crc hex8>"}``.
    """
    return {"frac_bits": model.frac_bits, "bursts": burst_reports(model, trace, first_burst),
            "state_digests": {str(b): f"{c:08x}" for b, c in sorted(trace.state_crc.items())},
            "final_digest": f"{trace.final_digest:08x}"}


def burst_json(model: Model, trace, first_burst: int = 1, cache: dict | None = None
               ) -> list[str]:
    """``[json.dumps(r) for r in burst_reports(model, trace, first_burst)]``, byte for byte.

    Each fired neuron gets three cached tokens (``cache``: reused across calls, filled only for
    neurons that fire): ``', [x, y, z, k]'`` (continuing its area's list), ``'"<area>": [[x, y,
    z, k]'`` (first area of a burst) and ``'], "<area>": [[x, y, z, k]'`` (a later area); a burst
    is its header plus one ``str.join`` of the tokens its fired ids select."""
    gids = [json.dumps(g) for g in model.areas.genome_ids]
    if cache is None:
        cache = {}
    if not cache:
        for key in ("cont", "first", "next"):
            cache[key] = np.full(model.n_neurons, None, object)
    cont, first, nxt = cache["cont"], cache["first"], cache["next"]
    counts = [len(ids) for ids in trace.fired]
    all_ids = (np.concatenate(trace.fired).astype(np.int64) if sum(counts)
               else np.empty(0, np.int64))
    if len(all_ids):
        uniq = np.unique(all_ids)
        need = uniq[np.equal(cont[uniq], None)]
        if len(need):
            area, x, y, z, k = model.neuron_coords(need)
            xyzk = [f"[{a}, {b}, {c}, {d}]" for a, b, c, d in
                    zip(x.tolist(), y.tolist(), z.tolist(), k.tolist())]
            keys = [gids[a] for a in area.tolist()]
            cont[need] = [", " + t for t in xyzk]
            first[need] = [f"{g}: [{t}" for g, t in zip(keys, xyzk)]
            nxt[need] = [f"], {g}: [{t}" for g, t in zip(keys, xyzk)]
    area = model.neuron_area[all_ids]
    change = np.ones(len(all_ids), bool)
    if len(all_ids):
        change[1:] = area[1:] != area[:-1]
    out = []
    pos = 0
    crc = trace.burst_crc
    for i, c in enumerate(counts):
        head = (f'{{"burst": {first_burst + i}, "digest": "{crc[i]:08x}", "count": {c}, '
                '"fired": {')
        if c:
            ids = all_ids[pos:pos + c]
            tok = cont[ids]
            ch = change[pos:pos + c].copy()
            ch[0] = False
            tok[ch] = nxt[ids[ch]]
            tok[0] = first[ids[0]]
            out.append(head + "".join(tok.tolist()) + "]}}")
        else:
            out.append(head + "}}")
        pos += c
    return out


class JsonTraceWriter:
    """Streams :func:`trace_report`'s JSON to a text stream chunk by chunk, byte-identical to
    ``json.dump(trace_report(model, whole_trace), out)``, with one buffered write per chunk of
    bursts (``json.dump`` itself writes every token separately).

    Usage: ``w = JsonTraceWriter(model, out); w.write(part_trace)…; w.close()``.
    """

    def __init__(self, model: Model, out, buffer: int = 1 << 20):
        self.model, self.out = model, out
        self._first = 1
        self._crcs: list[int] = []
        self._states: dict[int, int] = {}
        self._buf: list[str] = [f'{{"frac_bits": {json.dumps(model.frac_bits)}, "bursts": [']
        self._size = 0
        self._limit = buffer
        self._cache: dict = {}  # burst_json's per-neuron tokens

    def write(self, part) -> None:
        """Append the bursts of ``part`` (a :class:`~feagi_embed.trace.Trace` continuing the
        previous ones)."""
        reps = burst_json(self.model, part, self._first, self._cache)
        text = ", ".join(reps)
        if text:
            if self._first > 1:
                text = ", " + text
            self._buf.append(text)
            self._size += len(text)
        self._first += len(reps)
        self._crcs += part.burst_crc
        self._states.update(part.state_crc)
        if self._size >= self._limit:
            self.flush()

    def flush(self) -> None:
        """Write what is buffered."""
        self.out.write("".join(self._buf))
        self._buf, self._size = [], 0

    def close(self) -> None:
        """Write the tail (state digests, final digest) and a newline."""
        final = zlib.crc32(np.asarray(self._crcs, np.uint32).astype("<u4").tobytes())
        tail = {"state_digests": {str(b): f"{c:08x}" for b, c in sorted(self._states.items())},
                "final_digest": f"{final:08x}"}
        self._buf.append("], " + json.dumps(tail)[1:] + "\n")
        self.flush()
        self.out.flush()


def write_npz(path, model: Model, trace) -> None:
    """The trace as a binary ``.npz`` (numpy): ``counts`` int64 ``[B]`` fired per burst, ``ids``
    uint32 (all bursts concatenated, ascending within a burst), ``v`` int32 V at fire (q-values,
    F = ``frac_bits``), ``burst_crc`` uint32 ``[B]``, ``state_bursts``/``state_crc``
    (int64/uint32), ``frac_bits``, ``first_burst`` (1)."""
    counts = np.fromiter((len(i) for i in trace.fired), np.int64, len(trace.fired))
    cat = (lambda xs, dt: np.concatenate(xs).astype(dt) if xs else np.empty(0, dt))  # noqa: E731
    sb = sorted(trace.state_crc)
    np.savez(path, counts=counts, ids=cat(trace.fired, np.uint32), v=cat(trace.fired_v, np.int32),
             burst_crc=np.asarray(trace.burst_crc, np.uint32),
             state_bursts=np.asarray(sb, np.int64),
             state_crc=np.asarray([trace.state_crc[b] for b in sb], np.uint32),
             frac_bits=np.int64(model.frac_bits), first_burst=np.int64(1))


def plot_raster(model: Model, trace, path: str, title: str = "") -> None:
    """Write a spike raster PNG: burst on x, neuron id on y, areas labelled (matplotlib, Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = np.concatenate([np.full(len(ids), b + 1) for b, ids in enumerate(trace.fired)]
                        or [np.empty(0)])
    ys = np.concatenate(trace.fired or [np.empty(0)])
    fig, ax = plt.subplots(figsize=(10, 6), dpi=110)
    ax.scatter(xs, ys, s=2, marker="|", color="black")
    active = sorted(set(model.neuron_area[ys.astype(np.int64)].tolist())) if len(ys) else []
    ax.set_yticks([int(model.area_first[a]) for a in active])
    ax.set_yticklabels([model.areas.names[a] or model.areas.genome_ids[a] for a in active],
                       fontsize=7)
    ax.set_xlabel("burst")
    ax.set_ylabel("neuron (canonical id; labels at area starts)")
    ax.set_title(title or "spike raster")
    ax.set_xlim(0.5, max(len(trace.fired), 1) + 0.5)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
