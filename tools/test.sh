#!/usr/bin/env bash
# The whole test suite on a fresh machine: sets up the venv, then runs pytest.
# Extra arguments go to pytest (e.g. tools/test.sh tests/unit -k naming).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/bootstrap.sh requirements-dev.txt
exec venv/bin/python -m pytest "$@"
