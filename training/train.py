#!/usr/bin/env python3
"""Trains the Memory-R1 Memory Manager or Answer Agent with GRPO (TRL) or PPO, rewards from the
TypeScript reward server (`memory-r1 reward --serve`).

    python training/train.py --config training/config/grpo_manager.yaml \
        [--model Qwen/Qwen2.5-3B-Instruct] [--reward-url http://127.0.0.1:8765] [--set grpo.max_steps=10]
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from data import load_decisions, load_split  # noqa: E402
from reward_client import RewardClient, make_reward_func  # noqa: E402


def load_config(path: str, overrides: list[str]) -> dict:
    with open(path, encoding="utf-8") as fh:
        cfg = yaml.safe_load(fh) or {}
    for item in overrides:
        if "=" not in item:
            raise SystemExit(f"--set expects key=value, got {item!r}")
        key, raw = item.split("=", 1)
        node = cfg
        parts = key.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = yaml.safe_load(raw)
    for key in ("algorithm", "role", "model", "data_dir", "output_dir"):
        if not cfg.get(key):
            raise SystemExit(f"config {path}: '{key}' is required")
    if cfg["algorithm"] not in ("grpo", "ppo"):
        raise SystemExit(f"config {path}: algorithm must be grpo or ppo")
    return cfg


def torch_dtype(name: str | None):
    import torch

    return {"bf16": torch.bfloat16, "bfloat16": torch.bfloat16, "fp16": torch.float16, "float16": torch.float16}.get(name or "", torch.float32)


def load_tokenizer(model_path: str, gguf_file: str | None = None):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_path, **({"gguf_file": gguf_file} if gguf_file else {}))
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def lora_config(cfg: dict):
    lora = cfg.get("lora") or {}
    if not lora.get("enabled"):
        return None
    from peft import LoraConfig

    return LoraConfig(
        r=int(lora.get("r", 16)),
        lora_alpha=int(lora.get("alpha", 32)),
        lora_dropout=float(lora.get("dropout", 0.05)),
        target_modules=lora.get("target_modules", "all-linear"),
        task_type="CAUSAL_LM",
    )


def run_grpo(cfg: dict, client: RewardClient) -> dict:
    from transformers import AutoModelForCausalLM
    from trl import GRPOConfig, GRPOTrainer

    if cfg["role"] == "decision":
        train_ds = load_decisions(cfg["reward_url"], cfg.get("limit"))
    else:
        train_ds = load_split(cfg["data_dir"], cfg.get("split", "train"), cfg["role"], cfg.get("limit"))
    grpo_args = dict(cfg.get("grpo") or {})
    args = GRPOConfig(output_dir=cfg["output_dir"], **grpo_args)
    # A GGUF base (the local models) is dequantised on load: model = its folder, gguf_file = its name.
    gguf = {"gguf_file": cfg["gguf_file"]} if cfg.get("gguf_file") else {}
    tok = load_tokenizer(cfg["model"], cfg.get("gguf_file"))
    model = AutoModelForCausalLM.from_pretrained(cfg["model"], dtype=torch_dtype(cfg.get("dtype")), **gguf)
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=[make_reward_func(client, cfg["role"])],
        args=args,
        train_dataset=train_ds,
        processing_class=tok,
        peft_config=lora_config(cfg),
    )
    trainer.train()
    final_dir = os.path.join(cfg["output_dir"], "final")
    save_final(trainer.model, tok, final_dir, merge=(cfg.get("lora") or {}).get("merge", True))
    return {"log_history": trainer.state.log_history, "final_dir": final_dir}


def run_ppo(cfg: dict, client: RewardClient) -> dict:
    import torch
    from transformers import AutoModelForCausalLM

    from ppo import Critic, PPOSettings, load_reference, save_ppo, train_ppo

    rows = load_split(cfg["data_dir"], cfg.get("split", "train"), cfg["role"], cfg.get("limit"))
    ppo_cfg = dict(cfg.get("ppo") or {})
    known = set(PPOSettings.__dataclass_fields__)
    unknown = sorted(set(ppo_cfg) - known)
    if unknown:
        raise SystemExit(f"unknown ppo settings: {', '.join(unknown)}")
    settings = PPOSettings(**ppo_cfg)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = torch_dtype(cfg.get("dtype"))
    tok = load_tokenizer(cfg["model"])
    actor = AutoModelForCausalLM.from_pretrained(cfg["model"], dtype=dtype).to(device)
    peft_cfg = lora_config(cfg)
    if peft_cfg is not None:
        from peft import get_peft_model

        actor = get_peft_model(actor, peft_cfg)
    if settings.gradient_checkpointing:
        actor.gradient_checkpointing_enable()
    ref = load_reference(cfg["model"], dtype, device)
    critic = Critic(cfg["model"], dtype).to(device)
    history = train_ppo(
        actor,
        ref,
        critic,
        tok,
        rows["prompt"],
        rows["id"],
        lambda ids, comps: client.score(cfg["role"], ids, comps)[0],
        settings,
        cfg["output_dir"],
    )
    final_dir = os.path.join(cfg["output_dir"], "final")
    save_final(actor, tok, final_dir, merge=(cfg.get("lora") or {}).get("merge", True))
    if cfg.get("save_critic"):
        save_ppo(actor, critic, tok, os.path.join(cfg["output_dir"], "with-critic"))
    return {"log_history": history, "final_dir": final_dir}


def save_final(model, tok, out_dir: str, merge: bool = True) -> None:
    """A plain Hugging Face checkpoint (LoRA merged by default), ready for `vllm serve`."""
    if merge and hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    os.makedirs(out_dir, exist_ok=True)
    model.save_pretrained(out_dir)
    tok.save_pretrained(out_dir)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True)
    ap.add_argument("--model", help="model path or hub id (overrides the config)")
    ap.add_argument("--data-dir", help="build-training-data output (overrides the config)")
    ap.add_argument("--output-dir")
    ap.add_argument("--reward-url", default=os.environ.get("MEMORY_R1_REWARD_URL"))
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config value, e.g. grpo.max_steps=10")
    a = ap.parse_args(argv)
    overrides = list(a.set)
    for key, val in (("model", a.model), ("data_dir", a.data_dir), ("output_dir", a.output_dir), ("reward_url", a.reward_url)):
        if val:
            overrides.append(f"{key}={json.dumps(val)}")
    cfg = load_config(a.config, overrides)
    if not cfg.get("reward_url"):
        raise SystemExit("no reward server: pass --reward-url (start one with `memory-r1 reward --serve --data <dir> --answer-endpoint <url>`)")
    client = RewardClient(cfg["reward_url"], batch_size=int(cfg.get("reward_batch_size", 64)))
    health = client.health()
    print(f"reward server: {json.dumps(health)}", flush=True)
    result = (run_grpo if cfg["algorithm"] == "grpo" else run_ppo)(copy.deepcopy(cfg), client)
    print(f"checkpoint: {result['final_dir']}", flush=True)
    print(f"rewards scored: {client.scored}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
