"""Build small flat FEAGI 2.x genomes in tests (micro-genomes with one behaviour each)."""

from __future__ import annotations

import copy
from typing import Any


def area_genes(aid: str, name: str, dims=(1, 1, 1), **genes: Any) -> dict[str, Any]:
    """Blueprint entries of one area: name, dims, and ``genes`` given as ``**{"fire_t-f": 2.0}``."""
    out = {
        f"_____10c-{aid}-cx-__name-t": name,
        f"_____10c-{aid}-cx-___bbx-i": dims[0],
        f"_____10c-{aid}-cx-___bby-i": dims[1],
        f"_____10c-{aid}-cx-___bbz-i": dims[2],
    }
    for code, value in genes.items():
        scope = "cx" if code in ("_n_cnt-i", "dstmap-d", "pspuni-b", "_group-t") else "nx"
        out[f"_____10c-{aid}-{scope}-{code}"] = value
    return out


def genome(*areas: dict[str, Any], morphologies: dict | None = None, version: str = "2.0",
           **top: Any) -> dict[str, Any]:
    """A flat genome from area blueprints (see :func:`area_genes`)."""
    bp: dict[str, Any] = {}
    for a in areas:
        bp.update(a)
    g = {"version": version, "genome_title": "test", "blueprint": bp,
         "neuron_morphologies": copy.deepcopy(morphologies or {}),
         "physiology": {"simulation_timestep": 0.025}}
    g.update(top)
    return g


def with_gene(aid: str, code: str, value: Any, scope: str = "nx") -> dict[str, Any]:
    """One blueprint entry ``_____10c-<aid>-<scope>-<code>``."""
    return {f"_____10c-{aid}-{scope}-{code}": value}


def mapping(dst: str, *rules) -> dict[str, list]:
    """A ``dstmap-d`` value with one destination."""
    return {dst: [list(r) for r in rules]}
