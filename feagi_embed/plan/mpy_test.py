"""Unit tests of the MicroPython layout strategy and its heap estimate."""

from __future__ import annotations

from feagi_embed.plan import estimate_heap, layout_mpy
from feagi_embed.plan.mpy import BASELINE_BYTES, CODE_BYTES, ENGINE_BYTES, GC_BLOCK, OBJ_HEADER


def test_array_types_and_state(toy):
    plan = layout_mpy(toy())
    assert [plan.buffer(n).dtype for n in ("area_first", "syn_ptr", "syn_dst", "syn_c")] == \
        ["u2", "u1", "u2", "i1"]
    c = plan.constants
    assert c["syn_c_shift"] == 16 and c["cd_t"] == "u1" and c["cc_t"] == "u2"
    assert c["cand_cap"] == 2 + 16 + 1 and c["n_refl"] == 4
    assert plan.state["V"] == ("i4", 305) and plan.state["cand"] == ("u2", 20)


def test_heap_estimate_by_hand(toy):
    plan = layout_mpy(toy())
    est = estimate_heap(plan)
    assert est == plan.estimate
    assert est["total"] == sum(v for k, v in est.items() if k != "total")
    assert (est["baseline"], est["code"]) == (BASELINE_BYTES, CODE_BYTES)
    # V: 305 int32 = 1,220 B → 77 blocks of 16 B, plus its object header
    v = OBJ_HEADER + -(-305 * 4 // GC_BLOCK) * GC_BLOCK
    assert v == 16 + 1232 and est["state"] > ENGINE_BYTES + v


def test_queue_len_sizes_the_candidate_lists(toy):
    small, big = layout_mpy(toy(), queue_len=16), layout_mpy(toy(), queue_len=200)
    assert big.constants["cand_cap"] == 2 + 200 + 1
    assert big.estimate["state"] > small.estimate["state"]
