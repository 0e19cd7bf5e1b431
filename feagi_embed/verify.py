"""The verify stage: run a model on executors and compare each one's trace with the reference
(the fixed-point numba twin), naming the first divergence (burst, what, and the neuron: area,
x, y, z, k).

Rows: ``{"name", "bursts", "equal", "first_divergence", "detail"}``; ``equal`` is None for an
executor that cannot run here (``detail`` says why).
"""

from __future__ import annotations

from typing import Any

from .errors import FeagiEmbedError
from .executors import Executor, NumbaTwin
from .plan import CapacityError
from .model import Model
from .stimulus import Stimulus
from .trace import Trace, compare_digests, first_differing_neuron


def not_run_row(ex: Executor, why: str) -> dict[str, Any]:
    """The row of an executor that cannot run here."""
    return {"name": ex.name, "bursts": 0, "equal": None, "first_divergence": None,
            "detail": f"not run: {why}"}


def _name_neuron(model: Model, ref: Trace, ex: Executor, got: Trace, first: dict, rerun) -> str:
    """Add ``first["neuron"]`` for a burst-digest divergence (from the trace's fired ids, or a
    diagnostic re-run that reports them); returns a note for the row's detail."""
    fired = got.fired
    note = ""
    if not fired and ex.can_trace_ids:
        again = rerun()
        fired = again.fired
        if again.burst_crc != got.burst_crc:
            note = "; the diagnostic re-run printed other burst digests (not reproducible?)"
    if fired:
        first["neuron"] = first_differing_neuron(model, ref, fired, first["burst"])
    return note


def compare_row(model: Model, ref: Trace, ex: Executor, got: Trace, rerun=None
                ) -> dict[str, Any]:
    """The row of an executor's trace ``got`` against the reference ``ref``.

    Args:
        rerun: ``() -> Trace`` with fired ids, called to name the neuron when ``got`` has none.
    """
    if ex.compares_state:
        equal, first = compare_digests(ref, got.burst_crc, got.state_crc)
    else:  # bursts only
        equal, first = compare_digests(Trace(burst_crc=ref.burst_crc), got.burst_crc, {})
        equal = got.burst_crc == ref.burst_crc
    detail = got.detail
    if first and first["what"] == "burst digest":
        detail += _name_neuron(model, ref, ex, got, first, rerun or (lambda: Trace()))
    return {"name": ex.name, "bursts": len(got.burst_crc), "equal": equal,
            "first_divergence": first, "detail": detail}


def verify(model: Model, executors: list[Executor], stimulus: Stimulus | None, bursts: int,
           state_every: int = 10, reference: Executor | None = None) -> list[dict[str, Any]]:
    """Run ``model`` on the reference (default: the fixed-point numba twin) and on every
    executor that can run here; compare all burst and state digests.

    Returns:
        The reference's row first (``detail`` "reference", plus ``activity``: fired neurons in
        all bursts, with and without the power neuron), then one row per executor.
    """
    stim = stimulus or Stimulus()
    ref_ex = reference or NumbaTwin("fixed")
    ref = ref_ex.run(model, stim, bursts, state_every)
    rows = [{"name": ref_ex.name, "bursts": bursts, "equal": True, "first_divergence": None,
             "detail": "reference", "activity": activity(model, ref)}]
    for ex in executors:
        why = ex.available()
        if why:
            rows.append(not_run_row(ex, why))
            continue
        try:
            got = ex.run(model, stim, bursts, state_every)
        except CapacityError as e:  # this board cannot hold the model: say so, go on
            rows.append(not_run_row(ex, str(e).splitlines()[0]))
            continue
        except FeagiEmbedError as e:  # a target that should run and did not: a failure
            rows.append({"name": ex.name, "bursts": 0, "equal": False, "first_divergence": None,
                         "detail": f"failed: {str(e).strip().splitlines()[-1][:300]}"})
            continue
        rows.append(compare_row(model, ref, ex, got,
                                lambda ex=ex: ex.run(model, stim, bursts, state_every,
                                                     trace_ids=True)))
    return rows


def activity(model: Model, trace: Trace) -> dict[str, int]:
    """``{"fired", "fired_without_power"}``: neurons fired over all bursts of ``trace``, and the
    same without the power neuron (0 there: the run proved little about synapses)."""
    fired = sum(len(f) for f in trace.fired)
    power = sum(int(model.power_neuron in f) for f in trace.fired) if model.has_power else 0
    return {"fired": int(fired), "fired_without_power": int(fired - power)}


def any_divergence(rows: list[dict[str, Any]]) -> bool:
    """True when some executor that compares with the reference differs (the f32 reference's
    bursts may differ on lossy models and do not count)."""
    return any(r["equal"] is False for r in rows if "f32" not in r["name"])
