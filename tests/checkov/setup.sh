#!/usr/bin/env bash
# Build .venv-checkov: checkov's own venv. checkov brings bc-python-hcl2, which installs a module
# named `hcl2` like python-hcl2 (used by the infra tests in .venv): the two break each other in
# one venv. Pins: tests/checkov/requirements.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-python3}
rm -rf .venv-checkov
if command -v uv >/dev/null 2>&1; then
    uv venv --quiet --python "$PYTHON" .venv-checkov
    uv pip install --quiet --python .venv-checkov/bin/python -r tests/checkov/requirements.txt
else
    "$PYTHON" -m venv .venv-checkov
    .venv-checkov/bin/pip install --quiet -r tests/checkov/requirements.txt
fi
