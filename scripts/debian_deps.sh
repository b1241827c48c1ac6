#!/usr/bin/env bash
# Debian packages the embedded problems' data and tests use (as root).
# Usage: debian_deps.sh test|main
set -uo pipefail
PKGS_TEST="espeak-ng flite link-grammar link-grammar-dictionaries-en python3-link-grammar librsvg2-bin dataset-fashion-mnist tuxpaint-stamps-default"
PKGS_MAIN="$PKGS_TEST pocketsphinx-testdata"
case "${1:-main}" in
  test) PKGS="$PKGS_TEST" ;;
  *) PKGS="$PKGS_MAIN" ;;
esac
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
