#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what it needs first.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck disable=SC1091
source "$ROOT/scripts/setup_env.sh"
bash "$ROOT/scripts/debian_deps.sh" test
cd "$ROOT"
python -m pytest -q -p no:cacheprovider tests "$@"
