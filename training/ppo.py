"""PPO for the Memory-R1 agents (actor-critic, token-level GAE, KL penalty to the frozen reference).

TRL 1.x no longer ships a PPO trainer, so this is a compact one on plain PyTorch + transformers. The
sequence reward (exact match from the TypeScript reward server) is given at the last completion token.
"""
from __future__ import annotations

import json
import math
import os
import random
from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from transformers import AutoModel, AutoModelForCausalLM, PreTrainedTokenizerBase


@dataclass
class PPOSettings:
    actor_learning_rate: float = 1e-6
    critic_learning_rate: float = 1e-5
    batch_size: int = 128  # prompts per PPO update (rollout batch)
    mini_batch_size: int = 32
    micro_batch_size: int = 8  # sequences per forward/backward pass
    ppo_epochs: int = 1
    clip_range: float = 0.2
    value_clip_range: float = 0.2
    gamma: float = 1.0
    lam: float = 0.95
    kl_coef: float = 0.001
    temperature: float = 1.0
    top_p: float = 1.0
    max_completion_length: int = 512
    max_steps: int = 100
    max_grad_norm: float = 1.0
    logging_steps: int = 1
    save_steps: int = 0
    seed: int = 42
    bf16: bool = False
    gradient_checkpointing: bool = False
    extra: dict = field(default_factory=dict)


class Critic(torch.nn.Module):
    """The base model's transformer with a scalar value head."""

    def __init__(self, model_path: str, dtype: torch.dtype):
        super().__init__()
        self.backbone = AutoModel.from_pretrained(model_path, dtype=dtype)
        hidden = self.backbone.config.hidden_size
        self.value_head = torch.nn.Linear(hidden, 1, dtype=torch.float32)
        torch.nn.init.zeros_(self.value_head.weight)
        torch.nn.init.zeros_(self.value_head.bias)

    def forward(self, input_ids, attention_mask):
        out = self.backbone(input_ids=input_ids, attention_mask=attention_mask)
        return self.value_head(out.last_hidden_state.float()).squeeze(-1)


def _token_logprobs(model, input_ids, attention_mask, temperature: float) -> torch.Tensor:
    logits = model(input_ids=input_ids, attention_mask=attention_mask).logits[:, :-1].float() / temperature
    return torch.gather(F.log_softmax(logits, dim=-1), 2, input_ids[:, 1:].unsqueeze(-1)).squeeze(-1)


def _masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return (x * mask).sum() / mask.sum().clamp(min=1)


def _whiten(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    mean = _masked_mean(x, mask)
    var = _masked_mean((x - mean) ** 2, mask)
    return (x - mean) * torch.rsqrt(var + 1e-8) * mask


def train_ppo(
    actor,
    ref_model,
    critic: Critic,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[list[dict]],
    ids: Sequence[str],
    score: Callable[[list[str], list[str]], list[float]],
    settings: PPOSettings,
    output_dir: str,
) -> list[dict]:
    """Runs PPO; returns the log history. `score(ids, completions)` returns one reward per completion."""
    device = next(actor.parameters()).device
    rng = random.Random(settings.seed)
    torch.manual_seed(settings.seed)
    actor_opt = torch.optim.AdamW([p for p in actor.parameters() if p.requires_grad], lr=settings.actor_learning_rate)
    critic_opt = torch.optim.AdamW(critic.parameters(), lr=settings.critic_learning_rate)
    tokenizer.padding_side = "left"
    eos_id = tokenizer.eos_token_id
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos_id
    order = list(range(len(prompts)))
    history: list[dict] = []
    cursor = len(order)
    for step in range(1, settings.max_steps + 1):
        batch_idx = []
        while len(batch_idx) < min(settings.batch_size, len(order)):
            if cursor >= len(order):
                rng.shuffle(order)
                cursor = 0
            batch_idx.append(order[cursor])
            cursor += 1
        texts = [tokenizer.apply_chat_template(prompts[i], tokenize=False, add_generation_prompt=True) for i in batch_idx]

        # ---- rollouts (sampled at the rollout temperature)
        actor.eval()
        seqs, masks, comp_masks, completions = [], [], [], []
        for s in range(0, len(texts), settings.micro_batch_size):
            enc = tokenizer(texts[s : s + settings.micro_batch_size], return_tensors="pt", padding=True, add_special_tokens=False).to(device)
            with torch.no_grad():
                out = actor.generate(
                    **enc,
                    do_sample=True,
                    temperature=settings.temperature,
                    top_p=settings.top_p,
                    max_new_tokens=settings.max_completion_length,
                    pad_token_id=pad_id,
                    eos_token_id=eos_id,
                )
            plen = enc["input_ids"].shape[1]
            gen = out[:, plen:]
            # Keep tokens up to and including the first EOS.
            is_eos = gen == eos_id
            after_eos = (is_eos.cumsum(dim=1) - is_eos.long()) > 0
            cmask = (~after_eos).long()
            amask = torch.cat([enc["attention_mask"], cmask], dim=1)
            full_cmask = torch.cat([torch.zeros_like(enc["attention_mask"]), cmask], dim=1)
            for r in range(out.shape[0]):
                seqs.append(out[r])
                masks.append(amask[r])
                comp_masks.append(full_cmask[r])
                completions.append(tokenizer.decode(gen[r][cmask[r].bool()], skip_special_tokens=True))
        rewards = torch.tensor(score([ids[i] for i in batch_idx], completions), dtype=torch.float32, device=device)

        width = max(x.shape[0] for x in seqs)
        def pad_left(xs, value):
            return torch.stack([F.pad(x, (width - x.shape[0], 0), value=value) for x in xs])
        input_ids = pad_left(seqs, pad_id)
        attn = pad_left(masks, 0)
        action_mask = pad_left(comp_masks, 0)[:, 1:].float()  # aligned with next-token log-probs

        # ---- old log-probs, reference log-probs, values
        with torch.no_grad():
            old_lp, ref_lp, values = [], [], []
            for s in range(0, input_ids.shape[0], settings.micro_batch_size):
                sl = slice(s, s + settings.micro_batch_size)
                old_lp.append(_token_logprobs(actor, input_ids[sl], attn[sl], settings.temperature))
                ref_lp.append(_token_logprobs(ref_model, input_ids[sl], attn[sl], settings.temperature))
                values.append(critic(input_ids[sl], attn[sl])[:, :-1])
            old_lp, ref_lp, values = torch.cat(old_lp), torch.cat(ref_lp), torch.cat(values)
            kl = (old_lp - ref_lp) * action_mask
            token_rewards = -settings.kl_coef * kl
            last = (action_mask * torch.arange(action_mask.shape[1], device=device)).argmax(dim=1)
            token_rewards[torch.arange(len(last)), last] += rewards
            advantages = torch.zeros_like(token_rewards)
            gae = torch.zeros(token_rewards.shape[0], device=device)
            for t in reversed(range(token_rewards.shape[1])):
                next_v = values[:, t + 1] * action_mask[:, t + 1] if t + 1 < token_rewards.shape[1] else torch.zeros_like(gae)
                delta = token_rewards[:, t] + settings.gamma * next_v - values[:, t]
                gae = (delta + settings.gamma * settings.lam * gae) * action_mask[:, t]
                advantages[:, t] = gae
            returns = advantages + values
            advantages = _whiten(advantages, action_mask)

        # ---- PPO updates
        actor.train()
        critic.train()
        stats = {"policy_loss": 0.0, "value_loss": 0.0, "clipfrac": 0.0, "updates": 0}
        n = input_ids.shape[0]
        for _ in range(settings.ppo_epochs):
            perm = torch.randperm(n, device=device)
            for m in range(0, n, settings.mini_batch_size):
                mb = perm[m : m + settings.mini_batch_size]
                actor_opt.zero_grad()
                critic_opt.zero_grad()
                for s in range(0, len(mb), settings.micro_batch_size):
                    ix = mb[s : s + settings.micro_batch_size]
                    am = action_mask[ix]
                    weight = len(ix) / len(mb)
                    lp = _token_logprobs(actor, input_ids[ix], attn[ix], settings.temperature)
                    ratio = torch.exp(lp - old_lp[ix])
                    adv = advantages[ix]
                    pg = torch.max(-adv * ratio, -adv * ratio.clamp(1 - settings.clip_range, 1 + settings.clip_range))
                    policy_loss = _masked_mean(pg, am)
                    v = critic(input_ids[ix], attn[ix])[:, :-1]
                    v_clipped = values[ix] + (v - values[ix]).clamp(-settings.value_clip_range, settings.value_clip_range)
                    value_loss = 0.5 * _masked_mean(torch.max((v - returns[ix]) ** 2, (v_clipped - returns[ix]) ** 2), am)
                    ((policy_loss + value_loss) * weight).backward()
                    stats["policy_loss"] += policy_loss.item() * weight
                    stats["value_loss"] += value_loss.item() * weight
                    stats["clipfrac"] += _masked_mean(((ratio - 1).abs() > settings.clip_range).float(), am).item() * weight
                torch.nn.utils.clip_grad_norm_([p for p in actor.parameters() if p.requires_grad], settings.max_grad_norm)
                torch.nn.utils.clip_grad_norm_(critic.parameters(), settings.max_grad_norm)
                actor_opt.step()
                critic_opt.step()
                stats["updates"] += 1
        u = max(1, stats.pop("updates"))
        entry = {
            "step": step,
            "reward_mean": rewards.mean().item(),
            "reward_std": rewards.std(unbiased=False).item(),
            "kl": (kl.sum(1) / action_mask.sum(1).clamp(min=1)).mean().item(),
            "completion_length": action_mask.sum(1).mean().item(),
            **{k: v / u for k, v in stats.items()},
        }
        entry["loss"] = entry["policy_loss"] + entry["value_loss"]
        if not math.isfinite(entry["loss"]):
            raise FloatingPointError(f"PPO loss is not finite at step {step}: {entry}")
        history.append(entry)
        if settings.logging_steps and step % settings.logging_steps == 0:
            print(json.dumps(entry), flush=True)
        if settings.save_steps and step % settings.save_steps == 0:
            save_ppo(actor, critic, tokenizer, os.path.join(output_dir, f"checkpoint-{step}"))
    return history


def save_ppo(actor, critic: Critic, tokenizer, out_dir: str) -> None:
    os.makedirs(out_dir, exist_ok=True)
    actor.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    critic_dir = os.path.join(out_dir, "critic")
    os.makedirs(critic_dir, exist_ok=True)
    torch.save(critic.state_dict(), os.path.join(critic_dir, "critic.pt"))


def load_reference(model_path: str, dtype: torch.dtype, device) -> torch.nn.Module:
    ref = AutoModelForCausalLM.from_pretrained(model_path, dtype=dtype).to(device)
    ref.eval()
    for p in ref.parameters():
        p.requires_grad_(False)
    return ref
