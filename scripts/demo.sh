#!/usr/bin/env bash
# The main job: on a fresh machine with no GPU and no API key, install what is needed, start the
# local model server (Qwen2.5-Coder-1.5B-Instruct via node-llama-cpp, every CPU core, one kept prompt
# prefix per role) and the local embedder, and run the Memory-R1 pipeline on a short project history:
# operations, history, answers with citations.
# Pass `--endpoint URL --model NAME` to use another OpenAI-compatible server instead (the local models
# are then not installed). MODELS_DIR=<dir> shares one copy of the models between checkouts.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x node_modules/.bin/vitest ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # `npm ci` installs exactly the lock file. node-llama-cpp is pinned to 3.21.1: later releases list
  # per-platform packages that the registry does not serve, and `npm ci` refuses such a lock.
  npm ci --no-audit --no-fund
fi
case " $* " in
  *" --endpoint"*) ;;
  *) bash scripts/setup-models.sh demo ;; # Qwen2.5-Coder-1.5B (1.1 GB) and all-MiniLM-L6-v2
esac
node_modules/.bin/node scripts/build.mjs
exec node_modules/.bin/node dist/cli.js demo "$@"
