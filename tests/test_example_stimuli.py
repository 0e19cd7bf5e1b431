"""The stimulus files shipped for the README genomes (examples/stimuli/) load against their
genome and make synapses carry spikes: neurons that no entry stimulates fire."""

from __future__ import annotations

import numpy as np
import pytest

from feagi_embed.connectome import develop
from feagi_embed.genome import load_genome
from feagi_embed.host.twin import Twin
from feagi_embed.quantize import quantize
from feagi_embed.stimulus import Stimulus

from .conftest import GENOMES, ROOT

STIMULI = sorted((ROOT / "examples" / "stimuli").glob("*.json"))


@pytest.mark.parametrize("path", STIMULI, ids=lambda p: p.stem)
def test_shipped_stimulus_drives_downstream_areas(path):
    model = quantize(develop(load_genome(GENOMES / f"{path.stem}.json")))
    stim = Stimulus.load(path)
    trace = Twin(model).run(60, stim)
    nrn = stim.compile(model, 60)[1]
    fired = set(np.concatenate(trace.fired).tolist())
    downstream = fired - set(nrn.tolist()) - {model.power_neuron}
    assert downstream, "only stimulated neurons (and the power neuron) fired"


def test_every_readme_genome_has_a_stimulus():
    readme = (ROOT / "README.md").read_text()
    for stem in ("essential_genome", "webots_basic", "test_timer"):
        assert stem in readme and (ROOT / "examples" / "stimuli" / f"{stem}.json").is_file()
