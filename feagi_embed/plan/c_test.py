"""Unit tests of the C layout strategy on hand-made models (every number computed by hand)."""

from __future__ import annotations

import numpy as np

from feagi_embed.plan import layout_c


def test_element_types_follow_the_value_ranges(toy):
    plan = layout_c(toy())  # N = 305, S = 2, A = 3, contributions 3·2^16 and 5·2^16
    assert plan.index_types == {"nid": "u2", "sptr": "u1", "area": "u1", "c": "i1", "side": "u1"}
    assert plan.buffer("area_first").dtype == "u2"  # holds N = 305
    assert plan.constants["syn_c_scale"] == 1 << 16  # stored as 3 and 5, exactly
    assert plan.buffer("syn_c").values.tolist() == [3, 5]


def test_state_only_where_an_area_needs_it(toy):
    plan = layout_c(toy())
    c = plan.constants
    assert (c["n_cd"], c["n_cc2"], c["n_cc8"], c["n_cc16"], c["n_v32"]) == (4, 300, 0, 5, 305)
    assert plan.buffer("cc2").nbytes == 75               # L = 3: four 2-bit counts per byte
    assert plan.buffer("cd").nbytes == 4 * 2           # only area 2 has a refractory period
    assert plan.buffer("vfire").length == 1            # no mp-driven area: a 1-element stub
    assert c["n_sp"] == 301                            # only area 1 has outgoing synapses
    assert "syn_w" not in {b.name for b in plan.buffers}  # no run-time PSP source


def test_accumulator_hole_and_side_list(toy):
    plan = layout_c(toy())  # targets 2 and 302: the longest untargeted run is [3, 302)
    c = plan.constants
    assert (c["hole_lo"], c["hole_hi"], c["n_acc"]) == (3, 302, 6)
    assert c["side_len"] == 17 and plan.buffer("side_slot").length == 64
    assert plan.buffer("bits").length == 4 * 10


def test_bytes_add_up_per_region_and_per_area(toy):
    plan = layout_c(toy())
    # V, v16 stub, cc2 (300 / 4), cc8 stub, cc16, cd, acc, side ids + sums, side index, bitmaps,
    # vfire and psp stubs, queue
    assert plan.ram_bytes == (305 * 4 + 2 + 75 + 1 + 10 + 8 + 6 * 4 + 17 * 4 * 2 + 64 + 160 + 4 + 4
                              + 16 * 9)
    assert plan.flash_bytes == sum(b.nbytes for b in plan.buffers if b.region == "flash")
    # area 2: V 4x4, cc16 4x2, cd 4x2, accumulator 3x4 (302..304), bitmaps ceil(4/2)
    assert plan.per_area["c__a02"]["ram"] == 16 + 8 + 8 + 12 + 2
    assert plan.per_area["c__a01"]["synapses_out"] == 2


def test_runtime_psp_adds_weights_and_fanouts(toy):
    plan = layout_c(toy(mp_driven=(False, True, False)))
    assert plan.constants["has_runtime_psp"] == 1 and plan.constants["n_mpd"] == 300
    assert plan.buffer("syn_w").dtype == "i1" and plan.buffer("fanout").length == 305


def test_narrow_v_only_when_asked_and_proven(toy):
    m = toy(thresholds=np.full(305, 1 << 16))
    assert not layout_c(m).narrow_v
    narrow = layout_c(m, narrow_v=True)
    assert set(narrow.narrow_v) >= {"c__a01"}
    assert narrow.constants["n_v16"] + narrow.constants["n_v32"] == 305
    assert narrow.ram_bytes < layout_c(m).ram_bytes
