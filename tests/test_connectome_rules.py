"""Neuroembryogenesis rules on micro-genomes, against hand-computed expectations.

Each expectation is derived by hand from FEAGI's documented rule (reference notes §2.2–§2.4), not from
our implementation.
"""

from __future__ import annotations

import numpy as np
import pytest

from feagi_embed.connectome import develop
from feagi_embed.connectome import morphology as morph
from feagi_embed.genome import load_genome

from .genome_builder import area_genes, genome


def coord_pairs(c, src_gid, dst_gid):
    """Set of ((x,y,z,k) source, (x,y,z,k) destination) synapses between two areas."""
    si, di = c.area_index(src_gid), c.area_index(dst_gid)
    sa = c.neuron_area[c.synapse_src]
    da = c.neuron_area[c.synapse_dst]
    sel = np.nonzero((sa == si) & (da == di))[0]
    out = []
    for i in sel:
        s, d = c.synapse_src[i], c.synapse_dst[i]
        out.append(((int(c.neuron_x[s]), int(c.neuron_y[s]), int(c.neuron_z[s]), int(c.neuron_k[s])),
                    (int(c.neuron_x[d]), int(c.neuron_y[d]), int(c.neuron_z[d]), int(c.neuron_k[d]))))
    return out


def two_areas(rule, sdims, ddims, morphologies=None, src_genes=None, dst_genes=None):
    g = genome(
        area_genes("c__src", "src", sdims, **{"dstmap-d": {"c__dst": [rule]}}, **(src_genes or {})),
        area_genes("c__dst", "dst", ddims, **(dst_genes or {})),
        morphologies=morphologies)
    return develop(load_genome(g))


# ----------------------------------------------------------------------------- projector
def test_projector_axis_uses_f32_ratios():
    # s=16 → d=14: ratio f32(16/14) = 1.1428572; f32(8)/ratio = 6.9999995 → 6 (exact math: 7)
    src, dst = morph.projector_axis(16, 14)
    assert dict(zip(src.tolist(), dst.tolist()))[8] == 6
    # s=14 → d=16: u with trunc(u / f32(16/14)) == 6 are {7, 8} (exact math: {7})
    src, dst = morph.projector_axis(14, 16)
    assert sorted(d for s, d in zip(src.tolist(), dst.tolist()) if s == 6) == [7, 8]


def test_projector_shrink_and_expand_counts():
    # 4x1x1 → 2x1x1: each destination x gets 2 sources; 1x1x1 → 3x2x1: every destination voxel
    c = two_areas(["projector", [1, 1, 1], 1, False], (4, 1, 1), (2, 1, 1))
    pairs = coord_pairs(c, "c__src", "c__dst")
    assert sorted((s[0], d[0]) for s, d in pairs) == [(0, 0), (1, 0), (2, 1), (3, 1)]
    c = two_areas(["projector", [1, 1, 1], 1, False], (1, 1, 1), (3, 2, 1))
    assert len(coord_pairs(c, "c__src", "c__dst")) == 6


# ----------------------------------------------------------------------------- patterns
def test_patterns_wildcards_and_dedup():
    morphs = {"p": {"type": "patterns", "class": "custom", "parameters": {"patterns": [
        [["*", 0, 0], ["?", "!", 0]],      # x same, y anything but source y (0) → y=1,2
        [[1, 0, 0], [1, 1, 0]],            # duplicate of one above for x=1 → de-duplicated
    ]}}}
    c = two_areas(["p", [1, 1, 1], 1, False], (2, 1, 1), (3, 3, 1), morphs)
    pairs = sorted((s[:3], d[:3]) for s, d in coord_pairs(c, "c__src", "c__dst"))
    assert pairs == [((0, 0, 0), (0, 1, 0)), ((0, 0, 0), (0, 2, 0)),
                     ((1, 0, 0), (1, 1, 0)), ((1, 0, 0), (1, 2, 0))]


def test_pattern_integer_outside_destination_makes_nothing():
    morphs = {"p": {"type": "patterns", "parameters": {"patterns": [[["*", "*", "*"], [5, 0, 0]]]}}}
    c = two_areas(["p", [1, 1, 1], 1, False], (2, 1, 1), (3, 1, 1), morphs)
    assert c.n_synapses == 0


# ----------------------------------------------------------------------------- vectors
def test_vectors_offsets_bounds_and_dedup():
    morphs = {"v": {"type": "vectors", "parameters": {"vectors": [[1, 0, 0], [1, 0, 0], [-1, 0, 0]]}}}
    c = two_areas(["v", [1, 1, 1], 1, False], (3, 1, 1), (3, 1, 1), morphs)
    pairs = sorted((s[0], d[0]) for s, d in coord_pairs(c, "c__src", "c__dst"))
    # x=0 → 1; x=1 → 2, 0; x=2 → 1 (x+1 = 3 out of range); the repeated vector adds nothing
    assert pairs == [(0, 1), (1, 0), (1, 2), (2, 1)]


def test_vectors_do_not_skip_pairs_made_by_earlier_rules():
    """The release engine de-duplicates a vector rule only within itself: pairs an earlier rule
    made are connected again (oracle 2026-12-03, docs/feagi-compatibility.md; the random
    differential fixtures in tests/fixtures/random pin it on recorded engine connectomes)."""
    morphs = {"v": {"type": "vectors", "parameters": {"vectors": [[0, 0, 0], [0, 0, 0]]}}}
    g = genome(area_genes("c__src", "src", (2, 1, 1), **{"dstmap-d": {"c__dst": [
        ["projector", [1, 1, 1], 1, False], ["v", [1, 1, 1], 2, False]]}}),
        area_genes("c__dst", "dst", (2, 1, 1)), morphologies=morphs)
    c = develop(load_genome(g))
    # projector makes (0→0), (1→1) weight 1; the vector rule makes them again with weight 2
    # (its repeated [0,0,0] vector only once)
    assert sorted(coord_pairs(c, "c__src", "c__dst")) == [((0, 0, 0, 0), (0, 0, 0, 0))] * 2 + [
        ((1, 0, 0, 0), (1, 0, 0, 0))] * 2
    assert sorted(c.synapse_weight.tolist()) == [1, 1, 2, 2]


@pytest.mark.parametrize("mtype", ["composite", "functions"])
def test_tile_morphology_tiles_the_smaller_area(mtype):
    """``tile`` (oracle 2026-12-03): more source than destination voxels -> source (x,y,z) ->
    destination (x mod W, y mod H, z mod D); otherwise every destination voxel receives from the
    source voxel at its coordinates modulo the source dims."""
    morphs = {"tile": {"type": mtype, "parameters": {"src_seed": [1, 1, 1], "src_pattern": [[1, 0]],
                                                    "mapper_morphology": "projector"}}}
    shrink = two_areas(["tile", [1, 1, 1], 1, False], (4, 2, 1), (2, 1, 1), morphs)
    assert sorted(coord_pairs(shrink, "c__src", "c__dst")) == sorted(
        ((x, y, 0, 0), (x % 2, 0, 0, 0)) for x in range(4) for y in range(2))
    # 4 source voxels, 8 destination voxels: destination-driven; x 2, 3 of the source stay silent
    expand = two_areas(["tile", [1, 1, 1], 1, False], (4, 1, 1), (2, 4, 1), morphs)
    assert sorted(coord_pairs(expand, "c__src", "c__dst")) == sorted(
        ((x, 0, 0, 0), (x, y, 0, 0)) for x in range(2) for y in range(4))


def test_projector_keeps_duplicates():
    g = genome(area_genes("c__src", "src", (2, 1, 1), **{"dstmap-d": {"c__dst": [
        ["projector", [1, 1, 1], 1, False], ["projector", [1, 1, 1], 2, False]]}}),
        area_genes("c__dst", "dst", (2, 1, 1)))
    c = develop(load_genome(g))
    assert c.n_synapses == 4
    assert sorted(c.synapse_weight.tolist()) == [1, 1, 2, 2]


# ----------------------------------------------------------------------------- neurons per voxel
def test_neurons_per_voxel_all_emit_last_receives():
    c = two_areas(["projector", [1, 1, 1], 1, False], (1, 1, 1), (1, 1, 1),
                  src_genes={"_n_cnt-i": 2}, dst_genes={"_n_cnt-i": 3})
    pairs = sorted(coord_pairs(c, "c__src", "c__dst"))
    assert pairs == [((0, 0, 0, 0), (0, 0, 0, 2)), ((0, 0, 0, 1), (0, 0, 0, 2))]


def test_canonical_ids_and_threshold_gradient_in_f32():
    g = load_genome(genome(area_genes("c__aaa", "a", (2, 3, 2), **{
        "fire_t-f": 0.1, "ftincx-f": 0.1, "ftincy-f": 0.2, "ftincz-f": 0.3, "_n_cnt-i": 2})))
    c = develop(g)
    ai = c.area_index("c__aaa")
    first = int(c.area_first[ai])
    # id = first + ((x·H + y)·D + z)·npv + k with H=3, D=2, npv=2
    nid = c.neuron_id(ai, 1, 2, 1, 1)
    assert nid == first + ((1 * 3 + 2) * 2 + 1) * 2 + 1
    assert (c.neuron_x[nid], c.neuron_y[nid], c.neuron_z[nid], c.neuron_k[nid]) == (1, 2, 1, 1)
    f = np.float32
    expect = ((f(0.1) + f(1) * f(0.1)) + f(2) * f(0.2)) + f(1) * f(0.3)
    assert c.threshold[nid] == expect
    # seven core areas first, each with one neuron
    assert [a.cortical_id.raw for a in c.areas[:7]] == sorted(a.cortical_id.raw for a in c.areas[:7])
    assert all(a.is_core for a in c.areas[:7]) and (c.neuron_counts()[:7] == 1).all()


@pytest.mark.parametrize("mult,weight,inhib", [(3, 3, False), (-2, 2, True), (300, 300, False),
                                                (-1.0, 1, True)])
def test_psc_multiplier_to_weight_and_type(mult, weight, inhib):
    c = two_areas(["projector", [1, 1, 1], mult, False], (1, 1, 1), (1, 1, 1),
                  src_genes={"pstcr_-f": 5.0})
    assert c.synapse_weight.tolist() == [weight]
    assert c.synapse_inhibitory.tolist() == [inhib]
    assert c.synapse_psp.tolist() == [5.0]


def test_function_morphologies_without_synapses_warn():
    morphs = {"randomizer": {"type": "functions", "parameters": {}}}
    c = two_areas(["randomizer", [1, 1, 1], 1, False], (2, 1, 1), (2, 1, 1), morphs)
    assert c.n_synapses == 0
    assert any(w.code == "function-no-synapses" for w in c.warnings)


def test_plastic_rule_without_window_aborts_source_area():
    # oracle observation: a 7-element plastic rule makes no synapses and the source's remaining
    # destinations (here c__zzz, processed after c__dst) are skipped; an 8-element one works
    rules = {"c__dst": [["projector", [1, 1, 1], 1, True, 1, 1, 1]],
             "c__zzz": [["projector", [1, 1, 1], 1, False, 1, 1, 1]]}
    g = genome(area_genes("c__src", "src", (1, 1, 1), **{"dstmap-d": rules}),
               area_genes("c__dst", "dst"), area_genes("c__zzz", "zzz"))
    c = develop(load_genome(g))
    assert c.n_synapses == 0
    assert any(w.code == "mapping-aborted" for w in c.warnings)
    rules["c__dst"] = [["projector", [1, 1, 1], 1, True, 1, 1, 1, 5]]
    c = develop(load_genome(g))
    assert c.n_synapses == 2
