"""Shared pytest fixtures and helpers."""

from __future__ import annotations

import gzip
import json
import os
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GENOMES = ROOT / "feagi_embed" / "genomes"
FIXTURES = ROOT / "tests" / "fixtures"


TEST_GENOMES = FIXTURES / "genomes"
#: CI sets FEAGI_EMBED_REQUIRE_TOOLS=1: a test whose tool is missing fails instead of skipping
REQUIRE = os.environ.get("FEAGI_EMBED_REQUIRE_TOOLS") == "1"


def require(missing, what: str = "") -> None:
    """Skip (locally) or fail (CI, ``REQUIRE``) when ``missing`` (tool names, or a reason string)
    is non-empty."""
    if not missing:
        return
    msg = f"{what + ': ' if what else ''}missing {missing}"
    if REQUIRE:
        pytest.fail(msg)
    pytest.skip(msg)


def require_board(board) -> None:
    """:func:`require` the cross toolchain and emulator of ``board`` (a name or Board)."""
    from feagi_embed.boards import load_board
    from feagi_embed.targets import missing_build_tools, missing_run_tools

    b = load_board(board) if isinstance(board, str) else board
    require(missing_build_tools(b) + missing_run_tools(b), b.name)


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


def link_up(cl):
    """``cl.hello()``, then the device's receive counters as ``cl.boot_stats`` (for
    :func:`assert_clean_link`); returns hello's Capabilities."""
    caps = cl.hello()
    cl.boot_stats = cl.stats()
    return caps


def assert_clean_link(cl, stats, names=None):
    """No receive error once the link is up, and at most one per unanswered hello before: a
    board still booting (a slow CI machine under QEMU) may catch the tail of a repeated
    GetCapabilities, which its counters rightly record."""
    from feagi_embed.link import protocol as P

    names = P.STAT_NAMES[1:] if names is None else names
    boot = sum(cl.boot_stats[k] for k in names)
    assert boot <= cl.hello_attempts - 1, (cl.boot_stats, cl.hello_attempts)
    assert {k: stats[k] - cl.boot_stats[k] for k in names} == dict.fromkeys(names, 0)
