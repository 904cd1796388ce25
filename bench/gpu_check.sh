#!/usr/bin/env bash
# The one call a lent GPU machine gets (issue 14): build, the CUDA tests, compute-sanitizer on a subset,
# the GPU bench. Everything it prints and the files under $OUT come back; each step goes on if the one
# before failed, so one call gives every figure it can. Run from the repository root:
#   run(command="bash bench/gpu_check.sh", timeout_s=540)
set -uo pipefail
OUT=${OUT:-/tmp/gpu_check}
mkdir -p "$OUT"
step() { echo; echo "==== $* ($(date +%T))"; }

step "machine"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 | tee "$OUT/gpu.txt"
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.is_available())"

step "build (pip install --no-build-isolation -e .)"
export CMAKE_CUDA_ARCHITECTURES=90 CMAKE_BUILD_PARALLEL_LEVEL=16
time pip install --no-build-isolation -e . > "$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log"; }
python3 -c "import deepcore; print('cuda available:', deepcore.cuda.is_available(), deepcore.cuda.device_count())"

step "CUDA tests"
timeout 240 python3 -m pytest -q -p no:cacheprovider -x tests/test_cuda.py tests/test_cuda_*.py \
    2>&1 | tail -25 | tee "$OUT/cuda_tests.txt"

step "compute-sanitizer memcheck (a subset: the CUDA twins' comparisons)"
if command -v compute-sanitizer > /dev/null; then
    timeout 150 compute-sanitizer --tool memcheck --error-exitcode 9 python3 -m pytest -q -p no:cacheprovider \
        tests/test_cuda.py -k "elementwise or reduce or matmul or softmax" 2>&1 | tail -15 | tee "$OUT/memcheck.txt"
    echo "memcheck exit: ${PIPESTATUS[0]}"
else
    echo "compute-sanitizer not found"
fi

step "GPU bench"
timeout 150 python3 bench/gpu.py --quick 2>&1 | tee "$OUT/bench_gpu.txt"
