#!/usr/bin/env bash
# Build the test suite's auxiliary venvs, each apart from .venv because its pins clash with the
# project's: .venv-bqemu (the BigQuery emulator) and .venv-checkov (checkov, for infra/).
set -euo pipefail
cd "$(dirname "$0")"
# headless Chromium for tests/test_report_browser.py (Debian's package; CI runs as root)
[ -x /usr/bin/chromium ] || { apt-get update && apt-get install -y chromium; }
bash bqemu/setup.sh
bash checkov/setup.sh
