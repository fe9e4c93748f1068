#!/usr/bin/env bash
# One sitting on a CUDA machine, in the order that matters when its time is short:
#   1. the packed-step benchmark alone on the GPU (runs per hour: one eager run vs packs of K,
#      eager and as one CUDA graph),
#   2. the paper's grid in packs of 3 seeds (`reproduce.py run ... --pack 3`), in the
#      background until DEADLINE seconds after the start, while
#   3. the CUDA test set runs (`pytest -m cuda`).
# Everything it makes goes to $OUT (results as one tarball, logs, the bench JSON).
# Usage: OUT=/some/dir DEADLINE=560 bash scripts/gpu_sitting.sh "table1:*_IAR" "table1:*_IR" ...
# Where the image lacks `datasets`, carry its wheels in .whl/ (docs/sweeps.md, "Packed runs").
set -u
START=$(date +%s)
DEADLINE=${DEADLINE:-560}
OUT=${OUT:-gpu-out}
mkdir -p "$OUT"
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site:$PWD/src
else
  export PYTHONPATH=$PWD/src
fi
export HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1
left() { echo $((DEADLINE - ($(date +%s) - START))); }
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv >"$OUT/gpu.txt" 2>&1
python3 -c "import torch, transformers; print(torch.__version__, torch.version.cuda, transformers.__version__)" >>"$OUT/gpu.txt" 2>&1

RESULTS=${RESULTS:-runs/gpu-results}  # under runs/ (ignored): kept on a warm machine between calls
if [ -z "${SKIP_BENCH:-}" ]; then
timeout 100 python3 scripts/bench.py pack-step --device cuda --presets cisformer-ea transformer-ea \
  --packs 3 8 32 --steps 10 --json "$OUT/pack_step_cuda.json" >"$OUT/bench.log" 2>&1
echo "bench done at $(( $(date +%s) - START )) s" >>"$OUT/timeline.txt"
fi

# the grid: each argument is EXPERIMENT:FILTER, run one after the other in one process chain
(
  for item in "$@"; do
    [ "$(left)" -gt 30 ] || break
    timeout "$(left)" python3 scripts/reproduce.py run "${item%%:*}" --filter "${item#*:}" \
      --pack 3 --results_dir "$RESULTS"
    echo "$item ended at $(( $(date +%s) - START )) s" >>"$OUT/timeline.txt"
  done
) >>"$OUT/grid.log" 2>&1 &
GRID=$!

if [ -z "${SKIP_TESTS:-}" ]; then
timeout "$(( $(left) - 20 ))" python3 -m pytest -q -o addopts="" -m cuda -p no:cacheprovider \
  tests/test_cuda.py --junitxml="$OUT/cuda_tests.xml" >"$OUT/cuda_tests.log" 2>&1
echo "tests done at $(( $(date +%s) - START )) s" >>"$OUT/timeline.txt"
fi

wait $GRID
tar czf "$OUT/results.tgz" "$RESULTS" runs/*/*/metrics.jsonl 2>/dev/null
echo "all done at $(( $(date +%s) - START )) s" >>"$OUT/timeline.txt"
