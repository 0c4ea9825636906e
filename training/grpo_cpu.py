"""GRPO with LoRA for the per-fact Memory Manager, sized for a CPU.

The per-fact protocol's answer is one of a few JSON strings: {"decision": REPLACES|NEW|SAME, "id": <a memory
shown>|none}, and the server decodes it under that schema. So the policy here is the model's distribution
restricted to those completions as constrained decoding samples it (at each token, the logits renormalised
over the tokens the schema allows), computed exactly with one forward pass over at most a dozen short
continuations of the prompt. GRPO samples a group from it, the
TypeScript engine scores each sample on a real bank (`memory-r1 reward --serve --decisions ...`), and the
update is the group-normalised policy gradient plus an exact KL to the frozen base over the same choices.

What makes it fit two cores: the prompt is read once per step without gradients (its shared system
part once per step for every example) and only its last token and the short continuations carry
gradients (the last token's logits choose the decision). That gradient treats the rest of the prompt's keys
and values as constants (the LoRA still acts on them, in the rollouts and at
serving time); on a GPU, training/train.py runs TRL's full GRPO instead.

    python training/grpo_cpu.py --gguf models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf \
        --reward-url http://127.0.0.1:8765 --out training/outputs/manager-0.5b --minutes 60
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import urllib.request
from pathlib import Path

import torch


def log(msg: str) -> None:
    print(f"[grpo-cpu {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def http_json(url: str, body: dict | None = None, timeout: float = 600) -> dict:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"content-type": "application/json"}, method="GET" if body is None else "POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            return json.loads(res.read())
    except urllib.error.HTTPError as err:  # the reward server explains itself in the body
        raise SystemExit(f"reward server {url}: HTTP {err.code}: {err.read().decode(errors='replace')[:500]}")
    except urllib.error.URLError as err:
        raise SystemExit(f"reward server {url} is not reachable ({err.reason}); start it with `memory-r1 reward --serve --decisions ...`")


def completion_text(decision: str, memory_id: str) -> str:
    # The schema's property order and the spacing the local server's constrained decoding writes.
    return json.dumps({"decision": decision, "id": memory_id})


class Example:
    def __init__(self, raw: dict, tok):
        self.id = raw["id"]
        self.category = raw["category"]
        self.prompt_ids = tok.apply_chat_template(raw["messages"], add_generation_prompt=True, tokenize=True)
        if isinstance(self.prompt_ids, dict) or hasattr(self.prompt_ids, "input_ids"):
            self.prompt_ids = self.prompt_ids["input_ids"]
        self.actions = [(d, i) for d in raw["decisions"] for i in raw["ids"]]
        self.texts = [completion_text(d, i) for d, i in self.actions]
        full = [tok(t, add_special_tokens=False)["input_ids"] for t in self.texts]
        # Tokens every action shares are forced by the schema: the head is read with the prompt, the tail
        # (the closing quote and brace) adds nothing to the choice.
        head = common_prefix(full)
        tail = common_prefix([list(reversed(a[head:])) for a in full])
        self.prompt_ids = list(self.prompt_ids) + full[0][:head]
        self.action_ids = [a[head : len(a) - tail] for a in full]
        self.forced_tokens = len(full[0]) - len(self.action_ids[0])
        # Per action, the positions where the actions branch: (position, its token, the tokens allowed there).
        # Elsewhere the schema allows one token, so the step is forced and adds nothing to the choice.
        self.branches: list[list[tuple[int, int, list[int]]]] = []
        for a in self.action_ids:
            here = []
            for j, token in enumerate(a):
                allowed = sorted({b[j] for b in self.action_ids if len(b) > j and b[:j] == a[:j]})
                if len(allowed) > 1:
                    here.append((j, token, allowed))
            self.branches.append(here)
        self.ref_logp: torch.Tensor | None = None
        self.rewards: dict[str, float] = {}


def shared_prefix_len(examples: list[Example]) -> int:
    """Tokens every prompt starts with, stopping at least two before any prompt ends: each example reads its own last token."""
    return min(common_prefix([e.prompt_ids for e in examples]), min(len(e.prompt_ids) for e in examples) - 2)


def common_prefix(seqs: list[list[int]]) -> int:
    n = min(len(s) for s in seqs)
    for k in range(n):
        if any(s[k] != seqs[0][k] for s in seqs):
            return k
    return n


def clone_cache(cache, batch: int = 1):
    from transformers.cache_utils import DynamicCache

    c = DynamicCache()
    for i, layer in enumerate(cache.layers):
        k, v = layer.keys, layer.values
        if batch > 1:
            k, v = k.expand(batch, -1, -1, -1).contiguous(), v.expand(batch, -1, -1, -1).contiguous()
        c.update(k, v, i)
    return c


class Policy:
    """The model's distribution over an example's schema-valid completions."""

    def __init__(self, model, pad_id: int, prefix_len: int, prefix_ids: list[int]):
        self.model = model
        self.pad_id = pad_id
        self.prefix_len = prefix_len
        self.prefix_ids = torch.tensor([prefix_ids])
        self.prefix_cache = None

    @torch.no_grad()
    def refresh_prefix(self) -> None:
        """The shared system prompt, read once per step with the current weights."""
        out = self.model(input_ids=self.prefix_ids, use_cache=True)
        self.prefix_cache = out.past_key_values

    @torch.no_grad()
    def read_prompt(self, ex: Example):
        """The example's own prompt after the shared prefix, all but its last token (read without gradients)."""
        cache = clone_cache(self.prefix_cache)
        rest = torch.tensor([ex.prompt_ids[self.prefix_len : -1]])
        out = self.model(input_ids=rest, past_key_values=cache, use_cache=True)
        return out.past_key_values

    def action_logp(self, ex: Example, grad: bool) -> torch.Tensor:
        """log pi(a | prompt) for every action, as constrained decoding samples it.

        Constrained decoding renormalises the logits over the tokens the schema allows at each step, so an
        action's probability is the product, over the positions where the actions branch, of its token's
        share among the allowed ones; where only one token is allowed, the step is forced and adds nothing.
        The prompt's last token is read with gradients: its logits choose the decision.

        The actions form a small tree (decision, then id): each decision's tokens are read once, then its
        ids on top of them, so a dozen actions cost about as much as four.
        """
        cache = self.read_prompt(ex)
        P = cache.get_seq_length()
        groups: dict[str, list[int]] = {}
        for k, (d, _) in enumerate(ex.actions):
            groups.setdefault(d, []).append(k)
        names = list(groups)
        heads = [ex.action_ids[groups[d][0]][: common_prefix([ex.action_ids[k] for k in groups[d]])] for d in names]
        step_logits: dict[tuple[int, int], torch.Tensor] = {}  # (action, position) -> the logits that choose that token
        with torch.set_grad_enabled(grad):
            ids1 = self._pad([[ex.prompt_ids[-1]] + h for h in heads])
            out1 = self.model(input_ids=ids1, past_key_values=clone_cache(cache, len(heads)), use_cache=True)
            for g, d in enumerate(names):
                members = groups[d]
                n_head = len(heads[g])
                for k in members:
                    for j in range(min(n_head + 1, len(ex.action_ids[k]))):
                        step_logits[(k, j)] = out1.logits[g, j]
                tails = [ex.action_ids[k][n_head:] for k in members]
                if all(len(t) <= 1 for t in tails):
                    continue
                sub = self._slice_cache(out1.past_key_values, g, P + 1 + n_head, len(members))
                ids2 = self._pad([t if t else [self.pad_id] for t in tails])
                out2 = self.model(input_ids=ids2, past_key_values=sub, use_cache=True)
                for m, k in enumerate(members):
                    for j in range(1, len(tails[m])):
                        step_logits[(k, n_head + j)] = out2.logits[m, j - 1]
            terms: list[list[torch.Tensor]] = [[] for _ in ex.actions]
            for k, branches in enumerate(ex.branches):
                for j, token, allowed in branches:
                    logits = step_logits[(k, j)].float()
                    terms[k].append(logits[token] - torch.logsumexp(logits[allowed], dim=0))
            seq = torch.stack([torch.stack(t).sum() if t else torch.zeros(()) for t in terms])
            return seq - torch.logsumexp(seq, dim=0)

    def _pad(self, seqs: list[list[int]]) -> torch.Tensor:
        # Right padding only follows the real tokens, so it never changes their logits.
        width = max(1, max(len(a) for a in seqs))
        ids = torch.full((len(seqs), width), self.pad_id, dtype=torch.long)
        for r, a in enumerate(seqs):
            ids[r, : len(a)] = torch.tensor(a, dtype=torch.long)
        return ids

    @staticmethod
    def _slice_cache(cache, row: int, length: int, batch: int):
        from transformers.cache_utils import DynamicCache

        c = DynamicCache()
        for i, layer in enumerate(cache.layers):
            c.update(layer.keys[row : row + 1, :, :length].expand(batch, -1, -1, -1), layer.values[row : row + 1, :, :length].expand(batch, -1, -1, -1), i)
        return c


def rewards_for(url: str, ex: Example, idx: list[int]) -> list[float]:
    todo = sorted({i for i in idx if ex.texts[i] not in ex.rewards})
    if todo:
        res = http_json(f"{url}/reward", {"items": [{"kind": "decision", "id": ex.id, "completion": ex.texts[i]} for i in todo]})
        for i, r in zip(todo, res["rewards"]):
            ex.rewards[ex.texts[i]] = float(r)
    return [ex.rewards[ex.texts[i]] for i in idx]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--gguf", help="the base model's GGUF file (dequantised by transformers)")
    src.add_argument("--hf-model", help="or a Hugging Face checkpoint folder (the smoke test's tiny model)")
    ap.add_argument("--reward-url", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--minutes", type=float, default=60, help="minutes of GRPO steps (then save); loading and the base pass come before")
    ap.add_argument("--max-steps", type=int, default=10_000)
    ap.add_argument("--prompts-per-step", type=int, default=8)
    ap.add_argument("--group", type=int, default=0, help="GRPO samples per prompt; 0 (default): the whole group, every action weighted by the policy")
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--beta", type=float, default=0.04, help="KL coefficient to the frozen base")
    ap.add_argument("--lora-r", type=int, default=8)
    ap.add_argument("--lora-alpha", type=float, default=16)
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--save-every", type=int, default=10)
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--limit", type=int, default=0, help="use only the first N examples (smoke runs)")
    ap.add_argument("--expected", action="store_true", help="also report the expected reward (every action scored) before and after")
    ap.add_argument("--final-eval", action="store_true", help="score the trained policy's greedy choice on every training example at the end (as long as the base pass)")
    args = ap.parse_args()

    random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    started = time.time()
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)

    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if args.gguf:
        gguf = Path(args.gguf).resolve()
        if not gguf.is_file():
            raise SystemExit(f"no GGUF at {gguf}: run `bash scripts/setup-models.sh` first")
        log(f"loading {gguf.name} (dequantised to fp32)")
        tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        base = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    else:
        gguf = Path(args.hf_model).resolve()
        tok = AutoTokenizer.from_pretrained(str(gguf))
        base = AutoModelForCausalLM.from_pretrained(str(gguf), dtype=torch.float32)
    targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    lora = LoraConfig(r=args.lora_r, lora_alpha=args.lora_alpha, lora_dropout=0.0, target_modules=targets, bias="none", task_type="CAUSAL_LM")
    model = get_peft_model(base, lora)
    model.eval()  # no dropout; gradients still flow
    log(f"loaded in {time.time() - started:.0f} s; trainable LoRA parameters {sum(p.numel() for p in model.parameters() if p.requires_grad) / 1e6:.2f}M")

    raw = http_json(f"{args.reward_url}/examples?kind=decision")["examples"]
    if args.limit:
        raw = raw[: args.limit]
    examples = [Example(r, tok) for r in raw]
    if not examples:
        raise SystemExit("the reward server has no decision examples")
    prefix_len = shared_prefix_len(examples)
    pad_id = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    policy = Policy(model, pad_id, prefix_len, examples[0].prompt_ids[:prefix_len])
    log(f"{len(examples)} examples; shared prompt prefix {prefix_len} tokens, rest {sum(len(e.prompt_ids) for e in examples) / len(examples) - prefix_len:.0f} on average")

    # The frozen base's distribution per example (for the KL, and the "before" figures).
    with model.disable_adapter():
        policy.refresh_prefix()
        for e in examples:
            with torch.no_grad():
                e.ref_logp = policy.action_logp(e, grad=False)
    base_greedy = [rewards_for(args.reward_url, e, [int(e.ref_logp.argmax())])[0] for e in examples]

    def expected(logps) -> float:
        # Every action scored: sum over actions of pi(a) R(a), averaged over the examples.
        total = 0.0
        for e, lp in zip(examples, logps):
            r = torch.tensor(rewards_for(args.reward_url, e, list(range(len(e.actions)))))
            total += float((lp.exp() * r).sum())
        return total / len(examples)

    base_expected = expected([e.ref_logp for e in examples]) if args.expected else None
    log(f"base model on these examples: greedy reward {sum(base_greedy) / len(base_greedy):.3f} ({time.time() - started:.0f} s)")

    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr, weight_decay=0.0)
    metrics = open(out_dir / "metrics.jsonl", "a")
    order: list[Example] = []
    deadline = time.time() + args.minutes * 60  # the training loop's budget (loading and the base pass come before)
    step = 0
    while step < args.max_steps and time.time() < deadline:
        step += 1
        t0 = time.time()
        policy.refresh_prefix()
        opt.zero_grad()
        rows = []
        for _ in range(args.prompts_per_step):
            if not order:
                order = examples[:]
                random.shuffle(order)
            ex = order.pop()
            logp = policy.action_logp(ex, grad=True)
            pi = logp.exp()
            if args.group > 0:
                # Sampled groups, as TRL's GRPO: G completions, advantages normalised within the group.
                probs = torch.softmax(logp.detach() / args.temperature, 0)
                idx = torch.multinomial(probs, args.group, replacement=True).tolist()
                r = torch.tensor(rewards_for(args.reward_url, ex, idx))
                no_signal = bool(r.std() == 0)
                adv = (r - r.mean()) / (r.std() + 1e-4) if not no_signal else torch.zeros_like(r)
                pg = -(adv * logp[idx]).mean()
                sampled_reward, lengths = float(r.mean()), [len(ex.action_ids[i]) + ex.forced_tokens for i in idx]
            else:
                # The whole group: every action, weighted by the policy, with GRPO's normalised advantage
                # (mean and spread under the policy). What sampled groups estimate, without their noise:
                # once the model is confident, 8 samples are mostly the same action and carry no signal.
                idx = list(range(len(ex.actions)))
                r = torch.tensor(rewards_for(args.reward_url, ex, idx))
                w = pi.detach()
                mean = (w * r).sum()
                std = torch.sqrt((w * (r - mean) ** 2).sum())
                no_signal = bool(std < 1e-6)
                adv = (r - mean) / (std + 1e-4) if not no_signal else torch.zeros_like(r)
                pg = -(w * adv * logp).sum()
                sampled_reward = float(mean)
                lengths = [float(sum(float(w[k]) * (len(a) + ex.forced_tokens) for k, a in enumerate(ex.action_ids)))]
            kl = (pi * (logp - ex.ref_logp)).sum()
            loss = (pg + args.beta * kl) / args.prompts_per_step
            loss.backward()
            greedy = int(logp.detach().argmax())
            rows.append(
                {
                    "reward": sampled_reward,
                    "greedy": rewards_for(args.reward_url, ex, [greedy])[0],
                    "kl": float(kl.detach()),
                    "len": sum(lengths) / len(lengths),
                    "zero_adv": no_signal,
                }
            )
        torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
        opt.step()
        m = {
            "step": step,
            "elapsed_s": round(time.time() - started, 1),
            "step_s": round(time.time() - t0, 1),
            "reward": sum(x["reward"] for x in rows) / len(rows),
            "greedy_reward": sum(x["greedy"] for x in rows) / len(rows),
            "kl": sum(x["kl"] for x in rows) / len(rows),
            "completion_tokens": sum(x["len"] for x in rows) / len(rows),
            "groups_without_signal": sum(x["zero_adv"] for x in rows),
        }
        metrics.write(json.dumps(m) + "\n")
        metrics.flush()
        log(f"step {step}: reward {m['reward']:.3f} greedy {m['greedy_reward']:.3f} kl {m['kl']:.4f} len {m['completion_tokens']:.1f} ({m['step_s']} s)")
        if step % args.save_every == 0:
            model.save_pretrained(out_dir / "adapter")
    model.save_pretrained(out_dir / "adapter")

    # After: the trained policy's greedy reward on the same examples (training data, not the test split).
    policy.refresh_prefix()
    after = []
    after_logp = []
    for e in examples if (args.final_eval or args.expected) else []:
        with torch.no_grad():
            lp = policy.action_logp(e, grad=False)
        after_logp.append(lp)
        after.append(rewards_for(args.reward_url, e, [int(lp.argmax())])[0])
    summary = {
        "steps": step,
        "minutes": round((time.time() - started) / 60, 1),
        "examples": len(examples),
        "base_greedy_reward": sum(base_greedy) / len(base_greedy),
        "trained_greedy_reward": sum(after) / len(after) if after else None,
        **({"base_expected_reward": base_expected, "trained_expected_reward": expected(after_logp)} if args.expected else {}),
        "config": vars(args) | {"model_file": gguf.name, "targets": targets},
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=1))
    trained = f"{summary['trained_greedy_reward']:.3f}" if after else "(not scored: pass --final-eval)"
    log(f"done: {step} steps in {summary['minutes']} min; greedy reward on the training examples {summary['base_greedy_reward']:.3f} -> {trained}; adapter in {out_dir / 'adapter'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
