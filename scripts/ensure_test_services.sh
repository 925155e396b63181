#!/usr/bin/env bash
# Installs what the tests need from Debian's packages when it is missing: the PostgreSQL server
# binaries (the tests start their own server in a temporary folder; nothing is started here).
set -euo pipefail

have_postgres() { compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; }

if ! have_postgres; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "PostgreSQL server binaries are missing: run 'sudo apt-get install postgresql' and retry" >&2
    exit 1
  fi
  echo "installing PostgreSQL from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends postgresql postgresql-client >/dev/null
  # the Debian package starts a cluster of its own; the tests do not use it
  command -v pg_ctlcluster >/dev/null && pg_ctlcluster --force "$(ls /usr/lib/postgresql | sort -n | tail -1)" main stop 2>/dev/null || true
fi
echo "PostgreSQL binaries: $(ls -d /usr/lib/postgresql/*/bin | tr '\n' ' ')"
