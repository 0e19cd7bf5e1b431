"""Synthetic fixed-point models and stimuli for the GPU twin tests (every rule of docs/model.md §3
exercised at once: refractory + snooze, consecutive fire limits, fractional excitability, leak
factors outside [0, 65536], inhibitory and mp-driven synapses, degeneration, charge accumulation on
and off, force-fire and injections)."""

from __future__ import annotations

import base64

import numpy as np

from feagi_embed.model import EXC_ALWAYS, EXC_NEVER, EXC_THRESHOLD, Model
from feagi_embed.stimulus import Stimulus

CORE = [b"___death", b"___fatig", b"___fear_", b"___hope_", b"___pain_", b"___pleas", b"___power"]


def random_model(n: int = 4000, fanout: int = 24, *, areas: int = 6, seed: int = 0,
                 frac_bits: int = 10, large_brain: bool = False) -> Model:
    """7 core areas (one neuron each, ``___power`` last, with synapses) + ``areas`` custom areas of
    about ``n / areas`` neurons (dims k×1×1), each neuron with 0…2·``fanout`` random targets.

    Per-area parameters are drawn so that every branch of the burst is taken; ``large_brain``
    forces FEAGI's large-brain membrane-reset path on a small model."""
    rng = np.random.default_rng(seed)
    one = 1 << frac_bits
    sizes = np.full(areas, n // areas)
    counts = np.concatenate([np.ones(len(CORE), np.int64), sizes])
    a = len(counts)
    first = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    n_tot = int(first[-1])
    narea = np.repeat(np.arange(a, dtype=np.uint16), counts)
    deg = rng.integers(0, 2 * fanout + 1, size=n_tot)
    deg[:len(CORE) - 1] = 0
    deg[len(CORE) - 1] = 8  # the power neuron drives 8 neurons
    syn_ptr = np.concatenate(([0], np.cumsum(deg))).astype(np.int64)
    s = int(syn_ptr[-1])
    syn_dst = rng.integers(len(CORE), n_tot, size=s).astype(np.uint32)
    syn_c = rng.integers(-int(1.2 * one), int(1.6 * one), size=s).astype(np.int32)
    syn_w = rng.integers(-3, 4, size=s).astype(np.int32)
    syn_w[syn_w == 0] = 1
    fan = np.where(rng.random(n_tot) < 0.5, np.maximum(deg, 1), 1).astype(np.int32)
    thr = rng.integers(int(0.4 * one), int(2.5 * one), size=n_tot).astype(np.int32)
    thr[:len(CORE)] = one

    def pick(options, p=None):
        return np.array([options[i] for i in rng.choice(len(options), size=a, p=p)])

    lim = np.where(rng.random(a) < 0.7, 2**31 - 1, 4 * one).astype(np.int32)
    leak = pick([65536, 32768, 0, 49152, 70000, -2000]).astype(np.int32)
    exc_mode = pick([EXC_ALWAYS, EXC_THRESHOLD, EXC_NEVER], p=[0.6, 0.35, 0.05]).astype(np.uint8)
    exc_t = rng.integers(1 << 30, 4 << 30, size=a).astype(np.uint32)
    refr = pick([0, 0, 1, 2, 3]).astype(np.uint16)
    snooze = pick([0, 1, 4]).astype(np.uint16)
    cfl = pick([65535, 0, 1, 2, 3]).astype(np.uint16)
    mp_acc = rng.random(a) < 0.5
    driven = rng.random(a) < 0.3
    degen = np.where(rng.random(a) < 0.3, one // 4, 0).astype(np.int32)
    psp = rng.integers(one, 4 * one, size=a).astype(np.int32)
    # core areas: power always fires, others plain
    exc_mode[:len(CORE)] = EXC_ALWAYS
    driven[:len(CORE)] = False
    degen[:len(CORE) - 1] = 0
    ids = CORE + [f"csyn{i:02d}_".encode()[:8].ljust(8, b"_") for i in range(areas)]
    meta = {
        "genome": "<random>", "genome_sha256": None,
        "ids": [base64.b64encode(i).decode() for i in ids],
        "genome_ids": [i.decode() for i in ids], "names": [i.decode() for i in ids],
        "dims": [[1, 1, 1]] * len(CORE) + [[int(k), 1, 1] for k in sizes],
        "npv": [1] * a, "kinds": ["core"] * len(CORE) + ["custom"] * areas,
        "power_neuron": len(CORE) - 1, "large_brain": large_brain,
        "simulation_timestep": 0.025, "max_sensory": 255.0, "mp_psp_max": 255,
        "degen_psp_max": 4,
    }
    return Model.from_metadata(meta, frac_bits=frac_bits, area_first=first, neuron_area=narea,
                 threshold=thr, area_limit=lim, area_leak_k=leak, area_exc_mode=exc_mode,
                 area_exc_t=exc_t, area_refractory=refr, area_snooze=snooze, area_cfl=cfl,
                 area_mp_acc=mp_acc, area_mp_driven=driven, syn_ptr=syn_ptr, syn_dst=syn_dst,
                 syn_c=syn_c, syn_w=syn_w, fanout=fan, area_psp=psp, area_degen=degen,
                 report={"random": {"n": n, "fanout": fanout, "seed": seed}})


def random_stimulus(model: Model, bursts: int, *, per_burst: int = 20, seed: int = 0,
                    kinds=("force", "inject")) -> Stimulus:
    """Every burst, ``per_burst`` entries on random non-core voxels: force-fires and injections of
    values in [-4, 12] (quantized by ``Stimulus.compile``)."""
    rng = np.random.default_rng(seed)
    custom = [i for i, k in enumerate(model.areas.kinds) if k != "core"]
    entries = []
    for b in range(1, bursts + 1):
        for _ in range(per_burst):
            ai = int(rng.choice(custom))
            w, h, d = model.areas.dims[ai]
            vox = [[int(rng.integers(w)), int(rng.integers(h)), int(rng.integers(d))]]
            kind = str(rng.choice(kinds))
            e = {"bursts": [b, b], "area": model.areas.genome_ids[ai], "voxels": vox,
                 "kind": kind}
            if kind == "inject":
                e["value"] = float(np.round(rng.uniform(-4, 12), 3))
            entries.append(e)
    return Stimulus.from_json({"stimuli": entries}, "<random>")


def with_f32(model: Model) -> Model:
    """``model`` plus the ``*_f32`` arrays of precision ``"float"``, derived from its fixed-point
    values (q / 2^F; the leak factor K / 65536; no limit → f32 max), as ``quantize`` records them
    for real genomes. Synthetic models carry fixed-point arrays only."""
    one = np.float32(1 << model.frac_bits)

    def real(a):
        return (np.asarray(a, np.float64) / float(one)).astype(np.float32)

    lim = np.where(np.asarray(model.area_limit) == 2**31 - 1, np.finfo(np.float32).max,
                   real(model.area_limit)).astype(np.float32)
    return model.evolve(threshold_f32=real(model.threshold), area_limit_f32=lim,
                        area_leak_f32=(np.asarray(model.area_leak_k, np.float64) / 65536
                                       ).astype(np.float32),
                        syn_c_f32=real(model.syn_c), area_degen_f32=real(model.area_degen),
                        area_psp_f32=real(model.area_psp))
