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


def genome_names() -> list[str]:
    """Stems of every bundled real genome."""
    return sorted(p.stem for p in GENOMES.glob("*.json"))


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

    g = load_genome(GENOMES / f"{name}.json")
    return g, develop(g)
