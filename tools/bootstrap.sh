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
wanted=$(cat requirements.txt requirements-dev.txt requirements-lint.txt service/requirements*.txt policy/requirements.txt "$requirements" | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
  echo "==> installing $requirements into venv (first run takes a minute)"
  log=$(mktemp)
  # pip warns about every unreachable extra index location on some machines: keep the log quiet
  # unless the install fails.
  if ! venv/bin/python -m pip install --quiet -r "$requirements" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    exit 1
  fi
  grep -v "is ignored: it is neither a file nor a directory" "$log" >&2 || true
  rm -f "$log"
  echo "$wanted" > "$stamp"
fi
