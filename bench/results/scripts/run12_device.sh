set -o pipefail
. .whl/prep.sh
cd /tmp/w
L=$OUT/all.log
{ date -u; lscpu | grep -E "Model name|^CPU\(s\)|Thread|Core|Socket|L3|NUMA"; python3 -c "import sys, numpy, numba; print(sys.version.split()[0], numpy.__version__, numba.__version__, numba.threading_layer() if False else '')"; } 2>&1 | tee $L
timeout 320 python3 $REPO/.whl/ab3.py v3,v4a,v4d 16,1 0.1,0.01 7 $REPO $OUT/ab_v4.json 2>&1 | grep -v compiling | tee -a $L
timeout 170 python3 bench/bench_speed.py --sections numba --threads 1 2 4 8 16 --json-out $OUT/numba.json 2>&1 | grep -v '^{' | tee -a $L
FEAGI_EMBED_REQUIRE_CUDA=1 timeout 150 python3 -m pytest -q -p no:cacheprovider tests/test_twin_speed.py tests/test_gpu_twin.py -k "parallel or wide or threads or interleaved or step" 2>&1 | tee $OUT/tests.log | tail -4 | tee -a $L
date -u | tee -a $L
