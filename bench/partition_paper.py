#!/usr/bin/env python3
"""Numbers behind docs/scale-out.md's "a twin larger than one GPU": split a model by cortical area.

For each bundled genome that loads: neurons, synapses, areas; the share of synapses whose source
and target are in the same area; and a greedy k-way split of whole areas (largest synapse count
first, into the part with the fewest synapses so far) with, per burst, the boundary: the source
neurons that have at least one synapse into another part (their fired ids are what a part sends),
as a share of all neurons. Usage: ``python bench/partition_paper.py [--parts 2]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def split(model, parts: int):
    first = np.asarray(model.area_first, np.int64)
    n_areas = len(first) - 1
    area_of = np.repeat(np.arange(n_areas), np.diff(first))
    ptr = np.asarray(model.syn_ptr, np.int64)
    dst = np.asarray(model.syn_dst, np.int64)
    src = np.repeat(np.arange(model.n_neurons), np.diff(ptr))
    syn_per_area = np.bincount(area_of[dst], minlength=n_areas) if len(dst) else np.zeros(n_areas)
    load = np.zeros(parts)
    part_of_area = np.zeros(n_areas, np.int64)
    for a in np.argsort(-(syn_per_area + np.diff(first) * 1e-6)):  # synapses stored at the target
        p = int(np.argmin(load))
        part_of_area[a] = p
        load[p] += syn_per_area[a] + 5 * (first[a + 1] - first[a])  # ~40 B/neuron = 5 synapses
    if len(dst):
        cross = part_of_area[area_of[src]] != part_of_area[area_of[dst]]
        boundary = len(np.unique(src[cross]))
        intra = float(np.mean(area_of[src] == area_of[dst]))
    else:
        boundary, intra = 0, 0.0
    return intra, boundary, load


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--parts", type=int, default=2)
    a = ap.parse_args()
    from feagi_embed.cli import bundled_genomes, resolve_genome_path
    from feagi_embed.errors import FeagiEmbedError
    from feagi_embed.sweep import load_model

    print("| genome | neurons | synapses | areas | intra-area synapses | boundary sources "
          f"({a.parts} parts) | load balance (max/mean) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for g in bundled_genomes():
        try:
            m = load_model(resolve_genome_path(g))
        except FeagiEmbedError:
            continue
        if m.n_synapses < 10_000:
            continue
        intra, boundary, load = split(m, a.parts)
        print(f"| {g} | {m.n_neurons:,} | {m.n_synapses:,} | {len(m.area_first) - 1} | "
              f"{100 * intra:.1f} % | {boundary:,} ({100 * boundary / m.n_neurons:.1f} % of neurons) | "
              f"{load.max() / load.mean():.2f} |")


if __name__ == "__main__":
    main()
