"""The plan stage: :class:`~feagi_embed.model.Model` + board budget → target-neutral
:class:`Plan` of fixed-size buffers, and the one capacity check.

* :mod:`.budgets`: board → :class:`Budget`;
* :mod:`.c` / :mod:`.mpy`: the C and MicroPython layout strategies (tests beside them);
* :mod:`.narrow`: the per-area 16/8-bit membrane-potential proof;
* :mod:`.fit`: heap placement, :func:`check_fit`, :func:`plan_fits`;
* :func:`layout` / :func:`plan_for`: one entry point for both strategies.
"""

from __future__ import annotations

import numpy as np

from .budgets import Budget, budget_for
from .buffers import CONST, IO, STATE, Buffer, Plan
from .c import (AF_CC16, AF_V8, AF_V16, DEFAULT_QUEUE_LEN, HEAP_CAPABLE, NO_BASE, PRECISIONS,
                check_precision, layout_c, plan_precision)
from .fit import check_fit, fit_problems, place_best, place_state, plan_fits
from .mpy import estimate_heap, layout_mpy
from .narrow import V_WIDTHS, NarrowV, narrow_v_proof, nonneg_areas
from .widths import CapacityError, common_shift, dtype_size, signed_dtype, unsigned_dtype

TARGETS = ("c", "micropython")


def layout(model, target: str = "c", *, queue_len: int = DEFAULT_QUEUE_LEN,
           narrow_v: bool = False, v8: bool = False, injections: int = 1,
           nonneg: bool = False, precision: str = "fixed", synapses: str = "table") -> Plan:
    """The plan of ``model`` for ``target`` (``"c"``: :func:`~.c.layout_c`, ``"micropython"``:
    :func:`~.mpy.layout_mpy`; ``narrow_v``, ``nonneg``, ``v8`` and ``injections`` apply to C
    only; ``synapses``: ``"table"``, ``"procedural"`` or ``"auto"``, :func:`~.procedural.choose`).

    Raises:
        ValueError: unknown target or synapses mode.
    """
    if target == "c":
        return layout_c(model, queue_len=queue_len, narrow_v=narrow_v, v8=v8,
                        injections=injections, nonneg=nonneg, precision=precision,
                        synapses=synapses)
    if target == "micropython":
        return layout_mpy(model, queue_len=queue_len, precision=check_precision(precision),
                          synapses=synapses)
    raise ValueError(f"target {target!r}: expected one of {', '.join(TARGETS)}")


def queue_len_for(model, stimulus=None, bursts: int | None = None,
                  minimum: int = DEFAULT_QUEUE_LEN) -> int:
    """Input-queue entries per burst a test schedule needs: the most entries of one burst of
    ``stimulus`` compiled for ``bursts`` bursts (default: up to its last burst), at least
    ``minimum``."""
    if stimulus is None:
        return minimum
    nb = int(bursts if bursts is not None else max(stimulus.last_burst(), 1))
    ptr = stimulus.compile(model, nb)[0]
    return max(minimum, int(np.diff(ptr).max(initial=0)))


#: IPU unit types whose areas take whole frames (FEAGI ``img`` simple vision, ``svi`` segmented
#: vision, ``dpt`` depth map, ``seg`` object segmentation): not sized into the default input queue
#: (a camera frame is thousands of entries; bind the area in an io map or give ``--queue-len``)
FRAME_UNITS = frozenset({"img", "svi", "dpt", "seg"})


def sensor_voxels(model) -> int:
    """Voxels of the model's IPU areas other than frame (camera) areas: what the default input
    queue accepts every burst, so that every such sensor voxel is injectable each burst."""
    a = model.areas
    return int(sum(int(np.prod(a.dims[i])) for i in range(len(a))
                   if a.kinds[i] == "ipu" and a.io_units[i] not in FRAME_UNITS))


def input_queue_len(model, stimulus=None, bursts: int | None = None,
                    queue_len: int | None = None, io_need: int = 0) -> int:
    """The input-queue entries per burst of a build: ``queue_len`` when given (``--queue-len``),
    else the most of :data:`DEFAULT_QUEUE_LEN`, the sensor voxels (:func:`sensor_voxels`) and
    the test stimulus' largest burst (:func:`queue_len_for`) plus ``io_need``, the entries an io
    map's sensors inject per burst (:meth:`feagi_embed.io.pinmap.IoMap.queue_need`; they are
    queued in the same burst as the test schedule's).

    Raises:
        CapacityError: ``queue_len`` below 1, or below what the test stimulus needs.
    """
    need = queue_len_for(model, stimulus, bursts)
    if queue_len is None:
        return max(need + int(io_need), sensor_voxels(model))
    if queue_len < 1 or (stimulus is not None and queue_len < need):
        raise CapacityError(f"--queue-len {queue_len}: expected at least "
                            f"{max(1, need if stimulus is not None else 1)} (entries of the "
                            "test stimulus' largest burst)")
    return int(queue_len)


def plan_for(model, budget: Budget, target: str = "c", *,
             queue_len: int = DEFAULT_QUEUE_LEN, precision: str = "fixed",
             synapses: str = "table") -> Plan:
    """The plan of ``model`` that fits ``budget``, trying in order (C): all state static with
    int32 membrane potentials; the same with the largest buffers on the boot-time heap (boards
    with a heap region); 16-bit membrane potentials where :func:`narrow_v_proof` proves them
    (static, then with the heap); then also 8-bit ones (sensory step at most 1.0); then the same
    two also in areas without charge accumulation (non-negative sensory values there). Each step
    asks more of the inputs, so a board gets the first that fits. When none fits and the board
    has a boot heap, the same packings once more with the exact heap placement
    (:func:`~.fit.place_best`; the largest-first rule of :func:`~.fit.place_state` can miss
    one). Returns the last plan tried when none fits (:func:`check_fit` then explains why). MicroPython has one layout.
    ``precision="fp32"``: f32 constants and state (:func:`~.c.layout_c`), never narrowed.
    ``synapses`` picks table or procedural storage per mapping rule (:func:`~.procedural.choose`);
    with ``"auto"`` each step first tries the rules within the cycle limit, then (``auto-fit``)
    every rule whose record is smaller.
    """
    if target != "c":
        return layout(model, target, queue_len=queue_len, precision=precision, synapses=synapses)
    plan = None
    tried: list[int] = []
    plans: list[Plan] = []
    for narrow, nonneg, v8 in ((False, False, False), (True, False, False), (True, False, True),
                               (True, True, False), (True, True, True)):
        prev = plan
        plan = layout_c(model, queue_len=queue_len, narrow_v=narrow, v8=v8, nonneg=nonneg,
                        precision=precision, synapses=synapses)
        n_narrow = len(plan.narrow_v) + plan.constants["n_v8"]
        if narrow and tried and n_narrow == tried[-1]:  # nothing new to try
            plan = prev
            continue
        tried.append(n_narrow)
        for fit_rules in ((False, True) if synapses == "auto" else (False,)):
            if fit_rules:  # auto: more procedural rules where the fast ones do not fit
                plan = layout_c(model, queue_len=queue_len, narrow_v=narrow, v8=v8,
                                nonneg=nonneg, precision=precision, synapses="auto-fit")
            plans.append(plan)
            for use_heap in (False, True):
                place_state(plan, budget.static_ram, budget.heap if use_heap else 0,
                            budget.heap_block, budget.psram if use_heap else 0,
                            budget.psram_block)
                if plan_fits(plan, budget):
                    return plan
    # last resort (a plan the steps above fit keeps their placement): the exact heap placement
    for p in plans if budget.heap and not budget.psram else ():
        before = set(p.heap)
        if (place_best(p, budget.static_ram, budget.heap, budget.heap_block) is not None
                and plan_fits(p, budget)):
            return p
        p.heap = before  # a refusal reports the placement of the steps above
    assert plan is not None
    return plan


__all__ = ["PRECISIONS", "check_precision", "plan_precision", "AF_CC16", "AF_V8", "AF_V16", "V_WIDTHS", "Budget", "Buffer", "CONST", "CapacityError", "DEFAULT_QUEUE_LEN",
           "HEAP_CAPABLE", "IO", "NO_BASE", "NarrowV", "Plan", "STATE", "TARGETS", "budget_for",
           "check_fit", "common_shift", "dtype_size", "estimate_heap", "fit_problems", "layout",
           "layout_c", "layout_mpy", "narrow_v_proof", "nonneg_areas", "place_best", "place_state", "plan_fits", "plan_for", "queue_len_for", "input_queue_len",
           "sensor_voxels", "FRAME_UNITS",
           "signed_dtype", "unsigned_dtype"]
