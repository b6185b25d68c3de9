#!/usr/bin/env bash
# Install DigitDash into .venv (first run only) and start the app on http://localhost:8501.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
  || { echo "DigitDash needs Python 3.10 or newer (found $(python3 --version))." >&2; exit 2; }
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
# DigitDash itself, in place: exported notebooks and scripts then run from any folder (no download:
# setuptools came with the requirements)
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
# The teacher's link, on the port Streamlit will use; starting goes on whatever happens to it
port=8501; prev=""
for arg in "$@"; do
  case "$arg" in --server.port=*) port="${arg#*=}" ;; esac
  [ "$prev" != "--server.port" ] || port="$arg"
  prev="$arg"
done
.venv/bin/python -m digitdash teacher-link --url "http://localhost:$port" || true
exec .venv/bin/python -m streamlit run app.py "$@"
