"""Loads the JSONL training data written by `memory-r1 build-training-data`."""
from __future__ import annotations

import json
import os

from datasets import Dataset


def read_jsonl(path: str) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except ValueError as err:
                    raise ValueError(f"{path}:{n}: not valid JSON ({err})") from None
    return rows


def load_decisions(reward_url: str, limit: int | None = None) -> Dataset:
    """The per-fact decision examples (their exact prompts) from a reward server started with --decisions."""
    import urllib.request

    with urllib.request.urlopen(f"{reward_url.rstrip('/')}/examples?kind=decision", timeout=600) as res:
        rows = json.loads(res.read())["examples"]
    if limit:
        rows = rows[:limit]
    if not rows:
        raise ValueError(f"the reward server at {reward_url} has no decision examples")
    return Dataset.from_list([{"prompt": r["messages"], "id": r["id"], "kind": "decision"} for r in rows])


def load_split(data_dir: str, split: str, role: str, limit: int | None = None) -> Dataset:
    """A dataset with `prompt` (chat messages), `id` (for the reward server) and `kind` columns."""
    if role not in ("manager", "answer"):
        raise ValueError(f"role must be 'manager' or 'answer', got {role!r}")
    meta_path = os.path.join(data_dir, "meta.json")
    if not os.path.exists(meta_path):
        raise FileNotFoundError(f"{meta_path} not found: build the data with `memory-r1 build-training-data --out {data_dir}`")
    path = os.path.join(data_dir, split, f"{role}.jsonl")
    rows = read_jsonl(path)
    if limit:
        rows = rows[:limit]
    if not rows:
        raise ValueError(f"{path} has no examples")
    return Dataset.from_list([{"prompt": r["prompt"], "id": r["id"], "kind": role} for r in rows])
