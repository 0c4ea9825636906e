#!/usr/bin/env bash
# Installs the real mem0ai Python package (2.2.1, the peer pipeline `mem0` of `memory-r1 eval locomo`)
# into a git-ignored venv, .cache/mem0-venv (override with MEM0_VENV).
#
#   bash scripts/setup-mem0.sh            install (idempotent: a venv whose stamp matches the lock is left alone)
#   bash scripts/setup-mem0.sh --check    exit 0 if the venv is installed and matches the lock, 1 if not
#   bash scripts/setup-mem0.sh --relock   rebuild scripts/mem0-requirements.lock for this Python and platform
#
# Every package comes from PyPI pinned by version and SHA-256 (scripts/mem0-requirements.lock, pip's
# hash-checking mode, --no-deps so nothing outside the lock is installed). The vector store is Qdrant's
# local mode (qdrant-client, no server); history is Mem0's own SQLite file. Mem0's optional extras (spaCy
# entity linking, fastembed BM25, sentence-transformers) are left out: they pull in PyTorch or download
# models from outside PyPI at run time. The last step imports mem0 with MEM0_TELEMETRY=false and the bridge's
# loopback-only socket guard (bench/mem0_bridge.py --self-check).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
VENV="${MEM0_VENV:-$PWD/.cache/mem0-venv}"
LOCK="$PWD/scripts/mem0-requirements.lock"
PYTHON="${PYTHON:-python3}"
MEM0_VERSION=2.2.1
log() { printf '[setup-mem0 %3ss] %s\n' "$(( $(date +%s) - start ))" "$*"; }

lock_sha() { sha256sum "$LOCK" | cut -c1-64; }
stamp_ok() { [ -f "$VENV/.mem0-stamp" ] && [ "$(cat "$VENV/.mem0-stamp")" = "$(lock_sha)" ] && [ -x "$VENV/bin/python" ]; }

case "${1:-}" in
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  --check) stamp_ok; exit $? ;;
  --relock)
    work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
    "$PYTHON" -m venv "$work/v"
    "$work/v/bin/pip" install --quiet --disable-pip-version-check "mem0ai==$MEM0_VERSION"
    "$work/v/bin/pip" freeze --exclude-editable >"$work/freeze.txt"
    "$PYTHON" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: -r "$work/freeze.txt" -d "$work/wheels"
    {
      echo "# mem0ai $MEM0_VERSION and every package it pulls in, for $("$PYTHON" -c 'import sys,platform;print(f"CPython {sys.version_info[0]}.{sys.version_info[1]} on {platform.system().lower()} {platform.machine()}")'), pinned by version and"
      echo "# SHA-256 (pip --require-hashes). scripts/setup-mem0.sh installs exactly this. Regenerate (another Python or"
      echo "# platform): bash scripts/setup-mem0.sh --relock"
      for whl in "$work"/wheels/*.whl; do
        base="$(basename "$whl")"
        name="$(echo "${base%%-*}" | tr '_' '-' | tr 'A-Z' 'a-z')"; ver="$(echo "$base" | cut -d- -f2)"
        printf '%s==%s \\\n    --hash=sha256:%s\n' "$name" "$ver" "$(sha256sum "$whl" | cut -c1-64)"
      done
    } >"$LOCK"
    log "wrote $LOCK ($(grep -c '==' "$LOCK") packages)"
    exit 0 ;;
  "") ;;
  *) echo "setup-mem0: unknown argument \"$1\" (--check, --relock, --help)" >&2; exit 2 ;;
esac

mkdir -p "$(dirname "$VENV")"
exec 9>"$(dirname "$VENV")/.setup-mem0.lock"
flock 9
if stamp_ok; then
  log "mem0ai $MEM0_VERSION already installed in $VENV"
  exit 0
fi

if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null; then
  echo "setup-mem0: mem0ai $MEM0_VERSION needs Python 3.10 or newer; $PYTHON is $("$PYTHON" --version 2>&1)" >&2
  exit 1
fi
# The lock names the interpreter and platform its hashes are for; another one cannot install it (exit 3,
# which scripts/test.sh reports and passes over: the bridge test then skips, saying why).
want="$(sed -n '1s/.*for \(CPython [0-9.]* on [a-z]* [a-z0-9_-]*\),.*/\1/p' "$LOCK")"
have="$("$PYTHON" -c 'import sys,platform;print("CPython %d.%d on %s %s" % (sys.version_info[0], sys.version_info[1], platform.system().lower(), platform.machine().replace("_", "-")))')"
want="${want//_/-}"
if [ -n "$want" ] && [ "$want" != "$have" ]; then
  echo "setup-mem0: $LOCK is for $want, and this machine has $have; run: bash scripts/setup-mem0.sh --relock" >&2
  exit 3
fi
rm -rf "$VENV.building"
# No pip inside the venv (ensurepip costs ~10 s): the host's pip installs into it with --python (pip >= 22.3).
if "$PYTHON" -m pip --python "$PYTHON" --version >/dev/null 2>&1; then
  "$PYTHON" -m venv --without-pip "$VENV.building"
  PIP=("$PYTHON" -m pip --python "$VENV.building/bin/python")
else
  "$PYTHON" -m venv "$VENV.building"
  PIP=("$VENV.building/bin/python" -m pip)
fi
log "installing mem0ai $MEM0_VERSION and $(( $(grep -c '==' "$LOCK") - 1 )) pinned dependencies"
if ! "${PIP[@]}" install --quiet --disable-pip-version-check --no-deps --no-compile --only-binary=:all: \
  --require-hashes -r "$LOCK" >"$VENV.building/pip.log" 2>&1; then
  grep -v 'is ignored: it is neither' "$VENV.building/pip.log" >&2 || true
  echo "setup-mem0: pip could not install $LOCK (see above). On another Python or platform than the lock's, run: bash scripts/setup-mem0.sh --relock" >&2
  rm -rf "$VENV.building"
  exit 1
fi
# The package and the guard work offline, with telemetry off, before the venv is put in place.
if ! MEM0_TELEMETRY=false MEM0_DIR="$VENV.building/mem0-home" "$VENV.building/bin/python" bench/mem0_bridge.py --self-check; then
  echo "setup-mem0: the installed mem0ai failed its self-check (see above)" >&2
  rm -rf "$VENV.building"
  exit 1
fi
rm -rf "$VENV"
mv "$VENV.building" "$VENV"
# venv scripts hold absolute paths; the interpreter link is what the bridge uses, so a rename is fine.
lock_sha >"$VENV/.mem0-stamp"
log "installed mem0ai $MEM0_VERSION into $VENV"
