#!/bin/bash
# The GPU-machine run of docs/benchmarks.md ("GPU twin"): GPU trace tests (CUDA + WGPU on the
# NVIDIA Vulkan driver), then bench/bench_gpu.py. Run from a folder holding this repository's
# feagi_embed/ (with host/ copied to feagi_embed/host), tests/ and bench/ as .gpuwork/, the wheels
# wgpu, rendercanvas, cffi, pycparser, pyelftools in .whl/ and the Vulkan loader's .deb in .gl/.
# Writes logs and the JSON under $OUT. TESTS (default tests/test_gpu_twin.py) names the test files;
# SKIP_TESTS=1 / SKIP_BENCH=1 leave a part out; extra arguments go to pytest.
set -o pipefail
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD/.gpuwork PYTHONUNBUFFERED=1 XDG_RUNTIME_DIR=/tmp/xdg
mkdir -p -m 700 /tmp/xdg
for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
  if [ -f "$f" ]; then export VK_DRIVER_FILES=$f VK_ICD_FILENAMES=$f; break; fi
done
export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
cd .gpuwork
{ date -u; nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,clocks.max.mem --format=csv;
  nproc; python3 -c "import sys, numpy, numba, cupy, wgpu; print(sys.version.split()[0], 'numpy', numpy.__version__, 'numba', numba.__version__, 'cupy', cupy.__version__, 'wgpu', wgpu.__version__)";
  python3 -c "from feagi_embed.host.gpu import backends; print(backends.available('cuda')); print(backends.available('wgpu'))"; } 2>&1 | tee "$OUT/device.txt"
if [ "${SKIP_TESTS:-0}" != 1 ]; then
  FEAGI_EMBED_REQUIRE_CUDA=1 FEAGI_EMBED_REQUIRE_WGPU=1 timeout "${TEST_TIMEOUT:-300}" \
    python3 -m pytest -q -p no:cacheprovider ${TESTS:-tests/test_gpu_twin.py} "$@" 2>&1 | tee "$OUT/tests.log" | tail -15
fi
if [ "${SKIP_BENCH:-0}" != 1 ]; then
  timeout "${BENCH_TIMEOUT:-280}" python3 bench/bench_gpu.py --synthetic ${BENCH_ARGS:-} \
    --json-out "$OUT/gpu_bench.json" 2>&1 | tee "$OUT/bench.log"
fi
