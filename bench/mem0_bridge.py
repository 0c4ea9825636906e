#!/usr/bin/env python3
"""Drives the real mem0ai package (pinned 2.2.1) for `memory-r1 eval locomo --pipelines mem0`.

JSON lines over stdio: one request per line on stdin, one reply per line on stdout, in order.

  {"id": 1, "op": "open", "folder": ..., "user_id": ..., "base_url": "http://127.0.0.1:8089/v1",
   "model": ..., "api_key": ..., "embedding_base_url": ..., "embedding_model": ..., "embedding_dims": 384,
   "max_tokens": 1024}
      -> {"id": 1, "ok": true, "version": "2.2.1", "answer_prompt": <mem0.configs.prompts.MEMORY_ANSWER_PROMPT>}
  {"id": 2, "op": "add", "messages": [{"role": "user", "content": ...}], "time": "2023-05-08T13:56:00Z"}
      -> {"id": 2, "ok": true, "results": [{"id", "memory", "event"}], "llm_calls": [{"ms", "prompt_tokens",
          "completion_tokens"}], "history": [new rows of Mem0's SQLite history table]}
  {"id": 3, "op": "search", "query": ..., "top_k": 30} -> {"ok": true, "results": [{"id", "memory", "score",
          "created_at"}], "ms": ...}
  {"id": 4, "op": "history"} -> {"ok": true, "history": [every row of the history table]}
  {"id": 5, "op": "close"} -> {"ok": true}, then the process exits.

An error is {"id": n, "ok": false, "error": "..."}; the bridge keeps serving after it, except after a refused
connection (see below), when it replies and exits with status 3.

Privacy: MEM0_TELEMETRY must be false, and a socket guard installed before mem0 is imported refuses every
connection, DNS lookup and datagram to anything but loopback (127.0.0.0/8, ::1, localhost) and Unix sockets.
The endpoint itself must be loopback. A refused attempt is logged on stderr and aborts the bridge.

Event times: Mem0's open-source add() refuses a `timestamp`, so the bridge sets Mem0's clock to the event's
time during add (the `datetime` that mem0.memory.main, mem0.memory.storage and mem0.configs.prompts use):
the prompt's observation date and the memories' created_at are then the conversation's dates.
"""
from __future__ import annotations

import ipaddress
import json
import os
import socket
import sys
import time
import traceback

MEM0_VERSION = "2.2.1"

# ------------------------------------------------------------------ loopback-only socket guard

_violations: list[str] = []
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


def _is_loopback_host(host) -> bool:
    if host is None:
        return False
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    host = str(host).strip("[]").lower()
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _check_address(family, address, what: str) -> None:
    if family == getattr(socket, "AF_UNIX", object()):
        return
    host = address[0] if isinstance(address, tuple) and address else address
    if not _is_loopback_host(host):
        msg = f"mem0-bridge: refused {what} to {host!r}: only loopback is allowed"
        _violations.append(msg)
        print(msg, file=sys.stderr, flush=True)
        raise ConnectionRefusedError(msg)


def install_socket_guard() -> None:
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_sendto = socket.socket.sendto
    real_getaddrinfo = socket.getaddrinfo

    def connect(self, address):
        _check_address(self.family, address, "connect")
        return real_connect(self, address)

    def connect_ex(self, address):
        _check_address(self.family, address, "connect")
        return real_connect_ex(self, address)

    def sendto(self, data, *args):
        _check_address(self.family, args[-1], "sendto")
        return real_sendto(self, data, *args)

    def getaddrinfo(host, *args, **kwargs):
        # A name lookup for another host would already send a DNS query: refuse it before it leaves.
        if host is not None and not _is_loopback_host(host):
            _check_address(socket.AF_INET, (host, 0), "DNS lookup")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket.socket.sendto = sendto
    socket.getaddrinfo = getaddrinfo


# ------------------------------------------------------------------ Mem0's clock

_clock = {"base": None, "ticks": 0}


def install_clock() -> None:
    """Replaces the `datetime` class in Mem0's modules by one whose now() is the event time while it is set."""
    import datetime as dt

    import mem0.configs.prompts as prompts_mod
    import mem0.memory.main as main_mod
    import mem0.memory.storage as storage_mod

    class EventClock(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            base = _clock["base"]
            if base is None:
                return dt.datetime.now(tz)
            # Each reading moves on a microsecond, so rows written in one add keep their order.
            _clock["ticks"] += 1
            t = base + dt.timedelta(microseconds=_clock["ticks"])
            return t.astimezone(tz) if tz is not None else t.replace(tzinfo=None)

        @classmethod
        def utcnow(cls):
            return cls.now(dt.timezone.utc).replace(tzinfo=None)

    for mod in (main_mod, storage_mod, prompts_mod):
        mod.datetime = EventClock


def set_clock(iso: str | None) -> None:
    import datetime as dt

    if not iso:
        _clock["base"] = None
        return
    t = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    _clock["base"] = t
    _clock["ticks"] = 0


# ------------------------------------------------------------------ the bridge


class Bridge:
    def __init__(self) -> None:
        self.memory = None
        self.user_id = None
        self.calls: list[dict] = []
        self.history_seen = 0

    def open(self, req: dict) -> dict:
        from mem0 import Memory
        from mem0.configs.prompts import MEMORY_ANSWER_PROMPT

        base_url = req["base_url"]
        from urllib.parse import urlparse

        embedding_base_url = req.get("embedding_base_url") or base_url
        for url in (base_url, embedding_base_url):
            if not _is_loopback_host(urlparse(url).hostname):
                raise ValueError(f"the endpoint {url} is not on loopback; the mem0 bridge talks only to 127.0.0.1 / ::1 / localhost")
        folder = os.path.abspath(req["folder"])
        os.makedirs(folder, exist_ok=True)
        dims = int(req.get("embedding_dims") or 384)
        api_key = req.get("api_key") or "not-needed"
        config = {
            "llm": {
                "provider": "openai",
                "config": {
                    "model": req["model"],
                    "openai_base_url": base_url,
                    "api_key": api_key,
                    "temperature": 0,
                    "max_tokens": int(req.get("max_tokens") or 1024),
                },
            },
            "embedder": {
                "provider": "openai",
                "config": {
                    "model": req.get("embedding_model") or "embedder",
                    "openai_base_url": embedding_base_url,
                    "api_key": api_key,
                    "embedding_dims": dims,
                },
            },
            "vector_store": {
                "provider": "qdrant",
                "config": {
                    "collection_name": "mem0",
                    "path": os.path.join(folder, "qdrant"),
                    "embedding_model_dims": dims,
                    "on_disk": True,
                },
            },
            "history_db_path": os.path.join(folder, "history.db"),
        }
        self.memory = Memory.from_config(config)
        self.user_id = req["user_id"]
        self._meter(self.memory.llm.client)
        self.history_seen = len(self._history())
        import mem0

        return {"version": getattr(mem0, "__version__", MEM0_VERSION), "answer_prompt": MEMORY_ANSWER_PROMPT}

    def _meter(self, client) -> None:
        completions = client.chat.completions
        real_create = completions.create

        def create(*args, **kwargs):
            started = time.perf_counter()
            res = real_create(*args, **kwargs)
            usage = getattr(res, "usage", None)
            self.calls.append(
                {
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                    "prompt_tokens": getattr(usage, "prompt_tokens", 0) or 0,
                    "completion_tokens": getattr(usage, "completion_tokens", 0) or 0,
                }
            )
            return res

        completions.create = create

    def _history(self) -> list[dict]:
        db = self.memory.db
        with db._lock:
            cur = db.connection.execute(
                "SELECT id, memory_id, old_memory, new_memory, event, created_at, updated_at, is_deleted, actor_id, role"
                " FROM history ORDER BY created_at ASC, rowid ASC"
            )
            cols = [c[0] for c in cur.description]
            return [dict(zip(cols, row)) for row in cur.fetchall()]

    def add(self, req: dict) -> dict:
        self.calls = []
        set_clock(req.get("time"))
        try:
            res = self.memory.add(req["messages"], user_id=self.user_id, metadata=req.get("metadata") or None)
        finally:
            set_clock(None)
        rows = self._history()
        fresh = rows[self.history_seen :]
        self.history_seen = len(rows)
        return {"results": res.get("results", []), "llm_calls": self.calls, "history": fresh}

    def search(self, req: dict) -> dict:
        started = time.perf_counter()
        res = self.memory.search(req["query"], top_k=int(req.get("top_k") or 20), filters={"user_id": self.user_id})
        ms = (time.perf_counter() - started) * 1000
        out = [
            {"id": r.get("id"), "memory": r.get("memory"), "score": r.get("score"), "created_at": r.get("created_at")}
            for r in res.get("results", [])
        ]
        return {"results": out, "ms": round(ms, 1)}

    def history(self, req: dict) -> dict:
        return {"history": self._history()}

    def close(self, req: dict) -> dict:
        if self.memory is not None:
            try:
                self.memory.close()
            except Exception:
                pass
        return {}


def self_check() -> int:
    """Imports mem0 with the guard, checks the version and telemetry, opens a local Qdrant, and proves a refusal."""
    import tempfile

    if os.environ.get("MEM0_TELEMETRY", "").lower() not in ("false", "0", "no"):
        print("mem0-bridge: MEM0_TELEMETRY must be false", file=sys.stderr)
        return 1
    import mem0
    from mem0.memory import telemetry

    version = getattr(mem0, "__version__", None)
    from importlib.metadata import version as dist_version

    version = version or dist_version("mem0ai")
    if version != MEM0_VERSION:
        print(f"mem0-bridge: mem0ai {version} installed, {MEM0_VERSION} expected", file=sys.stderr)
        return 1
    if telemetry.MEM0_TELEMETRY:
        print("mem0-bridge: mem0 telemetry is on", file=sys.stderr)
        return 1
    install_clock()
    with tempfile.TemporaryDirectory() as d:
        b = Bridge()
        b.open({"folder": d, "user_id": "self-check", "base_url": "http://127.0.0.1:9/v1", "model": "m", "embedding_model": "e"})
        b.close({})
    try:
        socket.create_connection(("192.0.2.1", 80), timeout=1)  # TEST-NET-1: refused before any packet
        print("mem0-bridge: the socket guard let a non-loopback connection through", file=sys.stderr)
        return 1
    except ConnectionRefusedError:
        pass
    _violations.clear()
    print(f"mem0-bridge self-check: mem0ai {version}, telemetry off, local Qdrant opened, non-loopback refused", file=sys.stderr)
    return 0


def main() -> int:
    install_socket_guard()
    if os.environ.get("MEM0_TELEMETRY", "").lower() not in ("false", "0", "no"):
        # Set before mem0 is imported: its telemetry module reads it once.
        os.environ["MEM0_TELEMETRY"] = "false"
    os.environ.setdefault("MEM0_DIR", os.path.join(os.path.expanduser("~"), ".cache", "project-memory", "mem0-home"))
    if "--self-check" in sys.argv[1:]:
        return self_check()
    # Replies go to the real stdout; anything the package prints goes to stderr.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1, encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    import logging

    logging.basicConfig(level=os.environ.get("MEM0_BRIDGE_LOG", "WARNING"), stream=sys.stderr)
    try:
        install_clock()
    except Exception as e:  # noqa: BLE001
        out.write(json.dumps({"id": None, "ok": False, "error": f"cannot import mem0ai: {e}"}) + "\n")
        return 1
    bridge = Bridge()
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        rid = None
        try:
            req = json.loads(line)
            rid = req.get("id")
            op = req.get("op")
            handler = {"open": bridge.open, "add": bridge.add, "search": bridge.search, "history": bridge.history, "close": bridge.close}.get(op)
            if handler is None:
                raise ValueError(f"unknown op {op!r}")
            if op != "open" and op != "close" and bridge.memory is None:
                raise ValueError("open first")
            reply = {"id": rid, "ok": True, **handler(req)}
        except Exception as e:  # noqa: BLE001
            reply = {"id": rid, "ok": False, "error": f"{type(e).__name__}: {e}"}
            if os.environ.get("MEM0_BRIDGE_LOG") == "DEBUG":
                traceback.print_exc()
        if _violations:
            reply = {"id": rid, "ok": False, "error": _violations[0], "violation": True}
            out.write(json.dumps(reply) + "\n")
            return 3
        out.write(json.dumps(reply, default=str) + "\n")
        if reply.get("ok") and req.get("op") == "close":
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
