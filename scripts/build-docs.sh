#!/usr/bin/env bash
# Build the documentation site into ./site with `mkdocs build --strict`: a broken link, a
# missing page or an API reference that does not resolve fails the build.
# Needs the `docs` extra (part of `dev`): .venv/bin/python -m pip install -e ".[dev]"
set -euo pipefail
cd "$(dirname "$0")/.."

export NO_MKDOCS_2_WARNING=1  # Material's end-of-life notice is not a build problem
.venv/bin/mkdocs build --strict --site-dir site "$@"
