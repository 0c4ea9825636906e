#!/usr/bin/env bash
# A real GRPO run on one GPU: trains the Memory Manager (ROLE=answer for the Answer Agent) of a
# 0.5B-3B instruct model on LoCoMo conv-26, rewards from the TypeScript reward server, the frozen answer
# agent served by vLLM on the same GPU. Not run in CI; see training/README.md for time and memory.
#
#   LOCOMO=../shared/datasets/locomo/locomo-dev.json MODEL=Qwen/Qwen2.5-3B-Instruct bash training/run_grpo_gpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
MODEL="${MODEL:-Qwen/Qwen2.5-3B-Instruct}"
ANSWER_MODEL="${ANSWER_MODEL:-$MODEL}"          # the frozen answer agent used by the manager reward
ROLE="${ROLE:-manager}"
LOCOMO="${LOCOMO:-$ROOT/../shared/datasets/locomo/locomo-dev.json}"
DATA="${DATA:-$ROOT/.cache/training-data}"
OUT="${OUT:-$ROOT/training/outputs/grpo-$ROLE}"
VENV="${VENV:-$ROOT/.cache/training-venv-gpu}"
ANSWER_PORT="${ANSWER_PORT:-8001}"
REWARD_PORT="${REWARD_PORT:-8765}"
USE_VLLM="${USE_VLLM:-1}"
NODE="$ROOT/node_modules/.bin/node"
[ -x "$NODE" ] || NODE=node

if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
PY="$VENV/bin/python"
if [ "$USE_VLLM" = 1 ]; then
  # vLLM pins the CUDA torch it was built against; install it first so the pins below resolve to it.
  "$PY" -c 'import vllm' 2>/dev/null || "$PY" -m pip install vllm
else
  "$PY" -c 'import torch' 2>/dev/null || "$PY" -m pip install torch
fi
"$PY" -m pip install -r training/requirements.txt

[ -f dist/cli.js ] || "$NODE" scripts/build.mjs
if [ ! -f "$DATA/meta.json" ]; then
  "$NODE" dist/cli.js build-training-data --data "$LOCOMO" --train conv-26 --val conv-30 --out "$DATA"
fi

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT
wait_http() { # url seconds
  for _ in $(seq 1 "$2"); do curl -sf "$1" >/dev/null && return 0; sleep 1; done
  echo "no answer from $1" >&2; return 1
}

if [ "$ROLE" = manager ]; then
  "$VENV/bin/vllm" serve "$ANSWER_MODEL" --served-model-name answerer --host 127.0.0.1 --port "$ANSWER_PORT" \
    --gpu-memory-utilization "${ANSWER_GPU_UTIL:-0.25}" --max-model-len 16384 > "$OUT.answerer.log" 2>&1 &
  pids+=($!)
  wait_http "http://127.0.0.1:$ANSWER_PORT/v1/models" 900
fi
mkdir -p "$(dirname "$OUT")"
"$NODE" dist/cli.js reward --serve --port "$REWARD_PORT" --data "$DATA" \
  --answer-endpoint "http://127.0.0.1:$ANSWER_PORT/v1" --answer-model answerer --concurrency 32 > "$OUT.reward.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$REWARD_PORT/health" 60

extra=()
[ "$USE_VLLM" = 1 ] || extra+=(--set grpo.use_vllm=false)
"$PY" training/train.py --config "training/config/grpo_$ROLE.yaml" --model "$MODEL" --data-dir "$DATA" \
  --output-dir "$OUT" --reward-url "http://127.0.0.1:$REWARD_PORT" "${extra[@]}" "$@"

echo
echo "Checkpoint: $OUT/final"
echo "Serve it:   vllm serve $OUT/final --served-model-name memory-r1-$ROLE --port 8000"
echo "Evaluate:   see training/README.md (memory-r1 eval locomo --samples conv-30 ...)"
