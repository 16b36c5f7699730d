#!/usr/bin/env bash
# The whole test suite on a fresh machine: sets up the venv, then runs pytest.
# Extra arguments go to pytest (e.g. tools/test.sh tests/unit -k naming).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/bootstrap.sh requirements-dev.txt
# Every core (pytest-xdist), one test file per worker at a time so module fixtures are built once;
# `-n 0` after it runs serially. Offline plans are shared between workers (tests/conftest.py).
exec venv/bin/python -m pytest --numprocesses auto --dist loadfile "$@"
