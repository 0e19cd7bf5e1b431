"""Placement and the one capacity check: does a :class:`~feagi_embed.plan.buffers.Plan` fit a
:class:`~feagi_embed.plan.budgets.Budget`, and if not, by how many bytes where (TFLM style:
requested / available / missing bytes per region, and the biggest cortical areas)."""

from __future__ import annotations

from .budgets import Budget
from .buffers import Plan
from .c import HEAP_CAPABLE
from .widths import CapacityError


def place_state(plan: Plan, static_avail: int, heap_avail: int = 0, heap_block: int = 0) -> None:
    """Decide which RAM buffers are taken from the heap once at boot (sets ``plan.heap``).

    All state stays static when it fits ``static_avail`` or the board has no heap budget.
    Otherwise the buffers are placed largest first: into static RAM while they fit, else onto the
    heap (a buffer larger than ``heap_block`` stays static, so :func:`check_fit` reports it).

    Args:
        plan: a C plan (modified in place).
        static_avail: bytes of statically allocatable RAM the model may use.
        heap_avail: bytes of boot-time heap the model may use (0: none).
        heap_block: largest single heap allocation (0: no limit beyond ``heap_avail``).
    """
    plan.heap = set()
    if plan.ram_bytes <= static_avail or heap_avail <= 0:
        return
    left = static_avail
    for a in sorted((a for a in plan.buffers if a.region == "ram"), key=lambda a: -a.nbytes):
        if (a.nbytes <= left or a.name not in HEAP_CAPABLE
                or (heap_block and a.nbytes > heap_block)):
            left -= a.nbytes
        else:
            plan.heap.add(a.name)


def fit_problems(plan: Plan, budget: Budget, top: int = 5) -> list[str]:
    """Lines saying what does not fit (empty: it fits). C plans: static RAM, boot heap and its
    largest block, flash, addressable flash data, largest constant array. MicroPython plans: the
    GC heap estimate."""
    if plan.target == "micropython":
        return _mpy_problems(plan, budget)
    lines = []
    checks = [("ram", "ram", plan.static_bytes, budget.static_ram)]
    if plan.heap:
        checks.append(("heap", "ram", plan.heap_bytes, budget.heap))
    checks.append(("flash", "flash", plan.flash_bytes, budget.flash))
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
        if a.name in plan.heap and budget.heap_block and a.nbytes > budget.heap_block:
            lines.append(f"  heap block: {a.name} requested {a.nbytes} B in one block, "
                         f"available {budget.heap_block} B, missing {a.nbytes - budget.heap_block} B")
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
