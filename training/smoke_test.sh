#!/usr/bin/env bash
# CPU smoke test of the RL loop: builds training data with the TypeScript engine, starts a scripted answer
# model (fake OpenAI server) and the reward server, then runs a few GRPO and PPO steps on a tiny random
# model in a venv (.cache/training-venv). Ends with "training smoke: N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
started=$(date +%s)
VENV="$ROOT/.cache/training-venv"
WORK="$ROOT/.cache/training-smoke"
NODE="$ROOT/node_modules/.bin/node"
[ -x "$NODE" ] || NODE=node
CLI="${MEMORY_R1_CLI:-$ROOT/dist/cli.js}"

# ---- Python environment: torch first (the CPU wheel), so the pinned packages do not pull a CUDA build.
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
PY="$VENV/bin/python"
if ! "$PY" -c 'import torch' 2>/dev/null; then
  "$PY" -m pip install --quiet --disable-pip-version-check torch==2.13.0
fi
stamp="$VENV/.requirements.sha256"
want=$(sha256sum training/requirements.txt | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  "$PY" -m pip install --quiet --disable-pip-version-check -r training/requirements.txt
  echo "$want" > "$stamp"
fi

# ---- TypeScript side: the CLI and the scripted answer model.
if [ ! -f "$CLI" ]; then
  "$NODE" scripts/build.mjs
fi
rm -rf "$WORK"
mkdir -p "$WORK"
node_modules/.bin/esbuild training/smoke/answerServer.ts --bundle --platform=node --format=cjs --packages=external \
  --log-level=warning --outfile="$WORK/answerServer.cjs"

"$NODE" "$CLI" build-training-data --data training/smoke/conversation.json --train smoke-1 --out "$WORK/data" 2>/dev/null

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

wait_for_line() { # file pattern pid
  for _ in $(seq 1 200); do
    if grep -q "$2" "$1" 2>/dev/null; then grep -o 'http://[^ ]*' "$1" | head -1; return 0; fi
    if ! kill -0 "$3" 2>/dev/null; then echo "process $3 exited early:" >&2; cat "$1" "$1.err" >&2 2>/dev/null; return 1; fi
    sleep 0.1
  done
  echo "timed out waiting for '$2' in $1" >&2
  return 1
}

"$NODE" "$WORK/answerServer.cjs" > "$WORK/answer.log" 2> "$WORK/answer.log.err" &
pids+=($!)
ANSWER_URL=$(wait_for_line "$WORK/answer.log" "listening on" "${pids[-1]}")

"$NODE" "$CLI" reward --serve --data "$WORK/data" --answer-endpoint "$ANSWER_URL" --answer-model scripted-answerer \
  > "$WORK/reward.log" 2> "$WORK/reward.log.err" &
pids+=($!)
REWARD_URL=$(wait_for_line "$WORK/reward.log" "listening on" "${pids[-1]}")
# The per-fact decision rewards (the CPU GRPO of training/run_cpu.sh), on the decision benchmark's dev split.
"$NODE" "$CLI" reward --serve --decisions bench/fixtures/manager/dev.jsonl > "$WORK/decision.log" 2> "$WORK/decision.log.err" &
pids+=($!)
DECISION_URL=$(wait_for_line "$WORK/decision.log" "listening on" "${pids[-1]}")
echo "answer model: $ANSWER_URL   reward server: $REWARD_URL   decision rewards: $DECISION_URL"

set +e
OMP_NUM_THREADS=2 TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
  "$PY" training/smoke_test.py "$WORK/data" "$REWARD_URL" "$WORK" "$DECISION_URL"
rc=$?
set -e
echo "training smoke took $(( $(date +%s) - started ))s"
exit $rc
