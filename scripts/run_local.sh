#!/usr/bin/env bash
# `make run`: the project on its embedded default. A project-local Airflow home (.airflow, ignored
# by git), no example DAGs, the pools, `fantasy_db` on a SQLite file with the schema and the demo
# data, then `airflow standalone` on 127.0.0.1:8080. Safe to run again; Ctrl-C stops everything.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$ROOT/.venv/bin:$PATH"  # airflow standalone starts `airflow` subcommands
export AIRFLOW_HOME="${AIRFLOW_HOME:-$ROOT/.airflow}"
export AIRFLOW__CORE__DAGS_FOLDER="$ROOT/dags"
export AIRFLOW__CORE__PLUGINS_FOLDER="$ROOT/plugins"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION=False
export AIRFLOW__API__HOST=127.0.0.1
export AIRFLOW__API__PORT="${PORT:-8080}"
export AIRFLOW__API__BASE_URL="http://127.0.0.1:${AIRFLOW__API__PORT}"
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="admin:admin"
mkdir -p "$AIRFLOW_HOME"

echo "==> Airflow home: $AIRFLOW_HOME"
airflow db migrate >/dev/null

echo "==> pools"
airflow pools import "$ROOT/include/fantasy_jobs/pools.json"

echo "==> connection fantasy_db (SQLite demo database)"
DB_FILE="$AIRFLOW_HOME/fantasy.db"
if ! airflow connections get fantasy_db >/dev/null 2>&1; then
  airflow connections add fantasy_db --conn-uri "sqlite:///$DB_FILE" >/dev/null
fi
export AIRFLOW_CONN_FANTASY_DB="sqlite:///$DB_FILE"
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

cat <<MSG

==> Airflow UI: http://127.0.0.1:${AIRFLOW__API__PORT}
    login: admin / ${PASSWORD}   (kept in $PASSWORDS)
    DAGs: fantasy_daily, fantasy_frequent, fantasy_weekly, fantasy_live (event-driven); Ctrl-C stops everything.

MSG
exec airflow standalone
