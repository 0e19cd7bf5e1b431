"""Shared pytest fixtures and helpers."""

from __future__ import annotations

import gzip
import json
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GENOMES = ROOT / "feagi_embed" / "genomes"
FIXTURES = ROOT / "tests" / "fixtures"


TEST_GENOMES = FIXTURES / "genomes"


def genome_names(with_test_genomes: bool = False) -> list[str]:
    """Stems of every bundled real genome (plus tests/fixtures/genomes, e.g. a 3.0 conversion)."""
    names = [p.stem for p in GENOMES.glob("*.json")]
    if with_test_genomes:
        names += [p.stem for p in TEST_GENOMES.glob("*.json")]
    return sorted(names)


def genome_path(name: str) -> Path:
    """File of a bundled or test genome by stem."""
    p = GENOMES / f"{name}.json"
    return p if p.exists() else TEST_GENOMES / f"{name}.json"


@lru_cache(maxsize=None)
def connectome_fixture(name: str) -> dict:
    """The oracle-recorded connectome fixture of a bundled genome (see tests/fixtures/oracle)."""
    path = FIXTURES / "connectome" / f"{name}.json.gz"
    if not path.exists():
        pytest.fail(f"missing oracle fixture {path}; regenerate with "
                    "tests/fixtures/oracle/record_connectomes.py")
    with gzip.open(path, "rt") as f:
        return json.load(f)


@lru_cache(maxsize=None)
def developed(name: str):
    """(Genome, Connectome) of a bundled genome, cached across tests."""
    from feagi_embed.connectome import develop
    from feagi_embed.genome import load_genome

    g = load_genome(genome_path(name))
    return g, develop(g)
