#!/usr/bin/env bash
# Sets everything up and serves riskreg on SQLite with the demo region at http://127.0.0.1:5000
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export RISKREG_INSTANCE="${RISKREG_INSTANCE:-$PWD/instance}"
.venv/bin/flask --app wsgi db upgrade
.venv/bin/flask --app wsgi seed demo
echo "riskreg: open http://127.0.0.1:${PORT:-5000}/login"
exec .venv/bin/flask --app wsgi run --host 127.0.0.1 --port "${PORT:-5000}"
