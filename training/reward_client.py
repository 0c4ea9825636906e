"""HTTP client for the TypeScript reward server (`memory-r1 reward --serve`)."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any, Callable, Sequence


class RewardServerError(RuntimeError):
    """The reward server refused or failed a batch; training must stop rather than learn from fake zeros."""


class RewardClient:
    def __init__(self, url: str, batch_size: int = 64, timeout_s: float = 900.0):
        self.url = url.rstrip("/")
        self.batch_size = max(1, batch_size)
        self.timeout_s = timeout_s
        self.calls = 0
        self.scored = 0
        self.history: list[float] = []

    def _post(self, path: str, payload: Any) -> Any:
        req = urllib.request.Request(
            self.url + path,
            data=json.dumps(payload).encode("utf-8"),
            headers={"content-type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as res:
                return json.loads(res.read().decode("utf-8"))
        except urllib.error.HTTPError as err:
            body = err.read().decode("utf-8", "replace")
            try:
                body = json.loads(body).get("error", body)
            except ValueError:
                pass
            raise RewardServerError(f"reward server answered {err.code}: {body}") from None
        except urllib.error.URLError as err:
            raise RewardServerError(f"cannot reach the reward server at {self.url}: {err.reason}") from None

    def health(self) -> dict:
        with urllib.request.urlopen(self.url + "/health", timeout=30) as res:
            return json.loads(res.read().decode("utf-8"))

    def score(self, kind: str, ids: Sequence[str], completions: Sequence[str]) -> tuple[list[float], list[dict]]:
        """Rewards (and per-item details) for completions of the examples `ids`, in batches."""
        if len(ids) != len(completions):
            raise ValueError("ids and completions differ in length")
        rewards: list[float] = []
        details: list[dict] = []
        for start in range(0, len(ids), self.batch_size):
            items = [
                {"kind": kind, "id": i, "completion": c}
                for i, c in zip(ids[start : start + self.batch_size], completions[start : start + self.batch_size])
            ]
            out = self._post("/reward", {"items": items})
            got = out.get("rewards")
            if not isinstance(got, list) or len(got) != len(items):
                raise RewardServerError(f"reward server returned {len(got) if isinstance(got, list) else 'no'} rewards for {len(items)} items")
            rewards.extend(float(r) for r in got)
            details.extend(out.get("results") or [{}] * len(items))
            self.calls += 1
        self.scored += len(rewards)
        self.history.extend(rewards)
        return rewards, details


def completion_text(completion: Any) -> str:
    """TRL passes conversational completions as message lists and plain ones as strings."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list) and completion and isinstance(completion[-1], dict):
        return str(completion[-1].get("content", ""))
    return str(completion)


def make_reward_func(client: RewardClient, kind: str) -> Callable[..., list[float]]:
    """A TRL reward function: `(prompts, completions, id=[...], **kwargs) -> rewards` from the server."""

    def reward(prompts, completions, id=None, **kwargs) -> list[float]:  # noqa: A002 - TRL passes dataset columns by name
        if id is None:
            raise RewardServerError("the dataset has no 'id' column; the reward server needs example ids")
        rewards, _ = client.score(kind, list(id), [completion_text(c) for c in completions])
        return rewards

    reward.__name__ = f"memory_r1_{kind}_exact_match"
    return reward
