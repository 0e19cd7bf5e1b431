"""``feagi-embed run``: execute a model on a host backend and present its trace."""

from __future__ import annotations

from typing import Any

import numpy as np

from .model import Model


def trace_report(model: Model, trace, first_burst: int = 1) -> dict[str, Any]:
    """JSON form of a trace.

    Returns:
        ``{"frac_bits", "bursts": [{"burst", "digest", "count", "fired": {"<area id as in the
        genome>": [[x, y, z, k], …]}}], "state_digests": {"<burst>": "<crc hex8>"},
        "final_digest": "<crc hex8>"}``.
    """
    gids = model.areas.genome_ids
    bursts = []
    for i, ids in enumerate(trace.fired):
        area, x, y, z, k = model.neuron_coords(ids)
        fired: dict[str, list] = {}
        for a, *xyzk in zip(area.tolist(), x.tolist(), y.tolist(), z.tolist(), k.tolist()):
            fired.setdefault(gids[a], []).append(xyzk)
        bursts.append({"burst": first_burst + i, "digest": f"{trace.burst_crc[i]:08x}",
                       "count": int(len(ids)), "fired": fired})
    return {"frac_bits": model.frac_bits, "bursts": bursts,
            "state_digests": {str(b): f"{c:08x}" for b, c in sorted(trace.state_crc.items())},
            "final_digest": f"{trace.final_digest:08x}"}


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
