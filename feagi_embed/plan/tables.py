"""Per-area tables both layout strategies share: threshold storage, state offsets, the
accumulator hole and which areas need a refractory countdown."""

from __future__ import annotations

import numpy as np


def area_thresholds(model, none: int, values=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-area thresholds: uniform areas keep one value, gradient areas their neurons' values.

    ``values``: the per-neuron thresholds to split (default ``model.threshold``, int; the f32
    plan passes ``model.threshold_f32`` and gets float32 arrays back).

    Returns:
        ``(area_thr, thr_base, thr_nrn)``: int64 ``[A]`` uniform threshold (0 for gradient areas),
        int64 ``[A]`` offset of a gradient area's first neuron in ``thr_nrn`` (``none`` for
        uniform areas), int64 per-neuron thresholds of the gradient areas, concatenated.
    """
    thr = np.asarray(model.threshold if values is None else values)
    if thr.dtype.kind != "f":
        thr = thr.astype(np.int64)
    first = np.asarray(model.area_first, np.int64)
    n_areas = len(first) - 1
    area_thr = np.zeros(n_areas, thr.dtype)
    thr_base = np.full(n_areas, none, np.int64)
    parts, pos = [], 0
    for a in range(n_areas):
        seg = thr[first[a]:first[a + 1]]
        if len(seg) == 0:
            continue
        if (seg == seg[0]).all():
            area_thr[a] = seg[0]
        else:
            thr_base[a] = pos
            parts.append(seg)
            pos += len(seg)
    return area_thr, thr_base, (np.concatenate(parts) if parts else np.zeros(0, thr.dtype))


def area_offsets(mask: np.ndarray, counts: np.ndarray, none: int) -> tuple[np.ndarray, int]:
    """Offsets of the areas in ``mask`` into a state array holding only their neurons.

    Returns:
        ``(base, total)``: int64 ``[A]`` first index of each masked area (``none`` elsewhere) and
        the array length.
    """
    base = np.full(len(counts), none, np.int64)
    total = 0
    for a in range(len(counts)):
        if mask[a]:
            base[a] = total
            total += int(counts[a])
    return base, total


def accumulator_hole(model) -> tuple[int, int]:
    """The longest run ``[lo, hi)`` of neurons that no synapse targets.

    Such neurons only receive input from the injection queue and the power neuron, so the
    runtimes keep no dense FCL accumulator for them (a side list of ``queue_len + 1`` entries
    instead). ``(0, 0)`` when every neuron is targeted.
    """
    n = model.n_neurons
    if not n:
        return 0, 0
    targeted = np.zeros(n, bool)
    targeted[np.asarray(model.syn_dst, np.int64)] = True
    edges = np.flatnonzero(np.diff(np.concatenate(([1], targeted.astype(np.int8), [1]))))
    runs = edges.reshape(-1, 2)  # [start, end) of untargeted runs
    if not len(runs):
        return 0, 0
    best = int(np.argmax(runs[:, 1] - runs[:, 0]))
    return int(runs[best, 0]), int(runs[best, 1])


def countdown_areas(model) -> np.ndarray:
    """bool ``[A]``: areas whose neurons need a refractory countdown (R > 0, or a snooze behind a
    finite consecutive fire limit)."""
    cfl = np.asarray(model.area_cfl, np.int64)
    finite = (cfl != 0) & (cfl != 65535)
    return (np.asarray(model.area_refractory) > 0) | ((np.asarray(model.area_snooze) > 0) & finite)
