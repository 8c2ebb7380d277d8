#!/usr/bin/env bash
# Bulk copy with the remote-store command line: upload a folder tree in parallel, look at it,
# fetch part of it by glob, download it all back, check nothing changed, clean up.
#
#   bash examples/bulk_copy_cli.sh [STORE]
#
# STORE (default "demo") is a store of the configuration the command finds:
# $REMOTE_STORE_CONFIG, here defaulting to examples/remote-store.toml (local disk). Point it
# at a configuration whose store is on Azure and the same commands copy to and from Azure.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export REMOTE_STORE_CONFIG="${REMOTE_STORE_CONFIG:-${HERE}/remote-store.toml}"
STORE="${1:-demo}"
WORK="$(mktemp -d)"
trap 'rm -rf "${WORK}"' EXIT

# Something to move: 3 days of 20 hourly CSV exports.
for day in 01 02 03; do
  mkdir -p "${WORK}/exports/2026-03-${day}"
  for hour in $(seq -w 0 19); do
    printf 'hour,value\n%s,%s\n' "${hour}" "${RANDOM}" >"${WORK}/exports/2026-03-${day}/${hour}.csv"
  done
done

remote-store rm -r -f -q "${STORE}:bulk"                              # an earlier run's copy
remote-store cp -r -j 8 "${WORK}/exports" "${STORE}:bulk/exports"      # upload, 8 in parallel
remote-store ls "${STORE}:bulk/exports"
remote-store du -s "${STORE}:bulk"
remote-store cp "${STORE}:bulk/exports/**/00.csv" "${WORK}/midnight/"  # by glob, keeping sub-paths
ls -R "${WORK}/midnight"
remote-store cp -r -j 8 "${STORE}:bulk/exports" "${WORK}/downloaded"   # download it all
diff -r "${WORK}/exports" "${WORK}/downloaded" && echo "round trip: identical"
remote-store sync --dry-run "${WORK}/exports" "${STORE}:bulk/exports"  # nothing left to copy
remote-store rm -r "${STORE}:bulk"
