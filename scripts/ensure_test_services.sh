#!/usr/bin/env bash
# Installs what the tests need from Debian's packages when it is missing: the PostgreSQL server
# binaries, redis-server and Chromium (the tests start their own servers in temporary folders on
# free loopback ports, and drive Chromium with Playwright; nothing is started here).
set -euo pipefail

missing=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql postgresql-client)
command -v redis-server >/dev/null || missing+=(redis-server)
[ -x /usr/bin/chromium ] || missing+=(chromium fonts-liberation)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: run 'sudo apt-get install ${missing[*]}' and retry" >&2
    exit 1
  fi
  echo "installing from Debian's packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "PostgreSQL binaries: $(ls -d /usr/lib/postgresql/*/bin | tr '\n' ' '); $(redis-server --version | cut -d' ' -f1-3)"
