#!/usr/bin/env bash
# The offline plan of a stack (default dev) on a fresh machine: sets up the venv, then runs
# `python -m tools.offline_plan`. Extra arguments are passed on (e.g. --out).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/bootstrap.sh requirements.txt
stack="${1:-dev}"
shift || true
exec venv/bin/python -m tools.offline_plan --stack "$stack" "$@"
