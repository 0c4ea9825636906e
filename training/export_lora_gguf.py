"""Writes a PEFT LoRA adapter as a llama.cpp GGUF LoRA, so `memory-r1 serve --lora <file>` serves it.

llama.cpp's adapter format: general.type "adapter", adapter.type "lora", adapter.lora.alpha, the base
model's architecture, and for each adapted weight `<base tensor name>.lora_a` (numpy shape (r, n_in)) and
`.lora_b` ((n_out, r)); the runtime scales B·A by alpha / r, as PEFT does.

    python training/export_lora_gguf.py --adapter training/outputs/manager-0.5b/adapter \
        --base models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf --out models/memory-r1-manager-0.5b.lora.gguf
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

import numpy as np

# Hugging Face module path -> the GGUF tensor name (llama.cpp's Qwen2/Llama naming).
MODULES = {
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}
KEY = re.compile(r"(?:^|\.)layers\.(\d+)\.(self_attn\.[qkvo]_proj|mlp\.(?:gate|up|down)_proj)\.lora_([AB])(?:\.default)?\.weight$")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--adapter", required=True, help="a PEFT adapter folder (adapter_config.json + adapter_model.safetensors)")
    ap.add_argument("--base", required=True, help="the base model's GGUF (its architecture and tensor shapes are checked)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--name", default="memory-r1-manager")
    args = ap.parse_args()

    import gguf
    from safetensors.numpy import load_file

    adapter = Path(args.adapter)
    cfg = json.loads((adapter / "adapter_config.json").read_text())
    alpha = float(cfg["lora_alpha"])
    weights = load_file(str(adapter / "adapter_model.safetensors"))

    base = gguf.GGUFReader(args.base)
    arch = bytes(base.fields["general.architecture"].parts[-1]).decode()
    shapes = {t.name: tuple(int(d) for d in reversed(list(t.shape))) for t in base.tensors}  # numpy order (n_out, n_in)

    pairs: dict[str, dict[str, np.ndarray]] = {}
    for key, value in weights.items():
        m = KEY.search(key)
        if not m:
            raise SystemExit(f"{key}: not a LoRA weight of a module this exporter knows ({', '.join(MODULES)})")
        layer, module, ab = m.groups()
        name = f"blk.{layer}.{MODULES[module]}.weight"
        pairs.setdefault(name, {})[ab] = value.astype(np.float32)

    writer = gguf.GGUFWriter(args.out, arch)
    writer.add_type("adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", alpha)
    writer.add_name(args.name)
    for name in sorted(pairs, key=lambda n: (int(n.split(".")[1]), n)):
        a, b = pairs[name].get("A"), pairs[name].get("B")
        if a is None or b is None:
            raise SystemExit(f"{name}: lora_A or lora_B missing")
        if name not in shapes:
            raise SystemExit(f"{name}: the base model {args.base} has no such tensor; was the adapter trained on another model?")
        n_out, n_in = shapes[name]
        if a.shape[1] != n_in or b.shape[0] != n_out or a.shape[0] != b.shape[1]:
            raise SystemExit(f"{name}: adapter shapes A{a.shape} B{b.shape} do not fit the base weight ({n_out}, {n_in})")
        writer.add_tensor(f"{name}.lora_a", a.astype(np.float16))
        writer.add_tensor(f"{name}.lora_b", b.astype(np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    digest = hashlib.sha256(Path(args.out).read_bytes()).hexdigest()
    print(f"wrote {args.out}: {len(pairs)} adapted weights, rank {next(iter(pairs.values()))['A'].shape[0]}, alpha {alpha:g}, arch {arch}, {Path(args.out).stat().st_size / 1e6:.1f} MB, sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
