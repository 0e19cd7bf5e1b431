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


def test_psram_takes_the_coldest_buffers_first(toy):
    """External RAM (PSRAM) gets what the burst loop touches least: V and the consecutive counts
    (per candidate) before the FCL accumulator (per synaptic event) and the bitmaps (scanned
    every burst), even where a bitmap is larger; and only as much as the static RAM cannot hold."""
    plan = layout_c(toy())
    sizes = {b.name: b.nbytes for b in plan.buffers if b.region == "ram"}
    place_state(plan, static_avail=plan.ram_bytes - 1, psram_avail=10**6)
    assert plan.heap == {"v32"}
    # free 1 B more than v32 + cc2: the next coldest (cc16, 10 B) goes, not the 160 B bitmaps
    # a largest-first rule would take
    assert sizes["bits"] > sizes["cc2"] > sizes["cc16"]
    place_state(plan, static_avail=plan.ram_bytes - sizes["v32"] - sizes["cc2"] - 1,
                psram_avail=10**6)
    assert plan.heap == {"v32", "cc2", "cc16"}
    # more than every cold buffer: the accumulator (warm) goes before the bitmaps (hot)
    cold = sum(sizes[n] for n in ("v32", "v16", "cc2", "cc8", "cc16", "vfire", "psp"))
    place_state(plan, static_avail=plan.ram_bytes - cold - 1, psram_avail=10**6)
    assert "acc" in plan.heap and "bits" not in plan.heap
    place_state(plan, static_avail=plan.ram_bytes, psram_avail=10**6)
    assert plan.heap == set()
    # a buffer larger than the PSRAM block stays static, so the check reports it
    place_state(plan, static_avail=0, psram_avail=10**6, psram_block=sizes["v32"] - 1)
    assert "v32" not in plan.heap
    with pytest.raises(CapacityError, match="ram: requested"):
        check_fit(plan, Budget("p", 0, psram=10**6, psram_block=sizes["v32"] - 1, flash=10**6))


def test_psram_budget_is_checked_as_its_own_region(toy):
    plan = layout_c(toy())
    place_state(plan, static_avail=plan.ram_bytes - 1, psram_avail=10**6)
    with pytest.raises(CapacityError, match=f"psram: requested 1220 B, available 1000 B, "
                                            "missing 220 B"):
        check_fit(plan, Budget("p", plan.ram_bytes - 1, psram=1000, flash=10**6))
    check_fit(plan, Budget("p", plan.ram_bytes - 1, psram=1220, flash=10**6))


def test_larger_partition_is_used_only_when_constants_and_code_exceed_the_default():
    b = Budget("esp", 10_000, flash=1000, flash_large=5000, flash_code=300)
    assert not b.needs_partitions(700) and b.flash_for(700) == 1000
    assert b.needs_partitions(701) and b.flash_for(701) == 5000
    assert not Budget("none", 10_000, flash=1000).needs_partitions(10**6)


def _fixed_and_movable(plan):
    from feagi_embed.plan import HEAP_CAPABLE
    ram = [b for b in plan.buffers if b.region == "ram"]
    return (sum(b.nbytes for b in ram if b.name not in HEAP_CAPABLE),
            {b.name: b.nbytes for b in ram if b.name in HEAP_CAPABLE})


def test_exact_placement_finds_what_largest_first_misses(toy):
    """v32 (1,220 B) exceeds the 1,000 B heap block, so it and the buffers that must stay static
    (queue, side list: 344 B) need 1,564 of the 1,600 static bytes. Largest first fills the
    static RAM with v32, the bitmaps and cc2 before it counts the side list, and overflows; the
    exact placement sends every other heap-capable buffer to the heap, leaving 36 B static."""
    from feagi_embed.plan import place_best
    plan = layout_c(toy())
    fixed, movable = _fixed_and_movable(plan)
    assert fixed == 68 + 68 + 64 + 144 and movable["v32"] == 1220
    budget = Budget("b", 1600, heap=1000, heap_block=1000, flash=10**6)
    place_state(plan, 1600, 1000, 1000)
    with pytest.raises(CapacityError, match="ram: requested"):
        check_fit(plan, budget)
    left = place_best(plan, 1600, 1000, 1000)
    assert plan.heap == set(movable) - {"v32"}
    assert left == min(1600 - 1220 - fixed, 1000 - (sum(movable.values()) - 1220)) == 36
    check_fit(plan, budget)
    # one byte less static RAM than v32 + the fixed buffers: nothing fits, heap left as it was
    assert place_best(plan, 1220 + fixed - 1, 1000, 1000) is None
    assert plan.heap == set(movable) - {"v32"}


def test_plan_for_uses_the_exact_placement_only_as_a_last_resort(toy):
    """No packing fits with largest first (the leak factor 0.5 rules out narrow V), so plan_for
    takes the exact placement; where largest first fits, its placement is kept."""
    m = toy(leak_k=(65536, 32768, 32768))
    plan = plan_for(m, Budget("b", 1600, heap=1000, heap_block=1000, flash=10**6))
    fixed, movable = _fixed_and_movable(plan)
    assert not plan.narrow_v and plan.heap == set(movable) - {"v32"}
    # 1,850 B: largest first keeps all but v16 (2 B; 1 B is left when its turn comes) static
    roomy = plan_for(m, Budget("b", 1850, heap=1000, heap_block=1000, flash=10**6))
    assert plan.ram_bytes == 1852 and roomy.heap == {"v16"}
