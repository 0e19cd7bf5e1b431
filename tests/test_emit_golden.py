"""Every generated file (C and MicroPython, bundled genomes × boards) is byte-identical to the
recorded golden hashes (``tests/emit_golden.py``): refactors of the compiler must not change what
it emits. After an intended change of the output, re-record with
``python -m tests.emit_golden --record`` and say why in the commit."""

import json

import pytest

from tests import emit_golden as eg

WANT = json.loads(eg.HASHES.read_text())
GENOMES = sorted({k.split("/")[0] for k in WANT})


@pytest.mark.parametrize("genome", GENOMES)
def test_generated_files_identical(genome):
    from feagi_embed.errors import FeagiEmbedError

    try:
        model = eg.model_for(genome)
    except FeagiEmbedError as e:
        assert WANT[genome] == {"rejected": eg.rejection_sha(genome, e)}
        return
    keys = [c for c in eg.cases() if c[0] == genome]
    assert keys
    for g, b, lang, stim in keys:
        k = eg.key(g, b, lang, stim)
        assert eg.emit_case(model, b, lang, stim) == WANT[k], k
