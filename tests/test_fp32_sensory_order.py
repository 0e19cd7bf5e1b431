"""``--precision fp32``: sensory values join the FCL sum after the power input and the synaptic
input of the burst, on every fp32 target (docs/model.md §3 step 2 and §7).

Independent expectation: the release engine's sum *(oracle 2026-12-03, agent path)*
``(1 + 6) + 1.89 = 8.89f``, where adding the injection first gives ``(1.89 + 1) + 6 =
8.889999f``. The hand-computed f32 sums below pin the order; every fp32 executor must then give
the f32 twin's burst and state digests (the state digest hashes the f32 bits of V, so a
one-ulp difference in the never-firing target's V is caught at once).
"""

from __future__ import annotations

import numpy as np
import pytest

from feagi_embed.connectome import develop
from feagi_embed.executors import GpuTwin, reference_for
from feagi_embed.genome import load_genome
from feagi_embed.host.twin import Twin
from feagi_embed.quantize import quantize
from feagi_embed.stimulus import Stimulus
from feagi_embed.verify import verify

from .conftest import require
from .genome_builder import area_genes, genome
from .test_executor_matrix import FP32_EXECUTORS as MATRIX_FP32

BURSTS = 8
F32 = np.float32
ENGINE = (F32(1) + F32(6)) + F32(1.89)  # 8.89f: synaptic input first, then the sensory value
INJECT_FIRST = (F32(1.89) + F32(1)) + F32(6)  # 8.889999f: the order the engine does not use


def order_model():
    """Sources a (PSP 1) and b (PSP 6), one neuron each, both block_to_block into t (threshold
    1000: never fires; charge accumulation, no leak, so V sums every burst's input)."""
    rule = [["block_to_block", [1, 1, 1], 1, False]]
    g = genome(area_genes("c__aaa", "a", **{"pstcr_-f": 1.0, "dstmap-d": {"c__ttt": rule}}),
               area_genes("c__bbb", "b", **{"pstcr_-f": 6.0, "dstmap-d": {"c__ttt": rule}}),
               area_genes("c__ttt", "t", **{"fire_t-f": 1000.0, "mp_acc-b": True,
                                           "leak_c-f": 0.0}))
    return quantize(develop(load_genome(g)))


def order_stimulus():
    """a and b force-fired every burst (their synapses deliver 1 + 6 to t from burst 2 on) and
    1.89 injected into t every burst from 2 on — plus, from burst 5, 0.01 + 0.035 + 0.055 into
    t too (several sensory values of one neuron and burst, in schedule order)."""
    vox = [[0, 0, 0]]
    st = [{"bursts": [1, BURSTS], "area": a, "voxels": vox} for a in ("c__aaa", "c__bbb")]
    st.append({"bursts": [2, BURSTS], "area": "c__ttt", "voxels": vox, "kind": "inject",
               "value": 1.89})
    st += [{"bursts": [5, BURSTS], "area": "c__ttt", "voxels": vox, "kind": "inject",
            "value": v} for v in (0.01, 0.035, 0.055)]
    return Stimulus.from_json({"stimuli": st}, "<sensory order>")


def test_hand_computed_sums_differ_by_order():
    """The case can fail: the two orders give different f32 numbers."""
    assert ENGINE == F32(8.89) and INJECT_FIRST != ENGINE


@pytest.mark.parametrize("threads", [1, 2])
def test_f32_twin_adds_sensory_values_last(threads):
    """The f32 twin (serial and parallel kernel): t's V after burst 2 is the engine's 8.89f."""
    m = order_model()
    t = int(m.area_first[m.area_index("c__ttt")])
    tw = Twin(m, "float", threads=threads)
    tw.run(2, order_stimulus())
    assert tw.V[t].view(np.uint32) == ENGINE.view(np.uint32), float(tw.V[t])
    assert Twin(m, "float", threads=threads).run(BURSTS, order_stimulus()).state_crc == \
        Twin(m, "float", threads=1).run(BURSTS, order_stimulus()).state_crc


#: every fp32 executor (the executor matrix's fp32 targets and the GPU twins; the f32 twin's
#: serial kernel is the reference of verify)
FP32_EXECUTORS = {k: v for k, v in MATRIX_FP32.items() if k != "native-asan-fp32"} | {
    "wgpu-fp32": lambda: GpuTwin("wgpu", "fp32"),
    "cuda-fp32": lambda: GpuTwin("cuda", "fp32"),
}


@pytest.mark.parametrize("executor", list(FP32_EXECUTORS))
def test_fp32_executor_adds_sensory_values_last(executor):
    ex = FP32_EXECUTORS[executor]()
    why = ex.available()
    if why:
        if executor == "cuda-fp32":
            pytest.skip(why)  # no GPU in CI (as NO_GPU_IN_CI in test_executor_matrix)
        require(why, ex.name)
    ref_row, row = verify(order_model(), [ex], order_stimulus(), BURSTS, state_every=1,
                          reference=reference_for("fp32"))
    assert ref_row["name"] == "twin (numba, f32 reference)"
    assert row["bursts"] == BURSTS, row
    assert row["equal"] is True, row
