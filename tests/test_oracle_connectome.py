"""Our connectome equals the FEAGI release engine's, genome by genome.

Independent expectation: the fixtures under tests/fixtures/connectome were recorded from the real
engine (feagi-core 2.6.10, `feagi 0.0.67`) with tests/fixtures/oracle/record_connectomes.py; they hold
per-area neuron counts and parameters and the full synapse multiset by coordinates.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from feagi_embed.errors import GenomeError
from feagi_embed.genome import load_genome

from .conftest import connectome_fixture, developed, genome_names, genome_path

ACCEPTED = [n for n in genome_names(True) if connectome_fixture(n)["accepted"]]
REJECTED = [n for n in genome_names(True) if not connectome_fixture(n)["accepted"]]


def synapse_multiset(c) -> Counter:
    """Synapses of a Connectome keyed like the fixture rows (without the count column)."""
    ids = [a.cortical_id.b64 for a in c.areas]
    sa = c.neuron_area[c.synapse_src]
    da = c.neuron_area[c.synapse_dst]
    rows = zip(sa.tolist(), c.neuron_x[c.synapse_src].tolist(), c.neuron_y[c.synapse_src].tolist(),
               c.neuron_z[c.synapse_src].tolist(), c.neuron_k[c.synapse_src].tolist(),
               da.tolist(), c.neuron_x[c.synapse_dst].tolist(), c.neuron_y[c.synapse_dst].tolist(),
               c.neuron_z[c.synapse_dst].tolist(), c.neuron_k[c.synapse_dst].tolist(),
               c.synapse_weight.tolist(), c.synapse_psp.tolist(),
               c.synapse_inhibitory.astype(int).tolist())
    return Counter((ids[r[0]], *r[1:5], ids[r[5]], *r[6:10], float(r[10]), float(r[11]), r[12])
                   for r in rows)


@pytest.mark.parametrize("name", ACCEPTED)
def test_areas_and_neuron_counts_equal_engine(name):
    fx = connectome_fixture(name)
    _, c = developed(name)
    ours = {a.cortical_id.b64: (list(a.dims), a.neurons_per_voxel, int(n))
            for a, n in zip(c.areas, c.neuron_counts())}
    theirs = {cid: (a["dims"], a["neurons_per_voxel"], a["neuron_count"])
              for cid, a in fx["areas"].items()}
    assert ours == theirs
    assert c.n_neurons == fx["totals"]["neurons"]


@pytest.mark.parametrize("name", ACCEPTED)
def test_synapse_multiset_equals_engine(name):
    fx = connectome_fixture(name)
    _, c = developed(name)
    theirs = Counter({(r[0], *r[1:5], r[5], *r[6:10], float(r[10]), float(r[11]), int(r[12])): r[13]
                      for r in fx["synapses"]})
    ours = synapse_multiset(c)
    missing = theirs - ours
    extra = ours - theirs
    assert not missing and not extra, (
        f"{sum(missing.values())} engine synapses missing (e.g. {list(missing)[:3]}), "
        f"{sum(extra.values())} extra (e.g. {list(extra)[:3]})")
    assert c.n_synapses == fx["totals"]["synapses"]


PARAM_MAP = {
    "neuron_fire_threshold": "firing_threshold",
    "neuron_firing_threshold_limit": "threshold_limit",
    "neuron_leak_coefficient": "leak_coefficient",
    "neuron_refractory_period": "refractory_period",
    "neuron_snooze_period": "snooze_period",
    "neuron_mp_charge_accumulation": "mp_charge_accumulation",
    "neuron_mp_driven_psp": "mp_driven_psp",
    "neuron_psp_uniform_distribution": "psp_uniform_distribution",
    "neuron_post_synaptic_potential": "postsynaptic_current",
}


@pytest.mark.parametrize("name", ACCEPTED)
def test_area_parameters_equal_engine(name):
    fx = connectome_fixture(name)
    g, _ = developed(name)
    for a in g.areas:
        p = fx["areas"][a.cortical_id.b64]["params"]
        for key, attr in PARAM_MAP.items():
            if key in p:
                assert np.float32(getattr(a, attr)) == np.float32(p[key]), (a.genome_id, key)
        if "neuron_fire_threshold_increment" in p:
            assert list(map(np.float32, a.threshold_increment)) == \
                list(map(np.float32, p["neuron_fire_threshold_increment"])), a.genome_id
        if not a.is_core and "neuron_excitability" in p:
            assert np.float32(a.excitability) == np.float32(p["neuron_excitability"]), a.genome_id


@pytest.mark.parametrize("name", REJECTED)
def test_rejected_genomes_are_rejected_with_clear_message(name):
    with pytest.raises(GenomeError) as e:
        load_genome(genome_path(name))
    msg = str(e.value)
    assert f"{name}.json" in msg and "expected" in msg


def test_v3_genome_matches_its_2x_original():
    """essential_genome converted to FEAGI 3.0 (base64 IDs, object rules): the engine builds the
    same connectome (fixture), and so do we."""
    _, c2 = developed("essential_genome")
    _, c3 = developed("essential_genome_v3")
    assert c3.genome.version == "3.0"
    assert synapse_multiset(c2) == synapse_multiset(c3)
    assert [a.cortical_id for a in c2.areas] == [a.cortical_id for a in c3.areas]
