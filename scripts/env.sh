# The project's environment for a shell: `source scripts/env.sh` (bash or zsh, from any folder).
#
# Puts .venv/bin on PATH and points Airflow at the checkout's home (.airflow, the one `make run`
# prepares: metadata database, connections, pools, logs), the repository's DAGs and plugins, and
# the API server `make run` starts. After it, every command the README shows works as typed:
# `fantasy-jobs ...`, `airflow dags trigger ...`, `airflow connections ...`, and the `curl` lines
# (AIRFLOW_URL, and AIRFLOW_ADMIN_PASSWORD once `make run` made it). The connections themselves
# live in the metadata database (make run keeps them current; `airflow connections list`).
# `make run` uses this file too, so both always agree.

if [ -n "${BASH_SOURCE:-}" ]; then
  _fantasy_here="${BASH_SOURCE[0]}"
else  # zsh
  _fantasy_here="${(%):-%N}"
fi
FANTASY_ROOT="$(cd "$(dirname "$_fantasy_here")/.." && pwd)"
unset _fantasy_here
export FANTASY_ROOT

case ":${PATH:-}:" in
  *":$FANTASY_ROOT/.venv/bin:"*) ;;
  *) export PATH="$FANTASY_ROOT/.venv/bin:${PATH:-/usr/local/bin:/usr/bin:/bin}" ;;
esac

export AIRFLOW_HOME="${AIRFLOW_HOME:-$FANTASY_ROOT/.airflow}"
export AIRFLOW__CORE__DAGS_FOLDER="$FANTASY_ROOT/dags"
export AIRFLOW__CORE__PLUGINS_FOLDER="$FANTASY_ROOT/plugins"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION=False
export AIRFLOW__CORE__EXECUTOR=LocalExecutor
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="admin:admin"
export AIRFLOW__API__HOST=127.0.0.1
_fantasy_port="${PORT:-}"
if [ -z "$_fantasy_port" ] && [ -s "$AIRFLOW_HOME/airflow.cfg" ]; then  # the port `make run` was started on
  _fantasy_port="$(python3 -c 'import configparser, sys
c = configparser.RawConfigParser(strict=False)
c.read(sys.argv[1])
print(c.get("api", "port", fallback=""))' "$AIRFLOW_HOME/airflow.cfg" 2>/dev/null || true)"
fi
export AIRFLOW__API__PORT="${_fantasy_port:-8080}"
unset _fantasy_port
export AIRFLOW__API__BASE_URL="http://127.0.0.1:${AIRFLOW__API__PORT}"
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="${AIRFLOW__API__BASE_URL}/execution/"
export AIRFLOW_URL="$AIRFLOW__API__BASE_URL"

if [ -s "$AIRFLOW_HOME/simple_auth_manager_passwords.json.generated" ]; then
  AIRFLOW_ADMIN_PASSWORD="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["admin"])' \
    "$AIRFLOW_HOME/simple_auth_manager_passwords.json.generated" 2>/dev/null || true)"
  export AIRFLOW_ADMIN_PASSWORD
fi
