#!/bin/bash
# GPU-machine run of the fused CUDA path (issue 15, "a fused single-kernel path for small
# genomes"): the CUDA tests — grid kernels and fused kernel, fixed point and fp32 — then
# bench/bench_speed.py's step section (bundled genomes: numba vs CUDA grid vs CUDA fused, batched
# and step() per burst, digests compared with numba). Run from a copy of the repository root
# (feagi_embed/, host/, tests/, bench/, templates/, firmware/, boards/; optional wheels in .whl/).
# Writes device.txt, tests_fused.log, speed_fused.{log,json} under $OUT. About 2-3 minutes.
set -o pipefail
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
fi
W=/tmp/w
rm -rf "$W"
mkdir -p "$W"
cp -r feagi_embed tests bench templates firmware boards "$W"/
cp -r host "$W"/feagi_embed/host
export PYTHONPATH=/tmp/site:$W PYTHONUNBUFFERED=1 NUMBA_CACHE_DIR=/tmp/nc
cd "$W" || exit 1
{ date -u; nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv
  nproc; python3 -c "import sys, numpy, numba, cupy; print(sys.version.split()[0], 'numpy', numpy.__version__, 'numba', numba.__version__, 'cupy', cupy.__version__)"
  python3 -c "from feagi_embed.host.gpu import backends; print(backends.available('cuda'))"; } 2>&1 | tee "$OUT/device.txt"
FEAGI_EMBED_REQUIRE_CUDA=1 timeout "${TEST_TIMEOUT:-150}" python3 -m pytest -q -p no:cacheprovider \
  -k "cuda or fused" tests/test_gpu_twin.py tests/test_twin_speed.py tests/test_gpu_fp32.py \
  2>&1 | tee "$OUT/tests_fused.log" | tail -25
date -u
timeout "${BENCH_TIMEOUT:-80}" python3 bench/bench_speed.py --sections step --step-bursts 300 \
  --json-out "$OUT/speed_fused.json" 2>&1 | tee "$OUT/speed_fused.log" | grep -v '^{'
date -u
