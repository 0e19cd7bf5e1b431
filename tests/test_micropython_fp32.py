"""The MicroPython engine's fp32 arithmetic (``--precision fp32``) on a double-precision
interpreter (CPython here, as the unix and WebAssembly ports): every helper result must equal
numpy's f32 arithmetic bit for bit (the twin's operations), including the cases where keeping the
double sum would decide a threshold differently. Whole-run equality with the f32 twin on the
ports is in ``tests/test_executor_matrix.py`` (``micropython-*-fp32``)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from feagi_embed.build import build_micropython

from .test_executor_matrix import _case

DRIVER = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import feagi_engine as E
cases = json.load(sys.stdin)
out = {"fp32": E.FP32, "pot": E.POT_T,
       "sum": [E.sat32(a + b) for a, b in cases["pairs"]],
       "rc": [E.runtime_contribution(w, p, n) for w, p, n in cases["rc"]]}
V = E.zeros("f", 1)
leaks = []
for v, k in cases["leak"]:
    V[0] = E.leak(v, k)
    leaks.append(V[0])
out["leak"] = leaks
print(json.dumps(out))
"""


def test_engine_fp32_helpers_equal_numpy_f32(tmp_path):
    model, stim = _case("degeneration")
    build_micropython(model, None, tmp_path / "pkg", stimulus=stim, bursts=5, precision="fp32")
    rng = np.random.default_rng(3)
    a = rng.uniform(-2, 2, 3000).astype(np.float32)
    b = (a * rng.uniform(-1e-6, 1e-6, 3000)).astype(np.float32)  # sums that round
    one = np.float32(0.1)
    ulp = np.spacing(one)
    a = np.append(a, one)
    b = np.append(b, np.float32(ulp * 0.75))  # 0.1f + 0.75 ulp rounds up to the next f32
    w = rng.integers(-300, 300, 2000)
    p = rng.uniform(-1, 300, 2000).astype(np.float32)
    n = rng.integers(1, 40, 2000)
    v = rng.uniform(-50, 50, 2000).astype(np.float32)
    k = rng.uniform(-1, 1, 2000).astype(np.float32)
    cases = {"pairs": [[float(x), float(y)] for x, y in zip(a, b)],
             "rc": [[int(x), float(y), int(z)] for x, y, z in zip(w, p, n)],
             "leak": [[float(x), float(y)] for x, y in zip(v, k)]}
    r = subprocess.run([sys.executable, "-c", DRIVER, str(tmp_path / "pkg")], input=json.dumps(cases),
                       capture_output=True, text=True, check=True)
    got = json.loads(r.stdout)
    assert got["fp32"] is True and got["pot"] == "f"
    # compared as doubles: an unrounded double result would differ from the f32 value
    assert np.array_equal(np.float64(got["sum"]), np.float64(a + b))  # f32 + f32 in f32
    assert got["sum"][-1] == float(np.nextafter(one, np.float32(1)))  # not 0.1f + 0.75 ulp
    base = np.float32(w) * np.maximum(p, np.float32(0))
    want = np.where(n > 1, base / np.float32(n), base).astype(np.float32)
    assert np.array_equal(np.float64(got["rc"]), np.float64(want))
    assert np.array_equal(np.float64(got["leak"]), np.float64(v * k))
