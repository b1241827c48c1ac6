#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what it needs first.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck disable=SC1091
source "$ROOT/scripts/setup_env.sh"
bash "$ROOT/scripts/debian_deps.sh" test
cd "$ROOT"
# One worker per core, at most 4 (each holds its own TensorFlow); a test
# file's tests stay in one worker, so its module fixtures are built once.
WORKERS="${T2TLITE_TEST_WORKERS:-$(python -c 'import os; print(min(4, max(1, len(os.sched_getaffinity(0)))))')}"
python -m pytest -q -p no:cacheprovider -n "$WORKERS" --dist loadfile \
  tests "$@"
