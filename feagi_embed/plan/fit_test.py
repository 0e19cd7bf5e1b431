"""Unit tests of heap placement, the capacity check and the plan search."""

from __future__ import annotations

import pytest

from feagi_embed.plan import Budget, CapacityError, check_fit, layout_c, layout_mpy, place_state, plan_for


def test_place_state_moves_the_largest_buffers_to_the_heap(toy):
    plan = layout_c(toy())
    place_state(plan, static_avail=1000, heap_avail=10_000)
    assert plan.heap == {"v32"}  # 1,220 B does not fit 1,000 static; everything else does
    assert plan.static_bytes == plan.ram_bytes - 1220 and plan.heap_bytes == 1220
    place_state(plan, static_avail=10_000, heap_avail=10_000)
    assert plan.heap == set()    # it all fits statically


def test_check_fit_names_requested_available_missing(toy):
    plan = layout_c(toy())
    with pytest.raises(CapacityError) as e:
        check_fit(plan, Budget("tiny", 1000, flash=10_000))
    msg = str(e.value)
    assert f"ram: requested {plan.ram_bytes} B, available 1000 B, missing " \
           f"{plan.ram_bytes - 1000} B" in msg and "biggest areas: c__a01" in msg
    check_fit(plan, Budget("exact", plan.ram_bytes, flash=plan.flash_bytes))


def test_micropython_fit_uses_the_heap_estimate(toy):
    plan = layout_mpy(toy())
    total = plan.estimate["total"]
    check_fit(plan, Budget("b", 0, mpy_port="esp32", mpy_heap=total))
    with pytest.raises(CapacityError, match=f"heap: requested {total} B, available {total - 1} B"):
        check_fit(plan, Budget("b", 0, mpy_port="esp32", mpy_heap=total - 1, mpy_heap_source="x"))
    with pytest.raises(CapacityError, match="no MicroPython port"):
        check_fit(plan, Budget("b", 0))


def test_plan_for_tries_wide_static_then_heap(toy):
    m = toy()
    wide = layout_c(m)
    roomy = plan_for(m, Budget("roomy", wide.ram_bytes, flash=10**6))
    assert not roomy.heap and not roomy.narrow_v
    tight = plan_for(m, Budget("heap", 1000, heap=10_000, heap_block=5000, flash=10**6))
    assert tight.heap == {"v32"} and not tight.narrow_v
