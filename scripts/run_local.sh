#!/usr/bin/env bash
# `make run`: the project on its embedded default, or with DB=postgres on a local PostgreSQL.
#
# The checkout's Airflow home (.airflow, ignored by git) and the environment of scripts/env.sh; no
# example DAGs; the pools; the connections `fantasy_db` (SQLite file, or PostgreSQL), `airflow_db`
# (the metadata database, for cleanup_airflow_metadata) and `wnba_api` (the offline ESPN sample);
# the schema and the demo data; the same settings written into .airflow/airflow.cfg. Then the API
# server first and, once it answers, the scheduler, dag-processor and triggerer, so no task starts
# before the API it reports to listens. Safe to run again; Ctrl-C stops everything it started.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/env.sh
source "$ROOT/scripts/env.sh"
DB="${DB:-sqlite}"
LOGS="$AIRFLOW_HOME/logs/components"
mkdir -p "$AIRFLOW_HOME" "$LOGS"
PIDS=()
TAIL_PID=""
PG_DATA=""

as_postgres() {  # initdb and pg_ctl refuse to run as root
  if [ "$(id -u)" -eq 0 ]; then
    local user=postgres
    id -u postgres >/dev/null 2>&1 || user=nobody
    "$(PATH="$PATH:/usr/sbin:/sbin" command -v runuser)" -u "$user" -- "$@"
  else
    "$@"
  fi
}

start_postgres() {
  # A local cluster the way the tests start theirs: initdb with a password, loopback only.
  local bin port=${FANTASY_PG_PORT:-55432}
  bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "make run DB=postgres needs the PostgreSQL server: apt-get install postgresql" >&2
    echo "(or give your own database: make run DB=postgres FANTASY_DB_URL=postgresql://user:pw@host/db)" >&2
    exit 2
  fi
  PG_BIN="$bin"
  PG_DATA="$AIRFLOW_HOME/postgres"
  if [ "$(id -u)" -eq 0 ] && ! as_postgres test -x "$AIRFLOW_HOME"; then  # e.g. a checkout under /root
    PG_DATA="${TMPDIR:-/tmp}/fantasy-postgres-$(printf %s "$ROOT" | cksum | cut -d' ' -f1)"
  fi
  if [ ! -s "$PG_DATA/PG_VERSION" ]; then
    echo "    initdb $PG_DATA"
    mkdir -p "$PG_DATA"
    printf fantasy >"$PG_DATA.pw"
    if [ "$(id -u)" -eq 0 ]; then chown "$(as_postgres id -un)" "$PG_DATA" "$PG_DATA.pw"; fi
    chmod 700 "$PG_DATA"
    as_postgres "$bin/initdb" -D "$PG_DATA" -U fantasy --pwfile "$PG_DATA.pw" --auth=scram-sha-256 \
      -E UTF8 --locale=C >/dev/null
    rm -f "$PG_DATA.pw"
  fi
  if ! as_postgres "$bin/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
    as_postgres "$bin/pg_ctl" -D "$PG_DATA" -o "-p $port -k $PG_DATA -c listen_addresses=127.0.0.1" \
      -l "$PG_DATA/server.log" -w start >/dev/null
  fi
  export PGPASSWORD=fantasy
  if [ "$("$bin/psql" -h 127.0.0.1 -p "$port" -U fantasy -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'fantasy'")" != 1 ]; then
    "$bin/createdb" -h 127.0.0.1 -p "$port" -U fantasy fantasy
  fi
  unset PGPASSWORD
  FANTASY_DB_URL="postgresql://fantasy:fantasy@127.0.0.1:$port/fantasy"
}

stop_everything() {
  trap - EXIT INT TERM
  if [ ${#PIDS[@]} -gt 0 ]; then
    echo "==> stopping Airflow (${#PIDS[@]} components)"
    for pid in "${PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
    for _ in $(seq 1 40); do  # each component and the task processes in its group: a graceful stop
      local alive=0
      for pid in "${PIDS[@]}"; do kill -0 -- "-$pid" 2>/dev/null && alive=1; done
      [ "$alive" -eq 0 ] && break
      sleep 0.5
    done
    for pid in "${PIDS[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  fi
  [ -n "$TAIL_PID" ] && kill "$TAIL_PID" 2>/dev/null || true
  if [ -n "$PG_DATA" ] && [ -z "${KEEP_POSTGRES:-}" ]; then
    echo "==> stopping PostgreSQL ($PG_DATA)"
    as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null 2>&1 || true
  fi
}
trap stop_everything EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_component() {  # in its own session: its process group is stopped as a whole
  setsid airflow "$@" >>"$LOGS/$1.log" 2>&1 &
  PIDS+=($!)
}

echo "==> Airflow home: $AIRFLOW_HOME"
airflow db migrate >/dev/null
python "$ROOT/scripts/airflow_cfg.py" "$AIRFLOW_HOME/airflow.cfg" \
  "core.dags_folder=$AIRFLOW__CORE__DAGS_FOLDER" "core.plugins_folder=$AIRFLOW__CORE__PLUGINS_FOLDER" \
  core.load_examples=False core.dags_are_paused_at_creation=False core.executor=LocalExecutor \
  "core.simple_auth_manager_users=$AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS" \
  "core.execution_api_server_url=$AIRFLOW__CORE__EXECUTION_API_SERVER_URL" \
  "api.host=$AIRFLOW__API__HOST" "api.port=$AIRFLOW__API__PORT" "api.base_url=$AIRFLOW__API__BASE_URL"

echo "==> pools"
airflow pools import "$ROOT/include/fantasy_jobs/pools.json" >/dev/null

set_connection() {  # replaced at every start, so the connection always matches this run
  airflow connections delete "$1" >/dev/null 2>&1 || true
  airflow connections add "$1" "${@:2}" >/dev/null
}
case "$DB" in
  sqlite)
    echo "==> connection fantasy_db: SQLite $AIRFLOW_HOME/fantasy.db"
    set_connection fantasy_db --conn-uri "sqlite:///$AIRFLOW_HOME/fantasy.db"
    ;;
  postgres | postgresql)
    if [ -z "${FANTASY_DB_URL:-}" ]; then
      echo "==> PostgreSQL: a local cluster (FANTASY_DB_URL gives your own)"
      start_postgres
    fi
    echo "==> connection fantasy_db: PostgreSQL ${FANTASY_DB_URL%%://*}://...@${FANTASY_DB_URL#*@}"
    set_connection fantasy_db --conn-uri "$FANTASY_DB_URL"
    ;;
  *)
    echo "DB must be sqlite (the default) or postgres, got '$DB'" >&2
    exit 2
    ;;
esac
set_connection airflow_db --conn-uri "sqlite:///$AIRFLOW_HOME/airflow.db"
fantasy-jobs load-demo

echo "==> connection wnba_api (offline ESPN sample; see the README to use ESPN itself)"
SAMPLE="$AIRFLOW_HOME/espn-sample"
[ -d "$SAMPLE" ] || fantasy-jobs espn-sample "$SAMPLE"
if ! airflow connections get wnba_api >/dev/null 2>&1; then
  airflow connections add wnba_api --conn-json "{\"conn_type\": \"http\", \"host\": \"file://$SAMPLE\"}" >/dev/null
fi
if [ -n "${WNBA_API_URL:-}" ]; then  # e.g. `fantasy-jobs espn-replay`'s stand-in, for this run only
  echo "    wnba_api for this run: $WNBA_API_URL (WNBA_API_URL)"
  export AIRFLOW_CONN_WNBA_API="$WNBA_API_URL"
fi

PASSWORDS="$AIRFLOW_HOME/simple_auth_manager_passwords.json.generated"
if [ ! -s "$PASSWORDS" ]; then
  python - "$PASSWORDS" <<'PY'
import json, secrets, sys
with open(sys.argv[1], "w") as handle:
    json.dump({"admin": secrets.token_urlsafe(12)}, handle)
PY
fi
PASSWORD="$(python -c 'import json,sys; print(json.load(open(sys.argv[1]))["admin"])' "$PASSWORDS")"

echo "==> API server on $AIRFLOW__API__BASE_URL (logs: $LOGS)"
start_component api-server
api_answers() {
  python - "$AIRFLOW__API__BASE_URL/api/v2/monitor/health" 2>/dev/null <<'PY'
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=5)
PY
}
deadline=$((SECONDS + ${FANTASY_API_START_SECONDS:-300}))
until api_answers; do
  if ! kill -0 "${PIDS[0]}" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
    echo "the API server did not start (see $LOGS/api-server.log):" >&2
    tail -n 40 "$LOGS/api-server.log" >&2
    exit 1
  fi
  sleep 0.5
done
echo "==> scheduler, dag-processor, triggerer"
start_component scheduler
start_component dag-processor
start_component triggerer

cat <<MSG

==> Airflow UI: $AIRFLOW__API__BASE_URL
    login: admin / ${PASSWORD}   (kept in $PASSWORDS)
    DAGs: fantasy_daily, fantasy_frequent, fantasy_weekly, fantasy_live (event-driven)
    In another shell: source scripts/env.sh   (then fantasy-jobs, airflow and the README's lines)
    Ctrl-C stops everything.

MSG
tail -n 0 -F "$LOGS"/*.log &
TAIL_PID=$!
set +e
wait -n "${PIDS[@]}"
status=$?
set -e
echo "an Airflow component stopped (exit $status); stopping the others" >&2
exit 1
