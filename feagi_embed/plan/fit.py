"""Placement and the one capacity check: does a :class:`~feagi_embed.plan.buffers.Plan` fit a
:class:`~feagi_embed.plan.budgets.Budget`, and if not, by how many bytes where (TFLM style:
requested / available / missing bytes per region, and the biggest cortical areas)."""

from __future__ import annotations

import numpy as np

from .budgets import Budget
from .buffers import Plan
from .c import HEAP_CAPABLE
from .widths import CapacityError


#: how often the runtime touches each heap-capable state array (firmware/feagi_runtime.c): 0
#: cold (per candidate or fired neuron: V, consecutive counts, V at fire, PSP), 1 warm (the FCL
#: accumulator: per synaptic event), 2 hot (scanned every burst over all their neurons: the four
#: bitmaps, the refractory countdowns of step 6a). PSRAM takes the coldest arrays first.
HEAT = {"v32": 0, "v16": 0, "v8": 0, "cc2": 0, "cc8": 0, "cc16": 0, "vfire": 0, "psp": 0, "acc": 1,
        "cd": 2, "bits": 2}


def place_state(plan: Plan, static_avail: int, heap_avail: int = 0, heap_block: int = 0,
                psram_avail: int = 0, psram_block: int = 0) -> None:
    """Decide which RAM buffers are taken from the heap once at boot (sets ``plan.heap``).

    All state stays static when it fits ``static_avail`` or the board has no heap budget.
    Otherwise the buffers are placed largest first: into static RAM while they fit, else onto the
    heap (a buffer larger than ``heap_block`` stays static, so :func:`check_fit` reports it).
    With external RAM (``psram_avail`` > 0, ESP32-S3 PSRAM; it replaces ``heap_avail``) the
    coldest buffers (:data:`HEAT`), largest first among equally cold ones, move to PSRAM until
    the rest fits ``static_avail``: what the burst loop touches every burst stays internal.

    Args:
        plan: a C plan (modified in place).
        static_avail: bytes of statically allocatable RAM the model may use.
        heap_avail: bytes of boot-time heap the model may use (0: none).
        heap_block: largest single heap allocation (0: no limit beyond ``heap_avail``).
        psram_avail, psram_block: the same for external RAM (0: none).
    """
    plan.heap = set()
    if psram_avail > 0 and plan.ram_bytes > static_avail:
        _place_cold_in_psram(plan, static_avail, psram_block)
        return
    if plan.ram_bytes <= static_avail or heap_avail <= 0:
        return
    left = static_avail
    for a in sorted((a for a in plan.buffers if a.region == "ram"), key=lambda a: -a.nbytes):
        if (a.nbytes <= left or a.name not in HEAP_CAPABLE
                or (heap_block and a.nbytes > heap_block)):
            left -= a.nbytes
        else:
            plan.heap.add(a.name)


def _place_cold_in_psram(plan: Plan, static_avail: int, psram_block: int) -> None:
    """Move heap-capable buffers to PSRAM, coldest and largest first, until the static rest fits
    (a buffer larger than ``psram_block`` stays static, so :func:`check_fit` reports it)."""
    static = plan.ram_bytes
    movable = [a for a in plan.buffers if a.region == "ram" and a.name in HEAP_CAPABLE
               and not (psram_block and a.nbytes > psram_block)]
    for a in sorted(movable, key=lambda a: (HEAT.get(a.name, 2), -a.nbytes)):
        if static <= static_avail:
            break
        plan.heap.add(a.name)
        static -= a.nbytes


def place_best(plan: Plan, static_avail: int, heap_avail: int, heap_block: int = 0) -> int | None:
    """Exact heap placement: of every subset of heap-capable RAM buffers (each at most
    ``heap_block``) that could go to the heap, the one leaving the most bytes in the fuller of the
    two regions (static and heap); sets ``plan.heap`` to it and returns those bytes, or returns
    None (``plan.heap`` unchanged) when no subset fits both. Ties: the first subset in binary
    order over the buffers' plan order. 2^k subsets for k movable buffers (k <= 11: the C plan's
    heap-capable buffers).

    :func:`place_state`'s largest-first rule can miss a placement that exists: it fills the
    static RAM with heap-capable buffers before the buffers that must stay static (input queue,
    side list) are counted, so those then overflow it (the big genome on the ESP32: 70 B).

    Raises:
        ValueError: more than 16 movable buffers (65,536 subsets).
    """
    movable = [b for b in plan.buffers if b.region == "ram" and b.name in HEAP_CAPABLE
               and not (heap_block and b.nbytes > heap_block)]
    if len(movable) > 16:
        raise ValueError(f"{len(movable)} movable buffers: too many for the exact placement")
    sizes = np.array([b.nbytes for b in movable], np.int64)
    masks = (np.arange(1 << len(movable))[:, None] >> np.arange(len(movable))) & 1
    heap = masks @ sizes
    left = np.minimum(static_avail - (plan.ram_bytes - heap), heap_avail - heap)
    best = int(np.argmax(left))
    if left[best] < 0:
        return None
    plan.heap = {b.name for b, m in zip(movable, masks[best]) if m}
    return int(left[best])


def fit_problems(plan: Plan, budget: Budget, top: int = 5) -> list[str]:
    """Lines saying what does not fit (empty: it fits). C plans: static RAM, boot heap and its
    largest block, flash, addressable flash data, largest constant array. MicroPython plans: the
    GC heap estimate."""
    if plan.target == "micropython":
        return _mpy_problems(plan, budget)
    lines = []
    checks = [("ram", "ram", plan.static_bytes, budget.static_ram)]
    if plan.heap:
        checks.append(("psram", "ram", plan.heap_bytes, budget.psram) if budget.psram else
                      ("heap", "ram", plan.heap_bytes, budget.heap))
    checks.append(("flash", "flash", plan.flash_bytes, budget.flash_for(plan.flash_bytes)))
    if budget.flash_data_limit and budget.flash_data_limit < budget.flash:
        checks.append(("flash (addressable data)", "flash", plan.flash_bytes,
                       budget.flash_data_limit))
    for region, attr, used, avail in checks:
        if used > avail:
            lines.append(f"  {region}: requested {used} B, available {avail} B, "
                         f"missing {used - avail} B")
            biggest = sorted(plan.per_area.items(), key=lambda kv: -kv[1][attr])[:top]
            lines.append("    biggest areas: " + ", ".join(
                f"{k} ({v[attr]} B, {v['neurons']} neurons)" for k, v in biggest))
    for a in plan.buffers:
        if a.region == "flash" and budget.flash_array_max and a.nbytes > budget.flash_array_max:
            lines.append(f"  flash array: {a.name} requested {a.nbytes} B in one object, "
                         f"available {budget.flash_array_max} B, "
                         f"missing {a.nbytes - budget.flash_array_max} B")
        block = budget.psram_block if budget.psram else budget.heap_block
        if a.name in plan.heap and block and a.nbytes > block:
            lines.append(f"  {'psram' if budget.psram else 'heap'} block: {a.name} requested "
                         f"{a.nbytes} B in one block, available {block} B, "
                         f"missing {a.nbytes - block} B")
    return lines


def _mpy_problems(plan: Plan, budget: Budget) -> list[str]:
    est, avail = plan.estimate, budget.mpy_heap
    if budget.mpy_port == "none" or avail <= 0:
        return [f"no MicroPython port ({budget.mpy_heap_source})"]
    if est["total"] <= avail:
        return []
    parts = ", ".join(f"{k} {v} B" for k, v in est.items() if k != "total")
    return [f"  heap: requested {est['total']} B, available {avail} B, "
            f"missing {est['total'] - avail} B", f"    parts: {parts}",
            f"    heap source: {budget.mpy_heap_source}"]


def plan_fits(plan: Plan, budget: Budget) -> bool:
    """True when ``plan`` fits every budget; :func:`check_fit` explains a no."""
    return not fit_problems(plan, budget)


def check_fit(plan: Plan, budget: Budget) -> None:
    """Refuse a plan that does not fit.

    Raises:
        CapacityError: requested / available / missing bytes per region that does not fit, and
            the biggest cortical areas of that region.
    """
    lines = fit_problems(plan, budget)
    if not lines:
        return
    if plan.target == "micropython":
        if not lines[0].startswith("  "):
            raise CapacityError(f"{budget.board}: {lines[0]}")
        raise CapacityError(f"model does not fit {budget.board} (MicroPython {budget.mpy_port} "
                            "port):\n" + "\n".join(lines))
    raise CapacityError(f"model does not fit {budget.board}:\n" + "\n".join(lines))
