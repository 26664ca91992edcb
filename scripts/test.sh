#!/usr/bin/env bash
# Sets the project up (scripts/setup.sh), then runs the test suite; extra arguments go
# to pytest. Exits with pytest's status, except that "no tests collected" is a failure.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh

# -P: keep the repo root off sys.path, so the tests import the installed bpfcov_build
# (which carries the compiled plugins/) rather than the source tree.
status=0
.venv/bin/python -P -m pytest -q -p no:cacheprovider "$@" || status=$?

if [[ $status -eq 5 ]]; then
  echo "bpfcov: pytest collected no tests (exit 5); treating that as a failure" >&2
  exit 1
fi
exit "$status"
