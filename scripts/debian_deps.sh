#!/usr/bin/env bash
# Debian packages the embedded problems' data and tests use (as root).
# Usage: debian_deps.sh test|main         install what is missing
#        debian_deps.sh --list test|main  print the packages, install nothing
# The names come from t2tlite/debian_packages.py, the one list (problems
# install their own group from it at datagen); it imports nothing, so any
# python3 answers, the venv's after setup_env.sh.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LIST=0
if [ "${1:-}" = --list ]; then
  LIST=1
  shift
fi
SETUP="${1:-main}"
case "$SETUP" in
  test|main) ;;
  *) echo "usage: $0 [--list] test|main" >&2; exit 2 ;;
esac
PKGS="$(python3 "$ROOT/t2tlite/debian_packages.py" "$SETUP")" || exit 2
if [ "$LIST" = 1 ]; then
  echo "$PKGS"
  exit 0
fi
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
    || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "note: not root or no apt-get; tests needing$missing will fail" >&2
  exit 0
fi
echo "installing Debian packages:$missing" >&2
apt-get update -qq >/dev/null 2>&1 || true
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null \
  || echo "warning: could not install$missing" >&2
