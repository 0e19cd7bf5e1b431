"""Console side of ``feagi-embed sweep``: board list resolution and the results table."""

from __future__ import annotations

from collections.abc import Sequence

from rich.markup import escape
from rich.table import Table

from .sweep import SweepResult, describe

_STYLE = {"equal": "green", "differs": "bold red", "refused": "yellow", "not run": "dim",
          "error": "red"}


def resolve_boards(values: Sequence[str]) -> list[str]:
    """``--boards`` values (comma lists, ``all``) → board ids in the given order, no repeats.

    Raises:
        BoardError: unknown board (names the board and the known ones).
    """
    from .boards import list_boards, load_board

    out: list[str] = []
    for v in ",".join(values).split(","):
        v = v.strip()
        for b in (list_boards() if v == "all" else [v] if v else []):
            if b not in out:
                load_board(b)
                out.append(b)
    return out


def print_table(res: SweepResult, console) -> None:
    """One row per cell: genome, board, stimulus, executor, status, first divergence, detail."""
    t = Table(title=f"sweep: {len(res.cells)} cells, {res.bursts} bursts", title_justify="left")
    for col in ("genome", "board", "stimulus", "executor", "status", "first divergence", "detail"):
        t.add_column(col)
    for c in res.cells:
        t.add_row(c["genome"], c["board"], c["stimulus"], c["executor"],
                  f"[{_STYLE[c['status']]}]{c['status']}[/]", escape(describe(c)),
                  escape(c["detail"]))
    console.print(t)
