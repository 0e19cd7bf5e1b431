"""Seeded random micro-genomes and stimuli for differential testing against the FEAGI engine.

:func:`random_case` turns a seed into one case: a small flat FEAGI 2.0 genome (the power area
plus 2-4 custom areas of at most 3x3x2 voxels, 1-3 neurons per voxel, 1-3 outgoing mappings each)
and a schedule of force-fires and sensory injections over at most 60 bursts. Every case draws
each neuron parameter from the regimes below, and one *focus* regime (``REGIMES``, cycled by
seed) is forced on at least one area so that 200 consecutive seeds cover every regime many times:

- leak (fractions, 1.0, and legacy absolute leaks > 1 such as 2.5 or 10);
- refractory period; consecutive fire limit with snooze;
- threshold gradients along x, y, z and threshold limits;
- membrane-charge accumulation on and off; mp-driven PSP; PSP degeneration;
- excitability < 1 (firing then depends on the engine's run-specific neuron ids, see
  :data:`STATISTICAL_REGIMES`);
- several neurons per voxel; inhibitory PSC multipliers; large PSPs and multipliers (> 255,
  clamped by the engine); non-uniform PSP (fan-out division).

Every morphology kind FEAGI builds synapses for is drawn (:data:`MORPHOLOGIES`): ``vectors``
(lateral and multi-offset), ``patterns`` (integer, ``*``, ``?``, ``!``), the ``projector``
function, ``block_to_block`` in both its core vector form and the function form, and morphologies
the engine makes no synapses for (``randomizer``, ``composite``).

Stimulus values: ``sensory`` entries carry f32 values, some negative; per case the values are
either on a coarse binary grid (multiples of 1/8: lossless in fixed point) or arbitrary decimals
(0.01 steps: lossy in fixed point), recorded in ``case["grid"]``.

Standard library and numpy only (``numpy.random.default_rng(seed)``): the same seed always gives
the same case.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

#: focus regimes, cycled by seed (``REGIMES[seed % len(REGIMES)]``)
REGIMES = ("leak", "legacy_leak", "refractory", "consecutive_snooze", "threshold_gradient",
           "threshold_limit", "mp_acc_off", "mp_driven_psp", "degeneration", "excitability",
           "neurons_per_voxel", "inhibitory", "large_psp", "nonuniform_psp")
#: regimes whose firing depends on FEAGI's run-specific neuron ids (the excitability draw is
#: keyed by the id): compared statistically, not burst for burst
STATISTICAL_REGIMES = frozenset({"excitability"})

MORPHOLOGIES: dict[str, dict[str, Any]] = {
    "projector": {"type": "functions", "parameters": {}, "class": "core"},
    "block_to_block": {"type": "vectors", "parameters": {"vectors": [[0, 0, 0]]}, "class": "core"},
    "b2b_function": {"type": "functions", "parameters": {}, "class": "custom"},
    "lateral_+x": {"type": "vectors", "parameters": {"vectors": [[1, 0, 0]]}, "class": "core"},
    "lateral_-y": {"type": "vectors", "parameters": {"vectors": [[0, -1, 0]]}, "class": "core"},
    "multi_vec": {"type": "vectors", "parameters": {"vectors": [[0, 0, 0], [1, 1, 0], [-1, 0, 1]]},
                  "class": "custom"},
    "all_to_all": {"type": "patterns", "parameters": {"patterns": [[["*", "*", "*"], ["*", "*", "*"]]]},
                   "class": "custom"},
    "same_x_any": {"type": "patterns", "parameters": {"patterns": [[["?", "*", "*"], ["?", 0, "*"]]]},
                   "class": "custom"},
    "not_same": {"type": "patterns", "parameters": {"patterns": [[["*", "*", "*"], ["!", "?", "*"]]]},
                 "class": "custom"},
    "corner": {"type": "patterns", "parameters": {"patterns": [[[0, 0, 0], [1, "*", 0]],
                                                               [[1, "*", "*"], [0, 0, "?"]]]},
               "class": "custom"},
    "all_to_0-0-0": {"type": "patterns", "parameters": {"patterns": [[["*", "*", "*"], [0, 0, 0]]]},
                     "class": "core"},
    "0-0-0_to_all": {"type": "patterns", "parameters": {"patterns": [[[0, 0, 0], ["*", "*", "*"]]]},
                     "class": "core"},
    "randomizer": {"type": "functions", "parameters": {}, "class": "custom"},
    "tile": {"type": "composite", "parameters": {"src_seed": [1, 1, 1], "src_pattern": [[1, 0]],
                                                 "mapper_morphology": "projector"},
             "class": "custom"},
}
#: the function-form block_to_block is spelled "block_to_block" in genomes that define it; the
#: core vector form is inserted by the engine, so a case uses one or the other (see _morphologies)
_WEIGHTS = {"projector": 4, "block_to_block": 3, "b2b_function": 2, "lateral_+x": 2,
            "lateral_-y": 1, "multi_vec": 2, "all_to_all": 2, "same_x_any": 1, "not_same": 1,
            "corner": 1, "all_to_0-0-0": 1, "0-0-0_to_all": 1, "randomizer": 1, "tile": 1}

#: the 13 core morphologies as the engine inserts them (``templates.rs::add_core_morphologies``)
CORE_MORPHOLOGIES: dict[str, dict[str, Any]] = {
    "block_to_block": {"type": "vectors", "parameters": {"vectors": [[0, 0, 0]]}, "class": "core"},
    "projector": {"type": "functions", "parameters": {}, "class": "core"},
    "episodic_memory": {"type": "functions", "parameters": {}, "class": "core"},
    "memory_replay": {"type": "functions", "parameters": {}, "class": "core"},
    "associative_memory": {"type": "functions", "parameters": {}, "class": "core"},
    "all_to_0-0-0": MORPHOLOGIES["all_to_0-0-0"], "0-0-0_to_all": MORPHOLOGIES["0-0-0_to_all"],
    **{f"lateral_{s}{a}": {"type": "vectors", "class": "core", "parameters": {"vectors": [
        [(1 if s == "+" else -1) * (a == ax) for ax in "xyz"]]}} for a in "xyz" for s in "+-"},
}

CX = ("_n_cnt-i", "dstmap-d", "pspuni-b", "_group-t", "de_gen-f")
AREA_IDS = ("c__raa", "c__rbb", "c__rcc", "c__rdd")
THRESHOLDS = (0.1, 0.3, 0.5, 1.0, 1.0, 1.5, 2.0, 3.0, 5.0)


def _pick(rng, seq):
    return seq[int(rng.integers(len(seq)))]


def _area_params(rng, focus: str | None, lossless: bool = False) -> dict[str, Any]:
    """Neuron parameters of one area (flat gene code -> value): random, with ``focus`` forced.
    ``lossless``: only values the fixed-point model holds exactly (leaks 0, 1, 2, 3; uniform PSP)."""
    p = _area_params_any(rng, focus)
    if lossless:
        p["leak_c-f"] = float(_pick(rng, (2.0, 3.0) if focus == "legacy_leak" else
                                    (0.0, 0.0, 1.0) if focus != "leak" else (1.0, 2.0)))
        if focus != "nonuniform_psp":
            p["pspuni-b"] = True
    return p


def _area_params_any(rng, focus: str | None) -> dict[str, Any]:
    p: dict[str, Any] = {
        "fire_t-f": float(_pick(rng, THRESHOLDS)),
        "refrac-i": int(_pick(rng, (0, 0, 0, 1, 2))),
        "leak_c-f": float(_pick(rng, (0.0, 0.0, 0.0, 0.1, 0.5))),
        "c_fr_c-i": int(_pick(rng, (0, 0, 0, 2, 3))),
        "snooze-f": 0,
        "excite-f": 1.0,
        "pstcr_-f": float(_pick(rng, (1.0, 1.0, 1.0, 2.0, 0.5, 3.0))),
        "pspuni-b": bool(rng.random() < 0.8),
        "mp_acc-b": bool(rng.random() < 0.7),
        "mp_psp-b": False,
        "de_gen-f": 0.0,
        "_n_cnt-i": 1,
    }
    if focus == "leak":
        p["leak_c-f"] = float(_pick(rng, (0.1, 0.25, 0.5, 0.75, 1.0)))
        p["mp_acc-b"] = True
    elif focus == "legacy_leak":  # pre-2.0 genomes wrote leak as an absolute amount
        p["leak_c-f"] = float(_pick(rng, (1.5, 2.5, 10.0)))
        p["mp_acc-b"] = True
    elif focus == "refractory":
        p["refrac-i"] = int(_pick(rng, (1, 2, 3)))
    elif focus == "consecutive_snooze":
        p["c_fr_c-i"] = int(_pick(rng, (1, 2, 3)))
        p["snooze-f"] = int(_pick(rng, (0, 1, 2)))
    elif focus == "threshold_gradient":
        p["ftincx-f"] = float(_pick(rng, (0.5, 1.0, -0.25)))
        p["ftincy-f"] = float(_pick(rng, (0.0, 0.5)))
        p["ftincz-f"] = float(_pick(rng, (0.0, 0.25, 1.0)))
    elif focus == "threshold_limit":
        p["fthlim-f"] = float(p["fire_t-f"] * _pick(rng, (1.0, 1.5, 2.0, 3.0)))
    elif focus == "mp_acc_off":
        p["mp_acc-b"] = False
    elif focus == "mp_driven_psp":
        p["mp_psp-b"] = True
    elif focus == "degeneration":
        p["de_gen-f"] = float(_pick(rng, (0.25, 0.5, 1.0)))
        p["pstcr_-f"] = float(_pick(rng, (2.0, 3.0, 5.0)))
    elif focus == "excitability":
        p["excite-f"] = float(_pick(rng, (0.3, 0.5, 0.8)))
    elif focus == "neurons_per_voxel":
        p["_n_cnt-i"] = int(_pick(rng, (2, 3)))
    elif focus == "large_psp":
        p["pstcr_-f"] = float(_pick(rng, (100.0, 255.0, 300.0)))
    elif focus == "nonuniform_psp":
        p["pspuni-b"] = False
    return p


def _dims(rng) -> list[int]:
    return [int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 3))]


def _blueprint(gid: str, name: str, dims, params: dict, dst: dict) -> dict[str, Any]:
    bp = {f"_____10c-{gid}-cx-__name-t": name, f"_____10c-{gid}-cx-___bbx-i": dims[0],
          f"_____10c-{gid}-cx-___bby-i": dims[1], f"_____10c-{gid}-cx-___bbz-i": dims[2],
          f"_____10c-{gid}-cx-_group-t": "CUSTOM" if gid != "___pwr" else "CORE"}
    for code, v in params.items():
        bp[f"_____10c-{gid}-{'cx' if code in CX else 'nx'}-{code}"] = v
    bp[f"_____10c-{gid}-cx-dstmap-d"] = dst
    return bp


def _value(rng, grid: str) -> float:
    """A non-zero sensory value: multiples of 1/8 in [-4, 8] ("binary") or of 0.01 ("decimal")."""
    while True:
        if grid == "binary":
            v = int(rng.integers(-32, 65)) / 8.0
        else:
            v = round(float(rng.uniform(-3.0, 6.0)), 2)
        if v != 0:
            return float(np.float32(v))


#: seeds from here on draw the *lossless* variant: binary-grid values and parameters the
#: fixed-point model holds exactly (so fixed point is compared with the engine too), and no
#: excitability < 1 focus
LOSSLESS_SEEDS = 1000


def random_case(seed: int) -> dict[str, Any]:
    """One random differential case (the lossless variant for ``seed >= LOSSLESS_SEEDS``).

    Returns:
        ``{"name", "seed", "focus", "grid": "binary"|"decimal", "bursts", "genome": flat 2.0 genome,
        "stimuli": [stimulus entries, kind "force" or "inject"; "area" = genome id]}``.
    """
    rng = np.random.default_rng([2026, int(seed)])
    lossless = seed >= LOSSLESS_SEEDS
    regimes = [r for r in REGIMES if not (lossless and r in STATISTICAL_REGIMES)]
    focus = regimes[seed % len(regimes)]
    n_areas = int(rng.integers(2, 5))
    ids = list(AREA_IDS[:n_areas])
    dims = {g: _dims(rng) for g in ids}
    focus_areas = set(rng.choice(ids, size=int(rng.integers(1, n_areas + 1)), replace=False).tolist())
    use_b2b_function = rng.random() < 0.3
    names = [m for m in _WEIGHTS if m != ("block_to_block" if use_b2b_function else "b2b_function")]
    w = np.array([_WEIGHTS[m] for m in names], float)
    bp: dict[str, Any] = {}
    used: set[str] = set()
    for i, g in enumerate(ids):
        params = _area_params(rng, focus if g in focus_areas else None, lossless)
        dst: dict[str, list] = {}
        for _ in range(int(rng.integers(1, 4))):
            target = ids[int(rng.integers(len(ids)))] if rng.random() < 0.85 else g
            if target == g and i == 0 and rng.random() < 0.5:
                target = ids[1]
            m = names[int(rng.choice(len(names), p=w / w.sum()))]
            psc = int(_pick(rng, (1, 1, 1, 2, 3)))
            if focus == "inhibitory" and (g in focus_areas) and rng.random() < 0.7:
                psc = -int(_pick(rng, (1, 2, 5)))
            elif rng.random() < 0.1:
                psc = -1
            if focus == "large_psp" and rng.random() < 0.4:
                psc = int(_pick(rng, (50, 255, 300)))
            mid = "block_to_block" if m == "b2b_function" else m
            used.add(m)
            dst.setdefault(target, []).append([mid, [1, 1, 1], psc, False, 1, 1, 1])
        bp.update(_blueprint(g, f"R{g[-2:]}", dims[g], params, dst))
    # power: threshold 1, fires every burst; sometimes drives an area (a constant input)
    pdst = {}
    if rng.random() < 0.35:
        pdst[ids[int(rng.integers(len(ids)))]] = [["projector", [1, 1, 1], 1, False, 1, 1, 1]]
    bp.update(_blueprint("___pwr", "Brain_Power", [1, 1, 1],
                         {"fire_t-f": 1.0, "pstcr_-f": float(_pick(rng, (0.5, 1.0))),
                          "pspuni-b": True, "mp_acc-b": True}, pdst))
    morph = {}
    if use_b2b_function:
        # the engine re-inserts all 13 core morphologies (overwriting block_to_block with its
        # vector form) unless every one is present, so the function form needs the full set
        morph.update(copy.deepcopy(CORE_MORPHOLOGIES))
    for m in used:
        key = "block_to_block" if m == "b2b_function" else m
        morph[key] = copy.deepcopy(MORPHOLOGIES[m])
    genome = {"version": "2.0", "genome_title": f"random differential case {seed}",
              "genome_description": f"feagi-embed random micro-genome (seed {seed}, focus {focus})",
              "blueprint": dict(sorted(bp.items())), "neuron_morphologies": dict(sorted(morph.items())),
              "physiology": {"simulation_timestep": 0.1}}
    bursts = int(rng.integers(30, 61))
    grid = "binary" if rng.random() < 0.5 or lossless else "decimal"
    stimuli = _stimuli(rng, ids, dims, bursts, grid)
    return {"name": f"rand_{seed:04d}", "seed": int(seed), "focus": focus, "grid": grid,
            "bursts": bursts, "genome": genome, "stimuli": stimuli}


def _stimuli(rng, ids, dims, bursts: int, grid: str) -> list[dict[str, Any]]:
    """Force-fires and injections at random bursts 1..bursts-5; the same voxel gets at most one
    entry per burst (FEAGI keeps one value per voxel and frame)."""
    out = []
    inputs = ids[: max(1, len(ids) - 1)]
    for b in range(1, bursts - 4):
        if rng.random() > 0.55:
            continue
        taken: set[tuple] = set()
        for _ in range(int(rng.integers(1, 4))):
            g = inputs[int(rng.integers(len(inputs)))]
            w, h, d = dims[g]
            vox = [int(rng.integers(w)), int(rng.integers(h)), int(rng.integers(d))]
            if (g, *vox) in taken:
                continue
            taken.add((g, *vox))
            if b == 1 or rng.random() < 0.3:  # sensory data cannot reach burst 1 (module doc)
                out.append({"bursts": [b, b], "area": g, "voxels": [vox], "kind": "force"})
            else:
                out.append({"bursts": [b, b], "area": g, "voxels": [vox], "kind": "inject",
                            "value": _value(rng, grid)})
    return out
