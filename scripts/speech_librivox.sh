#!/usr/bin/env bash
# WER of a trained speech run on real read speech: the five LibriVox clips
# of Debian's pocketsphinx-testdata (installed here if missing, as root).
# Usage: scripts/speech_librivox.sh OUTPUT_DIR [--problem NAME]
#        [--decode_hparams beam_size=4] [--checkpoint PATH]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ $# -lt 1 ]; then
  echo "usage: $0 OUTPUT_DIR [--problem NAME] [--decode_hparams ...]" >&2
  exit 2
fi
if [ ! -d /usr/share/pocketsphinx/test/data/librivox ]; then
  # The package name from the one list (t2tlite/debian_packages.py).
  PKGS="$(python3 "$ROOT/t2tlite/debian_packages.py" librivox)"
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $PKGS >/dev/null
  else
    echo "error: install Debian's $PKGS first" >&2
    exit 2
  fi
fi
if [ -z "${VIRTUAL_ENV:-}" ] && [ -x "$ROOT/.venv/bin/python" ]; then
  # shellcheck disable=SC1091
  source "$ROOT/.venv/bin/activate"
fi
exec python "$ROOT/scripts/speech_librivox.py" "$@"
