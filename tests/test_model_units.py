"""Unit checks of the fixed-point primitives against independent expectations."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from feagi_embed.host.twin import burst_digest, excitability_passes, pcg_hash, state_digest
from feagi_embed.quantize import (EXC_ALWAYS, EXC_NEVER, EXC_THRESHOLD, excitability_threshold,
                                  leak_factor, limit_fixed, q, round_half_away, threshold_fixed)


@pytest.mark.parametrize("seed,expected", [(0, 129708002), (1, 2831084092), (42, 1223963391),
                                           (0xFFFFFFFF, 3861530882)])
def test_pcg_hash_test_vectors(seed, expected):
    # vectors from the reference notes §3.6 (Rust and Python agree bit for bit)
    assert int(pcg_hash(np.uint64(seed))) == expected


@pytest.mark.parametrize("nid,burst,r_hex", [(0, 1, 0x3F007631), (1, 1, 0x3F6E0841),
                                             (42, 100, 0x3F3D93DA), (123456, 5_000_000_000, 0x3DF79541)])
def test_excitability_integer_form_matches_f32_draw(nid, burst, r_hex):
    # FEAGI fires iff f32(h)/2^32 < e; r(id, burst) vectors from the reference notes §3.6
    r = np.frombuffer(np.uint32(r_hex).tobytes(), np.float32)[0]
    for e in (np.nextafter(r, np.float32(1)), r, np.nextafter(r, np.float32(0))):
        mode, t = excitability_threshold(float(e))
        assert mode == EXC_THRESHOLD
        assert bool(excitability_passes(nid, burst, mode, t)) == bool(r < e)


def test_excitability_modes():
    assert excitability_threshold(1.0)[0] == EXC_ALWAYS
    assert excitability_threshold(100.0)[0] == EXC_ALWAYS   # percent genomes: always
    assert excitability_threshold(0.999)[0] == EXC_ALWAYS
    assert excitability_threshold(0.0)[0] == EXC_NEVER
    assert excitability_threshold(float("nan"))[0] == EXC_NEVER
    mode, t = excitability_threshold(0.5)
    # f32(2^31 − 64) rounds (ties to even) up to 2^31, so h = 2^31 − 64 already fails the test
    assert mode == EXC_THRESHOLD and t == 2**31 - 64


def test_round_half_away_and_q():
    assert round_half_away(np.array([0.5, -0.5, 1.5, -2.5, 2.4999])).tolist() == [1, -1, 2, -3, 2]
    assert int(q(1.25, 4)) == 20
    assert int(q(0.1, 16)) == round(float(np.float32(0.1)) * 65536)


def test_threshold_and_limit_rounding_keep_comparisons_exact():
    f = 16
    thr = threshold_fixed(np.float32(0.1), f)
    v_below, v_at = int(thr) - 1, int(thr)
    assert v_below / 2**f < np.float32(0.1) <= v_at / 2**f
    lim = limit_fixed(0.1, f)
    assert lim / 2**f <= np.float32(0.1) < (lim + 1) / 2**f


def test_leak_factor():
    assert leak_factor(0.0) == 65536
    assert leak_factor(0.3) == round(float(np.float32(1) - np.float32(0.3)) * 65536)
    assert leak_factor(10.0) == -9 * 65536   # legacy absolute leak values flip the sign


def test_digest_formats():
    ids = np.array([3, 7], np.uint32)
    words = np.array([5, 2, 3, 7], "<u4").tobytes()
    assert burst_digest(5, ids) == zlib.crc32(words)
    V = np.array([-1, 2], np.int32)
    cd = np.array([1, 0], np.uint16)
    cc = np.array([0, 3], np.uint16)
    raw = V.astype("<i4").tobytes() + cd.astype("<u2").tobytes() + cc.astype("<u2").tobytes()
    assert state_digest(V, cd, cc) == zlib.crc32(raw)
