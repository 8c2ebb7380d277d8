#!/usr/bin/env bash
# Install the Debian packages the test servers need (OpenSSH, PostgreSQL, nginx), once.
# Runs `apt-get update` only when something is missing; never enables or starts a service:
# the test session starts each server itself on a free 127.0.0.1 port and stops it by PID.
set -euo pipefail

# One line per package: the command it provides, then the package name.
NEEDED=(
  "/usr/sbin/nginx nginx-light"
  "/usr/lib/postgresql/15/bin/initdb postgresql"
)

missing=()
for entry in "${NEEDED[@]}"; do
  read -r command package <<<"${entry}"
  if ! command -v "${command}" >/dev/null 2>&1 && [[ ! -x "${command}" ]]; then
    missing+=("${package}")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "debian packages: all present"
  exit 0
fi

if [[ "$(id -u)" -ne 0 ]]; then
  echo "install-debian.sh: missing ${missing[*]}; run as root or install them" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# policy-rc.d 101 keeps the packages' postinst from starting (or enabling) any service.
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
chmod +x /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "debian packages installed: ${missing[*]}"
