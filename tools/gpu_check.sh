#!/usr/bin/env bash
# The GPU figures of DigitDash in one go, on a bare GPU machine with no network (docs/gpu.md):
#
#     bash tools/gpu_check.sh [DATASET_DIR] [--quick]
#
# DATASET_DIR: MNIST in IDX files (default ../shared/datasets/mnist-partial beside the project).
# It installs the few wheels it needs from tools/gpu_wheels/ (fetched beforehand by
# tools/gpu_wheels.sh) into a folder of its own, sets KERAS_BACKEND=jax, and prints each figure the
# moment it is measured, each step under its own timeout, all of them within GPU_CHECK_SECONDS
# (default 340: under 6 minutes, so that it can run twice in a quarter of an hour):
#   the GPU's name and Keras' backend; mlp-512's and cnn-basic's seconds per epoch on the dataset,
#   the fast path (learning/fast_path.py) beside a bare Keras fit; cnn-basic's with the fast path's
#   loop unrolled (DIGITDASH_FAST_UNROLL=1); class_seconds (30 cnn-basic runs, GPU_CHECK_PACKED
#   workers on the GPU, default 6); time_to_99_s of cnn-fast (bench.time_to_accuracy), last.
# --quick (for a CPU): 2 epochs, 4 class runs on 2 workers, and time to 90% of cnn-basic on mnist-5k,
# longer timeouts, within 25 minutes: proof that every step runs, not figures.
# GPU_CHECK_SECONDS, GPU_CHECK_EPOCHS, GPU_CHECK_RUNS, GPU_CHECK_PACKED and GPU_CHECK_TTA ("PRESET
# DATASET TARGET") change those; PYTHON names the interpreter (default python3).
# --wheels: print the wheels it installs (what tools/gpu_wheels.sh fetches) and exit.
set -u
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
WHEELS="keras==3.15.1 absl-py==2.5.1 rich==15.0.0 markdown-it-py==4.3.0 mdurl==0.1.2 pygments==2.21.0
namex==0.1.0 h5py>=3.14,<3.17 optree==0.20.0 typing-extensions==4.16.0 packaging==26.4 mlxtend==0.25.0"

QUICK=0
DATA=""
INSTALL=0
for arg in "$@"; do
    case "$arg" in
        --quick) QUICK=1 ;;
        --wheels) echo $WHEELS; exit 0 ;;
        --install) INSTALL=1 ;;     # the install step alone (run under its timeout)
        -h|--help) sed -n '2,/^set -u$/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) DATA="$arg" ;;
    esac
done
if [ -z "$DATA" ]; then      # beside the project, else inside it (a copy of the working tree with shared/)
    DATA="$ROOT/../shared/datasets/mnist-partial"
    [ -d "$DATA" ] || [ ! -d "$ROOT/shared/datasets/mnist-partial" ] || DATA="$ROOT/shared/datasets/mnist-partial"
fi
[ -d "$DATA" ] && DATA="$(cd "$DATA" && pwd)" || echo "gpu_check: no dataset folder $DATA (the per-epoch and time_to_99 steps will fail)"
if [ "$QUICK" = 1 ]; then
    : "${GPU_CHECK_SECONDS:=1500}" "${GPU_CHECK_EPOCHS:=2}" "${GPU_CHECK_RUNS:=4}" "${GPU_CHECK_PACKED:=2}"
    : "${GPU_CHECK_TTA:=cnn-basic mnist-5k 0.9}"
    SCALE=4     # each step's timeout: a CPU is slower
fi
TOTAL="${GPU_CHECK_SECONDS:-340}"
EPOCHS="${GPU_CHECK_EPOCHS:-3}"
RUNS="${GPU_CHECK_RUNS:-30}"
PACKED="${GPU_CHECK_PACKED:-6}"
read -r TTA_PRESET TTA_DATASET TTA_TARGET <<< "${GPU_CHECK_TTA:-cnn-fast idx:$DATA 0.99}"
PY="${PYTHON:-python3}"
SITE="${GPU_CHECK_SITE:-${TMPDIR:-/tmp}/digitdash-gpu-site}"
export KERAS_BACKEND=jax PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false TF_CPP_MIN_LOG_LEVEL=2
export PYTHONPATH="$ROOT:$SITE${PYTHONPATH:+:$PYTHONPATH}"
export GPU_CHECK_DATA="idx:$DATA" EPOCHS RUNS PACKED TTA_PRESET TTA_DATASET TTA_TARGET
START=$(date +%s)
DEADLINE=$((START + TOTAL))
cd "$ROOT" || exit 1

step() {   # NAME MOST_SECONDS COMMAND...: run it under a timeout that also keeps to the whole deadline
    local name="$1" most=$(($2 * ${SCALE:-1})) left limit rc t0
    shift 2
    left=$((DEADLINE - $(date +%s)))
    limit=$((most < left ? most : left))
    if [ "$limit" -lt 10 ]; then
        echo "== $name: skipped (the ${TOTAL} s are spent)"
        return
    fi
    echo "== $name (at most $limit s)"
    t0=$(date +%s)
    STEP_SECONDS="$limit" timeout -k 5 "$limit" "$@"
    rc=$?
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        echo "$name: TIMED OUT after $limit s"
    elif [ "$rc" != 0 ]; then
        echo "$name: FAILED (exit $rc)"
    fi
    echo "   [$name: $(($(date +%s) - t0)) s; $(($(date +%s) - START)) s since the start]"
}

install_wheels() {
    if "$PY" -c 'import keras, h5py, optree, rich, absl, namex, mlxtend' 2>/dev/null; then
        "$PY" -c 'import keras; print("keras", keras.__version__, "already installed:", keras.__file__)'
        return 0
    fi
    if [ ! -d "$HERE/gpu_wheels" ]; then
        echo "no $HERE/gpu_wheels: run 'bash tools/gpu_wheels.sh' where PyPI is reachable, and bring the folder"
        return 1
    fi
    # --no-deps and an explicit list: JAX's NumPy and ml_dtypes stay the machine's own
    "$PY" -m pip install --quiet --disable-pip-version-check --no-index --find-links "$HERE/gpu_wheels" \
        --no-deps --upgrade --target "$SITE" $WHEELS || return 1
    "$PY" -c 'import keras; print("installed keras", keras.__version__, "into", "'"$SITE"'")'
}
if [ "$INSTALL" = 1 ]; then
    install_wheels
    exit
fi

echo "DigitDash gpu_check: $(date -u '+%Y-%m-%d %H:%M UTC'), $(hostname), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "python: $("$PY" -c 'import sys; print(sys.version.split()[0])') ($PY); dataset: idx:$DATA; deadline ${TOTAL} s"
if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
fi

step "install" 60 bash "$HERE/gpu_check.sh" --install || true
if ! "$PY" -c 'import keras' 2>/dev/null; then
    echo "gpu_check: Keras cannot be imported, so nothing can be measured"
    exit 1
fi

step "device" 60 "$PY" -u - <<'PY'
import jax, keras
from digitdash.learning import fast_path
from digitdash.learning.training import setup_device
from digitdash.plan.config import preset
print("backend:", keras.backend.backend(), "| keras", keras.__version__, "| jax", jax.__version__,
      "| JAX devices:", ", ".join(f"{d.platform}:{d.device_kind}" for d in jax.devices()))
print("device as runs record it:", setup_device(preset("cnn-basic")), "| fast path:", fast_path.usable())
PY

for name in mlp-512 cnn-basic; do
    step "$name seconds per epoch" 90 "$PY" -u -m digitdash.learning.fast_path epochs "$GPU_CHECK_DATA" \
        --presets "$name" --epochs "$EPOCHS"
done
if "$PY" -c 'import jax, sys; sys.exit(jax.default_backend() == "cpu")' 2>/dev/null; then
    step "cnn-basic seconds per epoch, loop unrolled" 45 env DIGITDASH_FAST_UNROLL=1 "$PY" -u -m \
        digitdash.learning.fast_path epochs "$GPU_CHECK_DATA" --presets cnn-basic --epochs "$EPOCHS" --ways fast
fi

step "class_seconds" 90 "$PY" -u - <<'PY'
import os
from digitdash import bench
runs, packed = int(os.environ["RUNS"]), int(os.environ["PACKED"])
one = bench.class_seconds(runs, workers=packed, timeout=int(os.environ["STEP_SECONDS"]) - 15)
print("class_seconds: %s s for %d cnn-basic runs (2 epochs, mnist-5k) from %d owners at once, %d workers packed on "
      "the one device; statuses %s, mean test accuracy %s"
      % (one["seconds"], runs, runs, one["workers"], one["statuses"], one["mean_test_accuracy"]))
PY

step "time_to_99_s" 150 "$PY" -u - <<'PY'
import json, os
from digitdash import bench
from digitdash.digits import datasets
name, target = os.environ["TTA_PRESET"], float(os.environ["TTA_TARGET"])
figures = bench.time_to_accuracy(datasets.load(os.environ["TTA_DATASET"]), name, target, seeds=(0,))
print("time_to_99_s: %s s of %s's training to test accuracy %s (cold, compiling: %s s)"
      % (figures["time_to_99_s"], name, target, figures["time_to_99_cold_s"]))
print(json.dumps(figures["time_to_99"]))
PY
echo "gpu_check done in $(($(date +%s) - START)) s"
