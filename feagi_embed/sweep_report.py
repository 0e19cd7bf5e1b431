"""HTML report of a sweep (:func:`write_html`): matplotlib plots plus tables, one self-contained file.

Plots (also written as PNG next to ``report.html``):

- ``fit.png``: fit matrix genome × board, each cell coloured fits / refused and annotated with the
  RAM and flash used as a percentage of the board's budget;
- ``memory.png``: bytes of static RAM and flash each genome uses on each board, against the board's
  budget (log scale);
- ``equality.png``: equality matrix, rows (genome, stimulus) × columns (executor @ board), coloured
  by status (equal, differs, refused, not run, error);
- ``cycles.png``: emulator instructions (QEMU) or cycles (simavr) per burst, mean over stimuli
  (whole run / bursts: boot, stimulus queueing and digest printing included).
"""

from __future__ import annotations

import base64
import html
import io
from collections import defaultdict
from pathlib import Path
from typing import Any

STATUS_COLOURS = {"equal": "#4caf50", "differs": "#e53935", "refused": "#9e9e9e",
                  "not run": "#ffffff", "error": "#212121"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig, path: Path) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    data = buf.getvalue()
    path.write_bytes(data)
    _pyplot().close(fig)
    return base64.b64encode(data).decode()


def capacity_matrix(cells: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """``{(genome, board): capacity}`` from the board cells (the same for every stimulus)."""
    out = {}
    for c in cells:
        if c.get("capacity") and (c["genome"], c["board"]) not in out:
            out[(c["genome"], c["board"])] = c["capacity"]
    return out


def _fit_plot(cells, genomes, boards, path):
    plt = _pyplot()
    cap = capacity_matrix(cells)
    fig, ax = plt.subplots(figsize=(1.2 + 1.1 * len(boards), 0.8 + 0.42 * len(genomes)))
    from matplotlib.colors import ListedColormap

    grid = [[(1 if cap[(g, b)]["fits"] else 0) if (g, b) in cap else 2 for b in boards]
            for g in genomes]
    ax.imshow(grid, cmap=ListedColormap(["#ef9a9a", "#a5d6a7", "#eeeeee"]), vmin=0, vmax=2,
              aspect="auto")
    for i, g in enumerate(genomes):
        for j, b in enumerate(boards):
            c = cap.get((g, b))
            if not c:
                continue
            r = c["regions"]
            pct = [f"{k[0].upper()} {100 * r[k]['used'] / max(1, r[k]['available']):.0f}%"
                   for k in ("ram", "heap", "flash") if k in r and r[k]["used"]]
            ax.text(j, i, "\n".join(pct), ha="center", va="center", fontsize=6)
    ax.set_xticks(range(len(boards)), boards, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(genomes)), genomes, fontsize=8)
    ax.set_title("fit matrix (green fits, red refused; R/H/F = RAM, heap, flash used of budget)",
                 fontsize=9)
    return _png(fig, path)


def _memory_plot(cells, genomes, boards, path):
    plt = _pyplot()
    cap = capacity_matrix(cells)
    fig, axes = plt.subplots(1, 2, figsize=(2 + 1.4 * len(boards), 4), sharey=False)
    for ax, region in zip(axes, ("ram", "flash")):
        for j, b in enumerate(boards):
            avail = [c["regions"][region]["available"] for (g, bb), c in cap.items()
                     if bb == b and region in c["regions"]]
            if avail:
                ax.hlines(max(avail), j - 0.4, j + 0.4, colors="k", linewidth=2)
            for i, g in enumerate(genomes):
                c = cap.get((g, b))
                if not c or region not in c["regions"]:
                    continue
                used = c["regions"][region]["used"]
                x = j - 0.3 + 0.6 * (i + 0.5) / max(1, len(genomes))
                ax.scatter([x], [max(used, 1)], s=14, color="#4caf50" if c["fits"] else "#e53935")
        ax.set_yscale("log")
        ax.set_xticks(range(len(boards)), boards, rotation=45, ha="right", fontsize=8)
        ax.set_ylabel(f"{region} bytes")
        ax.set_title(f"{region} used per genome (dots) vs budget (bar)", fontsize=9)
    return _png(fig, path)


def _equality_plot(cells, path):
    plt = _pyplot()
    from matplotlib.colors import ListedColormap

    rows = sorted({(c["genome"], c["stimulus"]) for c in cells}, key=lambda r: (r[0], r[1]))
    cols = []
    for c in cells:
        k = f"{c['executor']}@{c['board']}"
        if k not in cols:
            cols.append(k)
    idx = {s: i for i, s in enumerate(STATUS_COLOURS)}
    grid = [[len(idx)] * len(cols) for _ in rows]
    ri = {r: i for i, r in enumerate(rows)}
    ci = {k: j for j, k in enumerate(cols)}
    for c in cells:
        grid[ri[(c["genome"], c["stimulus"])]][ci[f"{c['executor']}@{c['board']}"]] = idx[c["status"]]
    fig, ax = plt.subplots(figsize=(1.5 + 0.28 * len(cols), 1 + 0.16 * len(rows)))
    ax.imshow(grid, cmap=ListedColormap(list(STATUS_COLOURS.values()) + ["#fafafa"]), vmin=0,
              vmax=len(idx), aspect="auto", interpolation="nearest")
    ax.set_xticks(range(len(cols)), cols, rotation=90, fontsize=6)
    ax.set_yticks(range(len(rows)), [f"{g} / {s}" for g, s in rows], fontsize=5)
    handles = [plt.Rectangle((0, 0), 1, 1, facecolor=v, edgecolor="k") for v in STATUS_COLOURS.values()]
    ax.legend(handles, list(STATUS_COLOURS), fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_title("equality with the numba twin", fontsize=9)
    return _png(fig, path)


def cycles_per_burst(cells) -> dict[tuple[str, str], tuple[float, str]]:
    """``{(genome, board): (mean metric per burst over stimuli, metric kind)}`` of emulator cells."""
    acc: dict[tuple[str, str], list] = defaultdict(list)
    kind = {}
    for c in cells:
        if c["executor"] == "emulator" and c.get("per_burst"):
            acc[(c["genome"], c["board"])].append(c["per_burst"])
            kind[(c["genome"], c["board"])] = c["metric_kind"]
    return {k: (sum(v) / len(v), kind[k]) for k, v in acc.items()}


def _cycles_plot(cells, path):
    cpb = cycles_per_burst(cells)
    if not cpb:
        return None
    plt = _pyplot()
    keys = sorted(cpb)
    fig, ax = plt.subplots(figsize=(7, 0.6 + 0.22 * len(keys)))
    ax.barh(range(len(keys)), [cpb[k][0] for k in keys], color="#5c6bc0")
    ax.set_yticks(range(len(keys)), [f"{g} @ {b} ({cpb[(g, b)][1]})" for g, b in keys], fontsize=7)
    ax.set_xscale("log")
    ax.invert_yaxis()
    ax.set_xlabel("per burst (whole run / bursts)")
    ax.set_title("emulated cost per burst", fontsize=9)
    return _png(fig, path)


def _table(header, rows) -> str:
    h = "".join(f"<th>{html.escape(str(x))}</th>" for x in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(x))}</td>" for x in r) + "</tr>"
                   for r in rows)
    return f"<table><tr>{h}</tr>{body}</table>"


def write_html(result, out_dir) -> Path:
    """Write ``report.html`` (plots embedded) and the PNGs into ``out_dir``; returns the HTML path."""
    from .sweep import describe

    out = Path(out_dir)
    cells = result.cells
    genomes = list(dict.fromkeys(c["genome"] for c in cells))
    boards = list(dict.fromkeys(c["board"] for c in cells if c["board"] != "host"))
    imgs = []
    if boards and capacity_matrix(cells):
        imgs.append(("Fit matrix", _fit_plot(cells, genomes, boards, out / "fit.png")))
        imgs.append(("Memory per board", _memory_plot(cells, genomes, boards, out / "memory.png")))
    imgs.append(("Equality matrix", _equality_plot(cells, out / "equality.png")))
    cyc = _cycles_plot(cells, out / "cycles.png")
    if cyc:
        imgs.append(("Cycles per burst", cyc))
    counts = defaultdict(int)
    for c in cells:
        counts[c["status"]] += 1
    failing = [c for c in cells if c["status"] in ("differs", "error")]
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>feagi-embed sweep</title>",
        ("<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;font-size:12px}"
         "td,th{border:1px solid #ccc;padding:2px 6px}img{max-width:100%}</style></head><body>"),
        "<h1>feagi-embed sweep</h1>",
        (f"<p>{len(cells)} cells ({result.computed} computed, {result.cached} from the cache) on "
         f"{html.escape(result.runner)} with {result.workers} worker(s) in {result.wall_s:.1f} s; "
         f"{result.bursts} bursts per run, state digest every {result.state_every}.</p>"),
        _table(["status", "cells"], [(k, counts[k]) for k in counts]),
    ]
    for title, b64 in imgs:
        parts.append(f"<h2>{title}</h2><img src='data:image/png;base64,{b64}'>")
    parts.append("<h2>Failing cells (first divergence)</h2>")
    parts.append(_table(["genome", "board", "stimulus", "executor", "status", "first divergence",
                         "detail"],
                        [(c["genome"], c["board"], c["stimulus"], c["executor"], c["status"],
                          describe(c), c["detail"]) for c in failing]) if failing else
                 "<p>none: every cell that ran equals the twin.</p>")
    parts.append("<h2>All cells</h2>")
    parts.append(_table(["genome", "board", "stimulus", "executor", "status", "bursts", "final digest",
                         "per burst", "detail"],
                        [(c["genome"], c["board"], c["stimulus"], c["executor"], c["status"],
                          c["bursts"], c["final_digest"] or "", c["per_burst"] or "", c["detail"])
                         for c in cells]))
    parts.append("</body></html>")
    p = out / "report.html"
    p.write_text("\n".join(parts))
    return p
