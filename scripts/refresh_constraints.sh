#!/usr/bin/env bash
# Rewrites constraints.txt, the exact versions scripts/setup_env.sh installs
# (pip install -c constraints.txt): what an unpinned install of setup.py's
# dependencies (install_requires and the test extra) resolves to today, in a
# throwaway venv in a temp dir. Nothing heavy runs: pip install, pip check,
# pip freeze; t2tlite itself is neither built nor installed.
#
#   bash scripts/refresh_constraints.sh [OUT]    # default: constraints.txt
#
# Then rerun the tests (bash scripts/test.sh reinstalls .venv from the new
# pins) and commit constraints.txt. Environment: PYTHON (default python3).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
OUT="${1:-$ROOT/constraints.txt}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
"$PY" -m venv "$TMP/venv"
VPY="$TMP/venv/bin/python"
"$VPY" -m pip install -q --upgrade pip setuptools wheel
mapfile -t REQS < <("$VPY" "$ROOT/scripts/setup_requirements.py" test)
echo "installing, unpinned: ${REQS[*]}" >&2
"$VPY" -m pip install -q "${REQS[@]}"
"$VPY" -m pip check >&2
{
  echo "# Exact versions of every package t2tlite installs (setup.py's"
  echo "# install_requires and the test extra, and what they pull in), for"
  echo "# scripts/setup_env.sh: pip install -c constraints.txt."
  echo "# From pip freeze --exclude-editable on Python" \
    "$("$VPY" -c 'import platform; print(platform.python_version(), platform.system(), platform.machine())'), $(date -u +%F)."
  echo "# Rewrite it with: bash scripts/refresh_constraints.sh"
  "$VPY" -m pip freeze --exclude-editable | grep -v -i -E '^t2tlite([=@ ]|$)'
} > "$TMP/constraints.txt"
mv "$TMP/constraints.txt" "$OUT"
echo "wrote $OUT ($(grep -c '==' "$OUT") pins)" >&2
