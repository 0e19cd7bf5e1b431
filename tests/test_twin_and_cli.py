"""Twin behaviour on hand-computed micro-genomes, the stimulus format, models on disk, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from feagi_embed.cli import main
from feagi_embed.connectome import develop
from feagi_embed.genome import load_genome
from feagi_embed.host.twin import Twin, burst_digest
from feagi_embed.quantize import Model, QuantizationError, quantize
from feagi_embed.stimulus import Stimulus, StimulusError

from .genome_builder import area_genes, genome


def chain_model(leak: float = 0.5):
    """src (1 neuron) → dst (1 neuron, threshold 2, leak 0.5) with weight 1, PSP 1.5."""
    g = genome(area_genes("c__src", "src", **{"pstcr_-f": 1.5, "pspuni-b": True,
                                              "dstmap-d": {"c__dst": [["projector", [1, 1, 1], 1, False]]}}),
               area_genes("c__dst", "dst", **{"fire_t-f": 2.0, "leak_c-f": leak, "mp_acc-b": True}))
    return quantize(develop(load_genome(g)))


def test_hand_computed_chain_with_leak():
    # force src at 2 and 3: dst gets 1.5 at 3 (no fire, leaks to 0.75), 1.5 at 4 → 2.25 ≥ 2 fires
    m = chain_model()
    stim = Stimulus.from_json({"stimuli": [{"bursts": [2, 3], "area": "c__src",
                                            "voxels": [[0, 0, 0]], "kind": "force"}]})
    dst = int(m.area_first[m.area_index("c__dst")])
    tr = Twin(m).run(5, stim, watch=[dst])
    fired_dst = [b + 1 for b, ids in enumerate(tr.fired) if dst in ids.tolist()]
    assert fired_dst == [4]
    scale = 2.0 ** m.frac_bits
    assert [w[0][0] / scale for w in tr.watch] == [0.0, 0.0, 0.75, 0.0, 0.0]
    i = tr.fired[3].tolist().index(dst)
    assert tr.fired_v[3][i] / scale == 2.25


def test_inject_stimulus_and_dropped_zero():
    m = chain_model()
    dst = int(m.area_first[m.area_index("c__dst")])
    stim = Stimulus.from_json({"stimuli": [
        {"bursts": [1, 1], "area": "dst", "voxels": [[0, 0, 0]], "kind": "inject", "value": 3},
        {"bursts": [2, 2], "area": "c__dst", "voxels": [[0, 0, 0]], "kind": "inject", "value": 0}]})
    tr = Twin(m).run(2, stim)
    assert dst in tr.fired[0].tolist() and dst not in tr.fired[1].tolist()


def test_fixed_and_float_modes_agree_on_lossless_model():
    m = chain_model(leak=0.0)
    stim = Stimulus.from_json({"stimuli": [{"bursts": [1, 30], "area": "c__src",
                                            "voxels": [[0, 0, 0]], "kind": "force"}]})
    assert m.report["lossless"]
    a = Twin(m, "fixed").run(30, stim)
    b = Twin(m, "float").run(30, stim)
    assert a.burst_crc == b.burst_crc


def test_batching_and_state_digests_do_not_change_the_trace():
    m = chain_model()
    stim = Stimulus.from_json({"stimuli": [{"bursts": [1, 40], "area": "c__src",
                                            "voxels": [[0, 0, 0]], "kind": "force"}]})
    one = Twin(m).run(40, stim, state_every=7, batch=1)
    big = Twin(m).run(40, stim, state_every=7, batch=256)
    split = Twin(m)
    part = split.run(13, stim, state_every=7)
    rest = split.run(27, stim, state_every=7)
    assert one.burst_crc == big.burst_crc == part.burst_crc + rest.burst_crc
    assert one.state_crc == big.state_crc
    assert one.burst_crc[0] == burst_digest(1, one.fired[0])


def test_model_save_load_roundtrip(tmp_path):
    m = chain_model()
    m.save(tmp_path / "m.npz")
    m2 = Model.load(tmp_path / "m.npz")
    assert m2.frac_bits == m.frac_bits and m2.areas.ids == m.areas.ids
    for k in Model.ARRAYS:
        assert np.array_equal(getattr(m, k), getattr(m2, k)), k
    assert Twin(m2).run(5).burst_crc == Twin(m).run(5).burst_crc


def test_frac_bits_override_is_checked():
    c = develop(load_genome(genome(area_genes("c__aaa", "a", **{"fire_t-f": 1e6}))))
    assert quantize(c).frac_bits == 10          # 1e6 · 2^10 < 2^30 ≤ 1e6 · 2^11
    assert quantize(c, frac_bits=4).frac_bits == 4
    with pytest.raises(QuantizationError):
        quantize(c, frac_bits=12)
    with pytest.raises(QuantizationError):
        quantize(c, frac_bits=17)


@pytest.mark.parametrize("doc,where", [
    ({"stimuli": [{"bursts": [0, 1], "area": "c__src", "voxels": [[0, 0, 0]]}]}, "bursts"),
    ({"stimuli": [{"bursts": [1, 1], "area": "c__src", "voxels": [[0, 0]]}]}, "voxels"),
    ({"stimuli": [{"bursts": [1, 1], "area": "c__src", "voxels": [[0, 0, 0]], "kind": "zap"}]}, "kind"),
    ({"stimuli": [{"bursts": [1, 1], "area": "c__src", "voxels": [[0, 0, 0]], "kind": "inject"}]}, "value"),
    ({"stim": []}, "<root>"),
])
def test_stimulus_schema_errors(doc, where):
    with pytest.raises(StimulusError) as e:
        Stimulus.from_json(doc, "s.json")
    assert "s.json" in str(e.value) and where in str(e.value)


@pytest.mark.parametrize("entry,where", [
    ({"bursts": [1, 1], "area": "c__nope", "voxels": [[0, 0, 0]]}, "area"),
    ({"bursts": [1, 1], "area": "c__src", "voxels": [[1, 0, 0]]}, "voxels[0]"),
    ({"bursts": [1, 1], "area": "c__src", "voxels": [[0, 0, 0]], "kind": "inject", "value": 1e6},
     "value"),
])
def test_stimulus_errors_against_the_model(entry, where):
    m = chain_model()
    st = Stimulus.from_json({"stimuli": [entry]}, "s.json")
    with pytest.raises(StimulusError) as e:
        st.compile(m, 3)
    assert where in str(e.value)


def test_cli_run_json_and_raster(tmp_path):
    stim = tmp_path / "s.json"
    stim.write_text(json.dumps({"stimuli": [{"bursts": [2, 2], "area": "iic700",
                                             "voxels": [[0, 0, 0]], "kind": "force"}]}))
    png = tmp_path / "r.png"
    r = CliRunner().invoke(main, ["run", "essential_genome", "-n", "6", "--stimulus", str(stim),
                                  "--json", "--raster", str(png)])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert [b["burst"] for b in d["bursts"]] == list(range(1, 7))
    # oracle sample (feagi-oracle.md §5): TM at 2, forward at 3, M1–M4_FW at 4, motor x=0,2,4,6 at 5
    assert d["bursts"][1]["fired"]["iic700"] == [[0, 0, 0, 0]]
    assert d["bursts"][2]["fired"]["c__for"] == [[0, 0, 0, 0]]
    assert sorted(d["bursts"][4]["fired"]["omot00"]) == [[0, 0, 0, 0], [2, 0, 0, 0], [4, 0, 0, 0],
                                                         [6, 0, 0, 0]]
    assert len(d["final_digest"]) == 8 and png.stat().st_size > 1000
    r = CliRunner().invoke(main, ["run", "essential_genome", "-n", "3"])
    assert r.exit_code == 0 and "final digest" in r.output


def test_cli_quantize_report(tmp_path):
    r = CliRunner().invoke(main, ["quantize", "webots_basic", "--json"])
    assert r.exit_code == 0
    rep = json.loads(r.output)
    assert rep["lossless"] is True and rep["frac_bits"] == 16
    out = tmp_path / "m.npz"
    r = CliRunner().invoke(main, ["quantize", "essential_genome", "--out", str(out)])
    assert r.exit_code == 0 and "lossless" in r.output and out.exists()


def test_cli_inspect_json_shape():
    r = CliRunner().invoke(main, ["inspect", "essential_genome", "--json"])
    d = json.loads(r.output)
    assert d["totals"] == {"areas": 30, "neurons": 55363, "synapses": 1552}
    a = next(a for a in d["areas"] if a["id"] == "c__for")
    assert {"id", "name", "dims", "neurons_per_voxel", "neurons", "synapses_out",
            "synapses_in"} <= set(a)
    assert a["synapses_in"] == 768 and a["synapses_out"] == 4
