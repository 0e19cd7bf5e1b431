"""Procedural synapse rules reproduce the developed synapses exactly (model stage, feagi_embed/rules.py).

Independent expectations: the stored CSR rows (the connectome FEAGI's engine builds, itself checked
against the oracle in test_oracle_connectome.py) and the oracle connectome fixtures recorded from
the release engine. Rows are rebuilt by the per-neuron loop ``rules.expand_row`` (the loop the C
runtime and the MicroPython engine run), not by the vectorised expansion the model stage uses for
its proof.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from feagi_embed.quantize import quantize
from feagi_embed.rules import SynapseRule, expand_row, rows_from_rules

from .conftest import connectome_fixture, developed, genome_names

ACCEPTED = [n for n in genome_names(True) if connectome_fixture(n)["accepted"]]


def _model(name):
    _, c = developed(name)
    return c, quantize(c)


@pytest.mark.parametrize("name", ACCEPTED)
def test_rules_rebuild_every_row_element_for_element(name):
    _, m = _model(name)
    assert len(m.rules) == 0 or m.syn_rule is not None
    procedural = {i for i, r in enumerate(m.rules) if r.procedural}
    ptr, dst = rows_from_rules(m, m.rules, m.syn_rule, procedural)
    assert np.array_equal(ptr, np.asarray(m.syn_ptr, np.int64))
    assert np.array_equal(dst, np.asarray(m.syn_dst, np.int64))
    # one weight and (where stated) one contribution per rule
    for i, r in enumerate(m.rules):
        sel = np.asarray(m.syn_rule) == i
        assert sel.sum() == r.n_synapses
        assert (np.asarray(m.syn_w)[sel] == r.w).all()
        if r.c is not None:
            assert (np.asarray(m.syn_c)[sel] == r.c).all()


@pytest.mark.parametrize("name", ACCEPTED)
def test_procedural_multiset_equals_engine_fixture(name):
    """Synapses expanded from the rules (+ table rules as stored) equal the engine's multiset."""
    c, m = _model(name)
    procedural = {i for i, r in enumerate(m.rules) if r.procedural}
    ptr, dst = rows_from_rules(m, m.rules, m.syn_rule, procedural)
    src = np.repeat(np.arange(m.n_neurons), np.diff(ptr))
    ids = [a.cortical_id.b64 for a in c.areas]

    def key(i):
        return (ids[c.neuron_area[i]], int(c.neuron_x[i]), int(c.neuron_y[i]), int(c.neuron_z[i]),
                int(c.neuron_k[i]))

    ours = Counter((*key(s), *key(d)) for s, d in zip(src.tolist(), dst.tolist()))
    theirs = Counter()
    for r in connectome_fixture(name)["synapses"]:
        theirs[tuple(r[0:10])] += r[13]
    assert ours == theirs


def test_most_bundled_synapses_are_procedural():
    """The bundled genomes' big mappings are rules (projector, block_to_block, vectors)."""
    total = proc = 0
    for name in ("webots_basic", "mujoco_camera_interaction", "gesture_recognition_12_1"):
        _, m = _model(name)
        total += m.n_synapses
        proc += sum(r.n_synapses for r in m.rules if r.procedural)
    assert proc / total > 0.95


def test_hand_computed_projector_axis_lists():
    """FEAGI projector.rs per axis: 4 → 2 maps x 0,1 → 0 and 2,3 → 1; 2 → 4 maps 0 → 0,1 and
    1 → 2,3; block_to_block clamps 3 → 2 to min(x, 1)."""
    from feagi_embed.connectome import morphology as morph
    from feagi_embed.rules import _lists

    assert _lists(morph.projector_axis(4, 2), 4) == ((0, 1, 2, 3, 4), (0, 0, 1, 1))
    assert _lists(morph.projector_axis(2, 4), 2) == ((0, 2, 4), (0, 1, 2, 3))
    assert _lists((np.arange(3), np.minimum(np.arange(3), 1)), 3) == ((0, 1, 2, 3), (0, 1, 1))


def test_vectors_row_in_list_order_with_bounds():
    """A vectors rule expands its offsets in list order and drops those outside the area."""
    _, m = _model("test_timer")
    r = m.rules[0]
    rule = SynapseRule(r.src_area, r.src_area, "v", "vectors", 0, 1,
                       vectors=((0, 0, 0), (-1, 0, 0), (10**6, 0, 0)))
    i = int(m.area_first[r.src_area])
    assert expand_row(m, rule, i) == [i + m.areas.npv[r.src_area] - 1]


def test_attractivity_stays_table():
    """A thinned rule (synapse attractivity < 100: seeded PRNG) is kept as a table."""
    from dataclasses import replace

    from feagi_embed.rules import describe_rules

    c, m = _model("test_timer")
    dev = list(c.rules)
    dev[0] = replace(dev[0], attractivity=50)
    out = describe_rules(m, dev, m.syn_rule)
    assert out[0].kind == "table" and "attractivity" in out[0].reason
    assert out[1:] == m.rules[1:]


def test_model_npz_keeps_rules(tmp_path):
    from feagi_embed.model import Model

    _, m = _model("gesture_recognition_12_1")
    p = tmp_path / "m.npz"
    m.save(p)
    back = Model.load(p)
    assert back.rules == m.rules
    assert np.array_equal(back.syn_rule, m.syn_rule)
