"""Fixtures of the plan strategies' own unit tests (``*_test.py`` beside each strategy, as
TensorFlow Lite Micro tests each memory planner on its own): tiny hand-made models whose every
buffer size can be computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from feagi_embed.model import EXC_ALWAYS, Model


def toy_model(counts=(1, 300, 4), synapses=((1, 2, 3 << 16), (2, 302, 5 << 16)), *, f=16,
              refractory=(0, 0, 2), cfl=(65535, 3, 65535), mp_driven=(False, False, False),
              degen=(0, 0, 0), thresholds=None, leak_k=(65536, 65536, 65536),
              mp_acc=(True, True, True)) -> Model:
    """A model of ``len(counts)`` areas (``___power`` first, one neuron; dims ``k×1×1``) and the
    given ``(src, dst, contribution)`` synapses."""
    a = len(counts)
    first = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    n = int(first[-1])
    syn = sorted(synapses)
    src = np.array([s for s, _, _ in syn], np.int64)
    ptr = np.concatenate(([0], np.cumsum(np.bincount(src, minlength=n)))).astype(np.int64)
    thr = np.full(n, 1 << f, np.int32) if thresholds is None else np.asarray(thresholds, np.int32)
    ids = ["___pwr"] + [f"c__a{i:02d}" for i in range(1, a)]
    meta = {"genome": "toy.json", "genome_ids": ids, "names": ["power"] + ids[1:],
            "dims": [[int(k), 1, 1] for k in counts], "npv": [1] * a,
            "kinds": ["core"] + ["custom"] * (a - 1), "power_neuron": 0,
            "max_sensory": 255.0, "mp_psp_max": 255, "degen_psp_max": 1}
    return Model.from_metadata(
        meta, frac_bits=f, area_first=first, neuron_area=np.repeat(np.arange(a), counts).astype(np.uint16),
        threshold=thr, area_limit=np.full(a, 2**31 - 1, np.int32),
        area_leak_k=np.array(leak_k, np.int32), area_exc_mode=np.full(a, EXC_ALWAYS, np.uint8),
        area_exc_t=np.zeros(a, np.uint32), area_refractory=np.array(refractory, np.uint16),
        area_snooze=np.zeros(a, np.uint16), area_cfl=np.array(cfl, np.uint16),
        area_mp_acc=np.array(mp_acc, bool), area_mp_driven=np.array(mp_driven, bool),
        syn_ptr=ptr, syn_dst=np.array([d for _, d, _ in syn], np.uint32),
        syn_c=np.array([c for _, _, c in syn], np.int32),
        syn_w=np.ones(len(syn), np.int32), fanout=np.ones(n, np.int32),
        area_psp=np.full(a, 1 << f, np.int32), area_degen=np.array(degen, np.int32))


@pytest.fixture
def toy():
    """The :func:`toy_model` factory."""
    return toy_model
