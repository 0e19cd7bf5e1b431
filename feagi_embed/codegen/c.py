"""C emission: a :class:`~feagi_embed.model.Model` and its C :class:`~feagi_embed.plan.Plan` →
``feagi_model.h`` / ``feagi_model.c`` (+ test stimulus schedule, ``main.c`` and the Arduino
sketch) for ``firmware/feagi_runtime.c``.

Templates: ``templates/c/`` (one template per output file); this module only prepares values and
owns the C spellings of the plan (types, ``FEAGI_*`` macro names, typedef names).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .. import __version__, limits
from ..errors import FeagiEmbedError
from ..plan import Budget, Plan, plan_precision
from .cgen import READ_MACRO, TYPE_MAX, area_identifiers, banner, ctype, define, format_values
from .env import render

#: the comment of each generated model constant (``plan.constants`` keys)
CONSTANT_DOCS = {
    "n": "neurons N", "s": "synapses S", "a": "cortical areas A",
    "f": "fractional bits F of potentials, thresholds and contributions",
    "power_neuron": "id of the ___power neuron (-1: none)",
    "power_in": "input of the power neuron every burst, q(1.0)",
    "forced_v": "V reported for a forced fire, q(100)",
    "large_brain": "1: FEAGI's large-brain membrane reset (N >= 1,000,000)",
    "psp_cap": "cap of run-time PSPs (mp-driven V at fire, degenerating PSP), fixed point",
    "has_runtime_psp": "1: some source computes its contributions at run time",
    "n_mpd": "neurons of mp-driven areas (V-at-fire state)",
    "n_degen": "neurons of degenerating areas (PSP state)",
    "n_thr": "neurons of threshold-gradient areas (per-neuron thresholds)",
    "n_cd": "neurons with a refractory countdown",
    "n_cc2": "neurons with a 2-bit consecutive fire count (L <= 3; 4 per byte)",
    "n_cc8": "neurons with an 8-bit consecutive fire count (3 < L <= 255)",
    "n_cc16": "neurons with a 16-bit consecutive fire count (L unlimited)",
    "syn_c_scale": "syn_c holds C / FEAGI_SYN_C_SCALE (exact)",
    "n_sp": "entries of syn_ptr (count + 1 per area with synapses)",
    "sp_none": "area_sp_base of an area without table synapses (its type's largest value)",
    "n_rules": "procedural rule records", "s_procedural": "synapses expanded from rule records",
    "lin_none": "rule_lin entry of no destination (its type's largest value)",
    "rule_c_scale": "rule_c holds C / FEAGI_RULE_C_SCALE (exact)",
    "queue_len": "injection/force-fire queue entries per burst",
    "hole_lo": "first neuron of the untargeted run without a dense accumulator",
    "hole_hi": "end of that run (exclusive)", "n_acc": "entries of the dense FCL accumulator",
    "side_len": "FCL side-list entries (queue + power neuron)",
    "side_hash_bits": "bits of the side-list hash index",
    "n_v32": "neurons with an int32 membrane potential",
    "n_v16": "neurons with a 16-bit membrane potential (V >> shift)",
    "n_v8": "neurons with an 8-bit membrane potential (V >> shift)",
    "max_sensory_q": "largest |injected value| accepted, q(max_sensory)",
    "sensory_budget_q": "largest sum of positive injections into one neuron of a narrow-V area "
                        "in one burst (the proof's budget)",
    "precision_fp32": "1: IEEE single precision (--precision fp32), FEAGI's operation order",
}
#: the comments that differ in an fp32 plan (the value is the real number, not q(value))
FP32_DOCS = {"power_in": "input of the power neuron every burst, 1.0 (f32)",
             "forced_v": "V reported for a forced fire, 100.0 (f32)",
             "f": "fractional bits F of the q(value) feagi_inject() converts (q / 2^F)"}


def c_constants(plan: Plan) -> dict[str, int]:
    """The plan's constants under their ``FEAGI_*`` macro names (``n`` → ``FEAGI_N``)."""
    return {f"FEAGI_{k.upper()}": v for k, v in plan.constants.items()}


def c_typedefs(plan: Plan) -> dict[str, str]:
    """``feagi_<role>_t`` → C type of the plan's index types."""
    return {f"feagi_{k}_t": ctype(v) for k, v in plan.index_types.items()}


def _area_labels(model, plan: Plan) -> dict[str, dict[int, str]]:
    """``/* area … */`` labels at the first element of each area in the per-neuron, per-synapse,
    threshold and synapse-offset arrays."""
    names, ids = model.areas.names, model.areas.genome_ids
    first = np.asarray(model.area_first, np.int64)
    ptr = np.asarray(model.syn_ptr, np.int64)
    neuron_lab, syn_lab, thr_lab, sp_lab = {}, {}, {}, {}
    thr_base = plan.buffer("area_thr_base").values
    sp_base = plan.buffer("area_sp_base").values
    for a in range(model.n_areas):
        if first[a + 1] == first[a]:
            continue
        lab = f"area {a}: {ids[a]} {names[a]}"
        neuron_lab[int(first[a])] = lab
        if ptr[first[a + 1]] > ptr[first[a]]:
            syn_lab[int(ptr[first[a]])] = lab
        if thr_base[a] != 0xFFFFFFFF:
            thr_lab[int(thr_base[a])] = lab
        if sp_base[a] != plan.constants["sp_none"]:
            sp_lab[int(sp_base[a])] = lab
    return {"syn_ptr": sp_lab, "fanout": neuron_lab, "syn_dst": syn_lab, "syn_c": syn_lab,
            "syn_w": syn_lab, "thr": thr_lab}


def _arrays(model, plan: Plan) -> tuple[list[dict], list[dict]]:
    """Template rows of the flash arrays (with their initialiser lines) and the RAM arrays."""
    labels = _area_labels(model, plan)
    flash, ram = [], []
    for a in plan.buffers:
        ct = ctype(a.dtype)
        row = {"name": a.name, "upper": a.name.upper(), "ctype": ct, "length": a.length,
               "bytes": a.nbytes, "doc": a.doc}
        if a.region == "flash":
            rd = "FEAGI_RD_F32" if a.dtype == "f4" else READ_MACRO[int(a.dtype[1:])]
            flash.append(dict(row, rd=rd,
                              lines=format_values(a.values, ct, labels.get(a.name))))
        else:
            ram.append(dict(row, heap=a.name in plan.heap))
    return flash, ram


def model_context(model, plan: Plan, budget: Budget) -> dict:
    """The context of ``feagi_model.h`` / ``feagi_model.c`` (and the files built on it)."""
    name, sha = model.provenance.genome_name, model.provenance.genome_sha256
    consts = c_constants(plan)
    flash_arrays, ram_arrays = _arrays(model, plan)
    first = np.asarray(model.area_first, np.int64)
    a_t = model.areas
    idents = area_identifiers(a_t.names, a_t.genome_ids)
    areas = [{"index": a, "id": a_t.genome_ids[a], "name": a_t.names[a], "first": int(first[a]),
              "neurons": int(first[a + 1] - first[a]), "kind": a_t.kinds[a],
              "ident": idents[a], "dims": a_t.dims[a], "npv": a_t.npv[a]}
             for a in range(model.n_areas)]
    typedefs = c_typedefs(plan)
    fp32 = plan_precision(plan) == "fp32"
    docs = dict(CONSTANT_DOCS, **(FP32_DOCS if fp32 else {}))
    defines = [define(k, v, docs.get(k.removeprefix("FEAGI_").lower(), ""))
               for k, v in consts.items() if k != "FEAGI_PSP_CAP"]
    return {
        "defines": defines, "psp_cap_doc": CONSTANT_DOCS["psp_cap"], "fp32": fp32,
        "banner_h": banner(name, sha, budget.board, "feagi_model.h - model constants, types and "
                           "accessors"),
        "banner_c": banner(name, sha, budget.board, "feagi_model.c - model data (flash)"),
        "version": __version__, "board": budget.board, "consts": consts,
        "psp_cap": int(consts.pop("FEAGI_PSP_CAP")), "typedefs": typedefs,
        "flash_arrays": flash_arrays, "ram_arrays": ram_arrays,
        "flash_bytes": plan.flash_bytes, "ram_bytes": plan.static_bytes,
        "heap_bytes": plan.heap_bytes,
        "heap_budget": (budget.psram or budget.heap) if plan.heap else None,
        "heap_psram": bool(plan.heap and budget.psram),
        "ram_budget": budget.static_ram,
        "flash_budget": (budget.flash_for(plan.flash_bytes) if budget.needs_partitions(
            plan.flash_bytes) else budget.flash_reachable), "areas": areas,
        "narrow": [{"name": k, **v.to_json()} for k, v in plan.narrow_v.items()],
        "nid_max": TYPE_MAX[typedefs["feagi_nid_t"]],
        "sptr_max": TYPE_MAX[typedefs["feagi_sptr_t"]],
        "first_max": TYPE_MAX[ctype(plan.buffer("area_first").dtype)],
    }


def _schedule_context(model, plan: Plan, ctx: dict, stimulus, bursts: int | None,
                      state_every: int) -> dict:
    """Context of the test schedule and ``main.c``: the stimulus compiled for ``bursts`` bursts.

    Raises:
        FeagiEmbedError: a burst has more entries than the plan's input queue, or the schedule
            exceeds the header limits (:mod:`feagi_embed.limits`).
    """
    from ..stimulus import Stimulus

    stim = stimulus or Stimulus()
    nb = int(bursts if bursts is not None else max(stim.last_burst(), 1))
    # the header holds one uint32 per burst and 9 bytes per event: bounded before compiling
    limits.check_count("max_test_bursts", nb, "bursts in the test stimulus header", stim.source)
    limits.check_count("max_test_stimulus_events", stim.event_count(nb),
                       "events in the test stimulus header", stim.source)
    fp32 = plan_precision(plan) == "fp32"
    ptr, nrn, val, kind = stim.compile(model, nb, real=fp32)
    per_burst = np.diff(ptr)
    qlen = plan.constants["queue_len"]
    if len(per_burst) and int(per_burst.max()) > qlen:
        raise FeagiEmbedError(f"stimulus has {int(per_burst.max())} entries in one burst; layout "
                              f"the model with queue_len >= that (has {qlen})")
    name, sha = model.provenance.genome_name, model.provenance.genome_sha256
    return dict(ctx, banner_s=banner(name, sha, ctx["board"],
                                     "feagi_test_stimulus.h - test stimulus schedule"),
                banner_m=banner(name, sha, ctx["board"],
                                "main.c - test driver printing the device protocol"),
                bursts=nb, state_every=int(state_every), n_entries=len(nrn),
                st_ptr=format_values(ptr, "uint32_t"),
                st_nrn=format_values(nrn if len(nrn) else np.zeros(1), "uint32_t"),
                st_val=format_values(val if len(val) else np.zeros(1), "float" if fp32 else "int32_t"),
                st_val_type="float" if fp32 else "int32_t",
                st_val_doc="value (f32) for injections" if fp32 else "q(value) for injections",
                st_inject=("feagi_inject_id_f32(id, FEAGI_RD_F32(feagi_st_val, j))" if fp32 else
                           "feagi_inject_id(id, (int32_t)FEAGI_RD_U32(feagi_st_val, j))"),
                st_kind=format_values(kind if len(kind) else np.zeros(1), "uint8_t"))


def emit_c_model(model, plan: Plan, budget: Budget, out_dir: str | os.PathLike, *,
                 stimulus=None, bursts: int | None = None, state_every: int = 0,
                 with_main: bool | None = None, arduino: bool = False,
                 monitor_speed: int = 115200, link: bool = False) -> list[Path]:
    """Write the generated C sources into ``out_dir`` (the caller has checked the fit).

    Args:
        model, plan: the model and its C plan (``plan.heap`` placed).
        budget: the board budget (banner, ``#error`` checks in the header).
        stimulus, bursts: a :class:`~feagi_embed.stimulus.Stimulus` compiled for ``bursts`` bursts
            into ``feagi_test_stimulus.h``; with them a test ``main.c`` is written that prints the
            device protocol (state digest every ``state_every`` bursts and after the last).
        with_main: write ``main.c`` (default: when a stimulus/bursts is given).
        arduino: also write ``feagi_arduino.cpp``: the HAL on the Arduino core and a
            ``setup()``/``loop()`` sketch running one burst per simulation timestep.
        monitor_speed: Serial baud rate of the Arduino sketch.
        link: the Arduino sketch runs the two-way link (``docs/link.md``) on Serial instead of
            the built-in test schedule.

    Returns:
        Paths written.

    Raises:
        FeagiEmbedError: the stimulus needs a longer input queue than the plan has.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ctx = model_context(model, plan, budget)
    files = {"feagi_model.h": render("c/feagi_model.h.j2", **ctx),
             "feagi_model.c": render("c/feagi_model.c.j2", **ctx)}
    if stimulus is not None or bursts is not None:
        sctx = _schedule_context(model, plan, ctx, stimulus, bursts, state_every)
        files["feagi_test_stimulus.h"] = render("c/feagi_test_stimulus.h.j2", **sctx)
        if with_main is None or with_main:
            files["main.c"] = render("c/main.c.j2", **sctx)
        if arduino:
            dt = float(model.simulation_timestep or 0.025)
            files["feagi_arduino.cpp"] = render(
                "c/feagi_arduino.cpp.j2", **sctx, timestep=f"{dt:g}",
                burst_period_us=max(int(round(dt * 1e6)), 1), monitor_speed=int(monitor_speed),
                link=bool(link),
                banner_a=banner(model.provenance.genome_name, model.provenance.genome_sha256,
                                budget.board,
                                "feagi_arduino.cpp - HAL and sketch for the Arduino framework"))
    written = []
    for name, text in files.items():
        p = out / name
        p.write_text(text)
        written.append(p)
    return written
