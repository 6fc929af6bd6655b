#!/usr/bin/env bash
# Build .venv-bqemu: the BigQuery emulator's own venv (bqemulator needs a pyarrow above
# Apache Beam's cap, so it cannot share .venv). Pins: tests/bqemu/requirements.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-python3}
rm -rf .venv-bqemu
if command -v uv >/dev/null 2>&1; then
    uv venv --quiet --python "$PYTHON" .venv-bqemu
    uv pip install --quiet --python .venv-bqemu/bin/python -r tests/bqemu/requirements.txt
else
    "$PYTHON" -m venv .venv-bqemu
    .venv-bqemu/bin/pip install --quiet -r tests/bqemu/requirements.txt
fi
