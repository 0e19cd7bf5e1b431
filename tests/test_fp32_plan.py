"""Capacity plans of ``--precision fp32`` (docs/model.md §7): f32 constants and state, 4 B per
membrane potential and FCL sum, never the 16-bit narrowing; the report names its precision."""

from __future__ import annotations

import numpy as np
import pytest

from feagi_embed.boards import load_board
from feagi_embed.build import c_plan, report
from feagi_embed.plan import layout, plan_precision

from .test_executor_matrix import _case


@pytest.mark.parametrize("case", ["test_timer", "degeneration", "threshold_gradient"])
def test_fp32_plan_holds_feagi_f32_values(case):
    model, _ = _case(case)
    fx, fp = layout(model, narrow_v=True), layout(model, narrow_v=True, precision="fp32")
    assert plan_precision(fx) == "fixed" and plan_precision(fp) == "fp32"
    assert fp.constants["precision_fp32"] == 1 and "precision_fp32" not in fx.constants
    assert not fp.narrow_v and fp.constants["n_v16"] == 0  # f32 state is never narrowed
    for name in ("area_limit", "area_leak_k", "syn_c", "area_thr", "v32", "acc", "side_acc"):
        assert fp.buffer(name).dtype == "f4", name
    assert fp.buffer("v32").nbytes == 4 * model.n_neurons
    assert np.array_equal(fp.buffer("syn_c").values, model.syn_c_f32)
    assert np.array_equal(fp.buffer("area_leak_k").values, model.area_leak_f32)
    assert fp.constants["power_in"] == 1 and fp.constants["forced_v"] == 100
    # the integer tables are the same in both precisions
    for name in ("area_first", "syn_ptr", "syn_dst", "area_cfl", "area_exc_t"):
        assert np.array_equal(fx.buffer(name).values, fp.buffer(name).values), name


def test_fp32_report_sizes_f32_contributions():
    model, _ = _case("test_timer")
    b = load_board("uno")
    fixed, fp32 = (report(model, b, c_plan(model, b, precision=p)) for p in ("fixed", "fp32"))
    assert (fixed["precision"], fp32["precision"]) == ("fixed", "fp32")
    syn_c = {r["precision"]: next(a for a in r["arrays"] if a["name"] == "syn_c")
             for r in (fixed, fp32)}
    assert syn_c["fp32"]["ctype"] == "float" and syn_c["fp32"]["bytes"] == 4 * model.n_synapses
    assert syn_c["fixed"]["bytes"] <= syn_c["fp32"]["bytes"]
