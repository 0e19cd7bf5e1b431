"""Mutation fuzzing (issue 12): mutated bundled genomes and stimuli never end in a traceback, a
kill, more than 2 GB (RLIMIT_AS) or more than 10 s; every rejection is one FeagiEmbedError line
naming the file (the CLI: exit 2, one line).

Seeded (hypothesis, ``derandomize``) and bounded for CI; ``FEAGI_EMBED_FUZZ_GENOMES`` /
``FEAGI_EMBED_FUZZ_STIMULI`` change the case counts; ``bench/bench_fuzz.py`` is the long run.
Each case runs in a forked child (tests/fuzz_inputs.py).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from . import fuzz_inputs as fz

N_GENOMES = int(os.environ.get("FEAGI_EMBED_FUZZ_GENOMES", "1000"))
N_STIMULI = int(os.environ.get("FEAGI_EMBED_FUZZ_STIMULI", "700"))
N_CLI = max(1, N_STIMULI // 8)
SETTINGS = dict(derandomize=True, database=None, deadline=None, print_blob=True,
                suppress_health_check=list(HealthCheck))


def op_lists(ops):
    # mostly one mutation class (reaches the later stages), sometimes two or three
    return st.one_of(st.tuples(st.sampled_from(ops)),
                     st.lists(st.sampled_from(ops), min_size=2, max_size=3, unique=True))


@st.composite
def genome_cases(draw):
    """(bundled genome, mutation classes, seed)."""
    name = draw(st.sampled_from(fz.CI_GENOMES))
    ops = draw(op_lists(fz.GENOME_OPS))
    return name, tuple(ops), draw(st.integers(0, 2**32 - 1))


@st.composite
def stimulus_cases(draw):
    """(genome the stimulus is written for, mutation classes, seed)."""
    name = draw(st.sampled_from(["essential_genome", "test_timer", "webots_pioneer2"]))
    ops = draw(op_lists(fz.STIMULUS_OPS))
    return name, tuple(ops), draw(st.integers(0, 2**32 - 1))


@pytest.fixture(scope="module", autouse=True)
def _warm():
    fz.warm_up()  # children fork from a parent with everything imported and JIT-compiled


def _check(case, res):
    assert res["outcome"] in ("ok", "error"), f"{case}: {res['outcome']}\n{res['detail']}"
    assert res["seconds"] < fz.TIMEOUT_S


@settings(max_examples=N_GENOMES, **SETTINGS)
@given(genome_cases())
def test_mutated_genomes_load_develop_quantize_run_and_build_or_fail_in_one_line(case):
    _check(case, fz.run_isolated(fz.genome_pipeline(fz.mutate_genome(*case))))


@settings(max_examples=N_STIMULI, **SETTINGS)
@given(stimulus_cases(), st.booleans())
def test_mutated_stimuli_run_and_build_or_fail_in_one_line(case, header_from_stimulus):
    model = fz.stimulus_model(case[0])
    raw = fz.mutate_stimulus(model, case[1], case[2])
    _check(case, fz.run_isolated(fz.stimulus_pipeline(model, raw,
                                                       build_bursts=not header_from_stimulus)))


@settings(max_examples=N_CLI, **SETTINGS)
@given(stimulus_cases())
def test_mutated_stimuli_through_the_cli_exit_0_or_2(case):
    model = fz.stimulus_model(case[0])
    raw = fz.mutate_stimulus(model, case[1], case[2])
    _check(case, fz.run_isolated(fz.stimulus_cli(str(fz.GENOMES / f"{case[0]}.json"), raw)))


def test_the_harness_reports_what_it_must_catch():
    """The child runner itself: a traceback, MemoryError over the cap, a hang and a kill are
    reported as failures (else the fuzz tests above could not fail)."""
    def boom():
        raise KeyError("x")

    def hog():
        return "ok", str(len(bytearray(3 * 1024**3)))

    def hang():
        while True:
            pass

    def die():
        os.kill(os.getpid(), 9)
    assert fz.run_isolated(boom)["outcome"] == "traceback"
    assert fz.run_isolated(hog)["outcome"] == "memory"
    assert fz.run_isolated(hang, timeout=0.5)["outcome"] == "timeout"
    assert fz.run_isolated(die)["outcome"] == "killed"
