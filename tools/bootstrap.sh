#!/usr/bin/env bash
# Create ./venv with Python 3.11 and install what the given requirements file needs.
# Re-installs only when the requirements files change (a stamp holds their hash).
# Usage: tools/bootstrap.sh [requirements file]   (default requirements-dev.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
requirements="${1:-requirements-dev.txt}"
python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null || python=python3

if [ ! -x venv/bin/python ]; then
  echo "==> creating venv with $("$python" --version)"
  "$python" -m venv venv
fi
stamp="venv/.installed-$(basename "$requirements")"
wanted=$(cat requirements.txt requirements-dev.txt service/requirements*.txt policy/requirements.txt "$requirements" | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
  echo "==> installing $requirements into venv (first run takes a minute)"
  venv/bin/python -m pip install --quiet --upgrade pip >/dev/null
  venv/bin/python -m pip install --quiet -r "$requirements"
  echo "$wanted" > "$stamp"
fi
