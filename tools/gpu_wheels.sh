#!/usr/bin/env bash
# Fetch the wheels that tools/gpu_check.sh installs on a GPU machine without network, into
# tools/gpu_wheels/ (git-ignored), where PyPI is reachable:
#
#     bash tools/gpu_wheels.sh [PYTHON_VERSION ...]      # default: 3.12 3.13 3.14 and this machine's
#
# The packages are the ones `bash tools/gpu_check.sh --wheels` names: Keras and what it needs beyond
# JAX's own dependencies (the GPU machine has JAX, NumPy and ml_dtypes), and the few the project
# imports on the way. Binary wheels are fetched for each Python version (Linux, ARCH, default
# x86_64); the folder holds about 20 MB and travels with the working tree.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DEST="$HERE/gpu_wheels"
PY="${PYTHON:-python3}"
ARCH="${ARCH:-x86_64}"
read -r -a WANTED <<< "$(bash "$HERE/gpu_check.sh" --wheels)"
VERSIONS=("$@")
if [ ${#VERSIONS[@]} -eq 0 ]; then
    VERSIONS=(3.12 3.13 3.14 "$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')")
fi
mkdir -p "$DEST"
failed=0
for version in $(printf '%s\n' "${VERSIONS[@]}" | sort -u); do
    tag="cp${version/./}"
    echo "== Python $version ($tag, $ARCH): ${WANTED[*]}"
    if ! "$PY" -m pip download --no-deps --only-binary=:all: --dest "$DEST" \
            --python-version "$version" --implementation cp --abi "$tag" --abi abi3 --abi none \
            --platform "manylinux_2_28_$ARCH" --platform "manylinux_2_17_$ARCH" --platform "manylinux2014_$ARCH" \
            --platform any "${WANTED[@]}"; then
        echo "WARNING: not every wheel for Python $version (above): gpu_check.sh cannot install there"
        failed=1
    fi
done
ls -l "$DEST"
du -sh "$DEST"
exit "$failed"
