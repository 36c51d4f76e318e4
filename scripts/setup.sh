#!/usr/bin/env bash
# Creates .venv with the project and its dev tools; re-installs only when pyproject.toml changes.
# Installs Debian's chromium for the browser tests when it is missing (root, apt) unless told not to.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-12)
if [ ! -f "$stamp" ]; then
  echo "setup: creating .venv and installing riskreg (first run takes a minute)"
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi
if [ "${1:-}" = "--browser" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing Debian's chromium for the browser tests"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core) >/tmp/riskreg-apt.log 2>&1 \
      || echo "setup: chromium could not be installed (see /tmp/riskreg-apt.log)"
  else
    echo "setup: chromium is missing and cannot be installed here; browser tests will be skipped"
  fi
fi
