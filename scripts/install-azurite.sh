#!/usr/bin/env bash
# Install the Azurite storage emulator (pinned) from the npm registry into ./.tools/azurite.
# Idempotent: does nothing when the pinned version is already there. Needs node >= 18 and npm.
set -euo pipefail

AZURITE_VERSION="${AZURITE_VERSION:-3.37.0}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="${ROOT}/.tools/azurite"
PKG="${PREFIX}/node_modules/azurite/package.json"

if [[ -f "${PKG}" ]] && grep -q "\"version\": \"${AZURITE_VERSION}\"" "${PKG}"; then
  echo "azurite ${AZURITE_VERSION} already installed in ${PREFIX}"
  exit 0
fi

command -v npm >/dev/null 2>&1 || {
  echo "install-azurite.sh: npm is required (apt-get install -y nodejs npm)" >&2
  exit 1
}

mkdir -p "${PREFIX}"
npm install --prefix "${PREFIX}" --no-audit --no-fund --no-save --loglevel=error \
  "azurite@${AZURITE_VERSION}"
echo "azurite ${AZURITE_VERSION} installed in ${PREFIX}"
