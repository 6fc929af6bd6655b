#!/usr/bin/env bash
# Build the test suite's auxiliary venvs, each apart from .venv because its pins clash with the
# project's: .venv-bqemu (the BigQuery emulator) and .venv-checkov (checkov, for infra/).
set -euo pipefail
cd "$(dirname "$0")"
bash bqemu/setup.sh
bash checkov/setup.sh
