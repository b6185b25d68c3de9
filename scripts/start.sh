#!/usr/bin/env bash
# Install DigitDash into .venv (first run only) and start the app on http://localhost:8501.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
  || { echo "DigitDash needs Python 3.10 or newer (found $(python3 --version))." >&2; exit 2; }
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
exec .venv/bin/python -m streamlit run app.py "$@"
