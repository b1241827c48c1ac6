#!/usr/bin/env bash
# Creates .venv (if needed) with t2tlite and its test tools installed.
# Sourced by scripts/main_job.sh and scripts/test.sh; safe to rerun.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
if ! "$PY" -c 'import venv, ensurepip' 2>/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing python3-venv ..." >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq python3-venv python3-pip >/dev/null
  else
    echo "error: Python's venv module is missing: run" \
         "'sudo apt-get install python3-venv'" >&2
    exit 2
  fi
fi
if [ ! -x "$ROOT/.venv/bin/python" ]; then
  "$PY" -m venv "$ROOT/.venv"
fi
# shellcheck disable=SC1091
source "$ROOT/.venv/bin/activate"
STAMP="$ROOT/.venv/.t2tlite-installed"
# constraints.txt pins every dependency to the version the README's figures
# were measured with (bash scripts/refresh_constraints.sh rewrites it).
CONSTRAINTS="$ROOT/constraints.txt"
if [ ! -f "$STAMP" ] || [ "$ROOT/setup.py" -nt "$STAMP" ] \
    || [ "$CONSTRAINTS" -nt "$STAMP" ]; then
  python -m pip install -q --upgrade pip setuptools wheel
  if ! python -m pip install -q -c "$CONSTRAINTS" -e "$ROOT[test]"; then
    echo "error: installing the pinned versions of constraints.txt failed" \
         "(they were resolved on the Python its header names; on another" \
         "Python 'bash scripts/refresh_constraints.sh' pins what installs" \
         "there)" >&2
    exit 1
  fi
  touch "$STAMP"
fi
