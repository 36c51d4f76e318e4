#!/usr/bin/env bash
# The whole test suite: SQLite always, PostgreSQL when 127.0.0.1:5432 answers (required with CI=true).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --browser
exec .venv/bin/python -m pytest -n 2 "$@"
