#!/usr/bin/env python3
"""CPU smoke test of the learning loop: a tiny random Llama, a few GRPO and PPO steps, rewards from the
TypeScript reward server (which asks a scripted answer model over HTTP), checkpoint save and reload.

Usage (smoke_test.sh starts the servers): python training/smoke_test.py <data dir> <reward url> <work dir> <decision reward url>
"""
from __future__ import annotations

import json
import math
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

from data import load_split, read_jsonl  # noqa: E402
from reward_client import RewardClient  # noqa: E402
from tiny_model import save_tiny  # noqa: E402
import train  # noqa: E402

results: list[tuple[str, bool, str]] = []


def check(name: str, fn) -> None:
    start = time.time()
    try:
        detail = fn() or ""
        results.append((name, True, detail))
        print(f"ok   {name} ({time.time() - start:.1f}s) {detail}", flush=True)
    except Exception as err:  # noqa: BLE001 - report every failure, keep going
        results.append((name, False, str(err)))
        print(f"FAIL {name}: {err}", flush=True)
        traceback.print_exc()


def main() -> int:
    data_dir, reward_url, work, decision_url = sys.argv[1:5]
    torch.set_num_threads(2)
    client = RewardClient(reward_url, batch_size=16)
    manager_rows = read_jsonl(os.path.join(data_dir, "train", "manager.jsonl"))
    state: dict = {}

    def rewards_from_server():
        ex = next(r for r in manager_rows if r["candidates"])
        right = json.dumps({"memory": [{"id": "new", "text": ex["fact"], "event": "ADD"}]})
        wrong = json.dumps({"memory": [{"id": "0", "text": ex["candidates"][0]["text"], "event": "NONE"}]})
        got, details = client.score("manager", [ex["id"]] * 3, [right, wrong, "not json at all"])
        assert got == [1.0, 0.0, 0.0], f"expected [1, 0, 0], got {got}"
        assert details[2].get("valid") is False, details[2]
        return f"correct ADD 1, NOOP 0, invalid 0 for {ex['id']}"

    def tiny_model():
        texts = [m["content"] for r in manager_rows for m in r["prompt"]]
        texts += [json.dumps({"memory": [{"id": "new", "text": r["fact"], "event": "ADD"}]}) for r in manager_rows]
        state["model"] = save_tiny(os.path.join(work, "tiny-model"), texts)
        from transformers import AutoModelForCausalLM

        n = sum(p.numel() for p in AutoModelForCausalLM.from_pretrained(state["model"]).parameters())
        return f"{n} parameters"

    def grpo_steps():
        before = client.scored
        cfg = train.load_config(
            os.path.join(os.path.dirname(os.path.abspath(__file__)), "config", "smoke_grpo.yaml"),
            [f"model={json.dumps(state['model'])}", f"data_dir={json.dumps(data_dir)}", f"output_dir={json.dumps(os.path.join(work, 'grpo'))}"],
        )
        out = train.run_grpo(cfg, client)
        logs = [e for e in out["log_history"] if "loss" in e]
        assert logs, "no loss was logged"
        losses = [e["loss"] for e in logs]
        assert all(math.isfinite(x) for x in losses), f"non-finite loss: {losses}"
        steps = cfg["grpo"]["max_steps"]
        expected = steps * cfg["grpo"]["per_device_train_batch_size"] * cfg["grpo"].get("gradient_accumulation_steps", 1)
        got = client.scored - before
        assert got == expected, f"the reward server scored {got} completions, expected {expected}"
        state["grpo"] = out["final_dir"]
        rewards = client.history[-got:]
        return f"{len(logs)} logged steps, losses {['%.4g' % x for x in losses]}, {got} rewards from the server (mean {sum(rewards) / len(rewards):.3f})"

    def grpo_checkpoint_reloads():
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = state["grpo"]
        model = AutoModelForCausalLM.from_pretrained(path)
        tok = AutoTokenizer.from_pretrained(path)
        ds = load_split(data_dir, "train", "manager", limit=1)
        text = tok.apply_chat_template(ds[0]["prompt"], tokenize=False, add_generation_prompt=True)
        enc = tok(text, return_tensors="pt", add_special_tokens=False)
        out = model.generate(**enc, max_new_tokens=8, do_sample=False, pad_token_id=tok.pad_token_id)
        assert out.shape[1] > enc["input_ids"].shape[1], "the reloaded model generated nothing"
        init = AutoModelForCausalLM.from_pretrained(state["model"])
        changed = any(not torch.equal(a, b) for a, b in zip(model.state_dict().values(), init.state_dict().values()))
        # A random tiny model never writes a usable operation, so its rewards are all 0 and GRPO's
        # group-relative advantage (and so the update) is 0: unchanged weights are expected here.
        return f"reloaded from {path}, generated {out.shape[1] - enc['input_ids'].shape[1]} tokens, weights {'changed' if changed else 'unchanged (all rewards 0)'}"

    def ppo_steps():
        before = client.scored
        cfg = train.load_config(
            os.path.join(os.path.dirname(os.path.abspath(__file__)), "config", "smoke_ppo.yaml"),
            [f"model={json.dumps(state['model'])}", f"data_dir={json.dumps(data_dir)}", f"output_dir={json.dumps(os.path.join(work, 'ppo'))}"],
        )
        out = train.run_ppo(cfg, client)
        losses = [e["loss"] for e in out["log_history"]]
        assert len(losses) == cfg["ppo"]["max_steps"] and all(math.isfinite(x) for x in losses), losses
        got = client.scored - before
        assert got == cfg["ppo"]["max_steps"] * cfg["ppo"]["batch_size"], f"server scored {got}"
        from transformers import AutoModelForCausalLM

        AutoModelForCausalLM.from_pretrained(out["final_dir"])
        return f"losses {['%.4g' % x for x in losses]}, {got} rewards, checkpoint reloads"

    def server_counted_everything():
        health = client.health()
        assert health["served"] == client.scored, f"server served {health['served']}, client scored {client.scored}"
        return f"server served {health['served']} completions in {client.calls} batches"

    def cpu_grpo_learns():
        # training/grpo_cpu.py on a tiny random model and a few dev decisions: its policy over the schema's
        # choices starts near uniform, so a few GRPO steps with a large step size must raise the expected
        # reward (every action scored by the engine). Seeds are fixed; the run is deterministic on a CPU.
        import subprocess
        import urllib.request

        examples = json.loads(urllib.request.urlopen(f"{decision_url}/examples?kind=decision").read())["examples"][:6]
        texts = [m["content"] for e in examples for m in e["messages"]]
        texts += [json.dumps({"decision": d, "id": i}) for e in examples for d in e["decisions"] for i in e["ids"]]
        tiny = save_tiny(os.path.join(work, "tiny-decider"), texts)
        out = os.path.join(work, "grpo-cpu")
        here = os.path.dirname(os.path.abspath(__file__))
        args = ["--hf-model", tiny, "--reward-url", decision_url, "--out", out, "--limit", "6", "--max-steps", "12", "--prompts-per-step", "6",
                "--lr", "5e-3", "--beta", "0", "--expected", "--threads", "2", "--minutes", "5"]
        proc = subprocess.run([sys.executable, os.path.join(here, "grpo_cpu.py"), *args], capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, f"grpo_cpu.py exited {proc.returncode}: {proc.stderr[-2000:]}"
        summary = json.load(open(os.path.join(out, "summary.json")))
        before, after = summary["base_expected_reward"], summary["trained_expected_reward"]
        assert after > before + 0.05, f"expected reward did not rise: {before:.3f} -> {after:.3f}"
        rows = [json.loads(l) for l in open(os.path.join(out, "metrics.jsonl"))]
        assert len(rows) == 12 and all(math.isfinite(r["kl"]) for r in rows), rows
        from peft import PeftModel
        from transformers import AutoModelForCausalLM

        PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny), os.path.join(out, "adapter"))
        return f"expected reward {before:.3f} -> {after:.3f} in {len(rows)} steps; the LoRA adapter reloads"

    def cpu_policy_is_constrained_decoding():
        # The trainer's policy must be what the server samples: at each token, the logits renormalised over
        # the tokens the schema allows. Read each action in full and compare; then check that the decision
        # itself (the first token, chosen by the prompt's last position) gets a gradient.
        import urllib.request

        import grpo_cpu
        from peft import LoraConfig, get_peft_model
        from transformers import AutoModelForCausalLM, AutoTokenizer

        examples = json.loads(urllib.request.urlopen(f"{decision_url}/examples?kind=decision").read())["examples"][:3]
        texts = [m["content"] for e in examples for m in e["messages"]]
        texts += [json.dumps({"decision": d, "id": i}) for e in examples for d in e["decisions"] for i in e["ids"]]
        tiny = save_tiny(os.path.join(work, "tiny-policy"), texts)
        tok = AutoTokenizer.from_pretrained(tiny)
        torch.manual_seed(3)
        lora = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "down_proj"], task_type="CAUSAL_LM")
        model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny, dtype=torch.float32), lora)
        for name, p in model.named_parameters():  # a non-zero adapter, so the check covers it
            if "lora_B" in name:
                torch.nn.init.normal_(p, std=0.05)
        model.eval()
        exs = [grpo_cpu.Example(r, tok) for r in examples]
        prefix = grpo_cpu.shared_prefix_len(exs)
        policy = grpo_cpu.Policy(model, tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id, prefix, exs[0].prompt_ids[:prefix])
        policy.refresh_prefix()
        worst = 0.0
        for e in exs:
            with torch.no_grad():
                got = policy.action_logp(e, grad=False)
                want = []
                for a in e.action_ids:
                    logits = model(input_ids=torch.tensor([e.prompt_ids + a])).logits[0]
                    lp = 0.0
                    for j, token in enumerate(a):
                        allowed = sorted({b[j] for b in e.action_ids if len(b) > j and b[:j] == a[:j]})
                        if len(allowed) > 1:
                            row = logits[len(e.prompt_ids) + j - 1]
                            lp += float(row[token] - torch.logsumexp(row[allowed], 0))
                    want.append(lp)
                want = torch.tensor(want)
                want = want - torch.logsumexp(want, 0)
            worst = max(worst, float((got - want).abs().max()))
        assert worst < 1e-4, f"the policy differs from constrained decoding by {worst:.2e}"
        e = exs[0]
        first = {a[0] for a in e.action_ids}
        assert len(first) > 1, "the tiny tokenizer should split the decisions at their first token"
        model.zero_grad()
        policy.action_logp(e, grad=True)[0].backward()
        grads = [p.grad.abs().sum() for n, p in model.named_parameters() if p.requires_grad and p.grad is not None]
        assert grads and float(sum(grads)) > 0, "no gradient reached the adapter"
        return f"{len(exs)} examples, {sum(len(e.actions) for e in exs)} actions, max |difference| {worst:.1e}; the decision gets a gradient"

    check("rewards come from the TypeScript server (right 1, wrong 0, invalid 0)", rewards_from_server)
    check("the CPU trainer's policy is constrained decoding's distribution (tiny model)", cpu_policy_is_constrained_decoding)
    check("CPU GRPO on per-fact decisions raises the expected reward (tiny model, fixed seeds)", cpu_grpo_learns)
    check("tiny random Llama and offline tokenizer", tiny_model)
    check("GRPO steps with server rewards, finite loss", grpo_steps if "model" in state else _skipped)
    check("GRPO checkpoint saves and reloads", grpo_checkpoint_reloads if "grpo" in state else _skipped)
    check("PPO steps with server rewards, finite loss, checkpoint", ppo_steps if "model" in state else _skipped)
    check("every reward request reached the server", server_counted_everything)
    passed = sum(1 for _, ok, _ in results if ok)
    failed = len(results) - passed
    print(f"training smoke: {passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 else 1


def _skipped():
    raise RuntimeError("skipped: an earlier step failed")


if __name__ == "__main__":
    sys.exit(main())
