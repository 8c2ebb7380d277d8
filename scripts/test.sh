#!/usr/bin/env bash
# Install everything the tests need (a virtualenv with the package and its dev/azure extras,
# the Azurite emulator from the npm registry, the test servers' Debian packages), then run
# lint, types and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[dev,azure]"
bash scripts/install-azurite.sh
bash scripts/install-debian.sh

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy (strict)"
.venv/bin/mypy
echo "== docs (mkdocs build --strict)"
bash scripts/build-docs.sh --quiet
echo "== pytest"
.venv/bin/python -m pytest "$@"
