#!/usr/bin/env bash
# Build the test suite's auxiliary venvs, each apart from .venv because its pins clash with the
# project's: .venv-bqemu (the BigQuery emulator) and .venv-checkov (checkov, for infra/).
set -euo pipefail
cd "$(dirname "$0")"
# headless Chromium for tests/test_report_browser.py (Debian's package; CI runs as root)
[ -x /usr/bin/chromium ] || { apt-get update && apt-get install -y chromium; }
bash bqemu/setup.sh
bash checkov/setup.sh
# Byte-compile every venv once. uv installs no .pyc files, and where PYTHONDONTWRITEBYTECODE is
# set (as on these machines) none is ever written, so each CLI process the suite starts would
# compile the whole stack again: importing Beam, dbt, scikit-learn and the CLI took 50 CPU s
# without .pyc and 10 with them (compiling all of .venv once: 73 CPU s).
for venv in .venv .venv-bqemu .venv-checkov; do
    "../$venv/bin/python" -m compileall -q -j 0 "../$venv/lib"
done
"../.venv/bin/python" -m compileall -q -j 0 ../pipeline ../distributions
