"""Read-only views of a Dramatiq Redis namespace, with secrets redacted."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from typing import Any

import redis

from common.deadletter import DeadLetterStore

SECRET_NAME = re.compile(r"pass(word)?|secret|token|api[_-]?key|authorization|credential", re.I)
REDACTED = "***"
SKIP_SUFFIXES = (".DQ.msgs", ".XQ.msgs")


def redact(value: Any) -> Any:
    """Mask values stored under secret-looking keys, at any depth."""
    if isinstance(value, dict):
        return {k: REDACTED if SECRET_NAME.search(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def _s(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class Snapshot:
    def __init__(self, client: redis.Redis, namespace: str, *,
                 heartbeat_timeout_ms: int = 15_000) -> None:
        self.client = client
        self.ns = namespace
        self.heartbeat_timeout_ms = heartbeat_timeout_ms
        self.dead = DeadLetterStore(client, namespace)

    def queue_names(self) -> list[str]:
        names: set[str] = set()
        prefix = f"{self.ns}:"
        for key in self.client.scan_iter(match=f"{prefix}*.msgs", count=1000):
            name = _s(key)[len(prefix):]
            if name.endswith(SKIP_SUFFIXES) or ":" in name:
                continue
            names.add(name[: -len(".msgs")])
        names |= set(self.in_flight())
        names |= {letter.queue for letter in self.dead.recent(limit=1000)}
        return sorted(names)

    def in_flight(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for key in self.client.scan_iter(match=f"{self.ns}:__acks__.*", count=1000):
            rest = _s(key).split("__acks__.", 1)[1]  # <broker id>.<queue>[.DQ]
            queue = rest.split(".", 1)[1]
            if queue.endswith(".DQ"):
                queue = queue[:-3]  # delayed messages held in a worker's memory
            counts[queue] += int(self.client.scard(key))
        return counts

    def queues(self) -> list[dict[str, Any]]:
        dead = Counter(letter.queue for letter in self.dead.recent(limit=10_000))
        flying = self.in_flight()
        rows = []
        for name in self.queue_names():
            base = f"{self.ns}:{name}"
            rows.append({
                "name": name,
                "waiting": int(self.client.llen(base)),
                "delayed": int(self.client.hlen(f"{base}.DQ.msgs")),
                "in_flight": flying[name],
                "dead": dead[name],
            })
        return rows

    def waiting(self, queue: str, limit: int = 50) -> list[dict[str, Any]]:
        base = f"{self.ns}:{queue}"
        ids = self.client.lrange(base, 0, limit - 1)
        raw = self.client.hmget(f"{base}.msgs", ids) if ids else []
        jobs = []
        for item in raw:
            if item is None:
                continue
            try:
                data = json.loads(item)
            except ValueError:
                jobs.append({"undecodable": True})
                continue
            jobs.append({"id": data.get("message_id"), "actor": data.get("actor_name"),
                         "args": redact(data.get("args")), "kwargs": redact(data.get("kwargs")),
                         "enqueued_at_ms": data.get("message_timestamp")})
        return jobs

    def workers(self) -> list[dict[str, Any]]:
        now = time.time() * 1000
        beats: list[tuple[bytes, float]] = self.client.zrange(  # type: ignore[assignment]
            f"{self.ns}:__heartbeats__", 0, -1, withscores=True)
        return [{"id": _s(member), "last_seen_ms": int(score),
                 "alive": now - score < self.heartbeat_timeout_ms} for member, score in beats]

    def redis_info(self) -> dict[str, Any]:
        info: dict[str, Any] = self.client.info()
        keys = ("redis_version", "used_memory_human", "used_memory_peak_human",
                "maxmemory_policy", "aof_enabled", "connected_clients", "uptime_in_seconds")
        return {k: info.get(k) for k in keys}

    def dead_letters(self, limit: int = 100) -> list[dict[str, Any]]:
        out = []
        for letter in self.dead.recent(limit=limit):
            row = letter.model_dump(exclude={"raw"})
            row["message"] = redact(row["message"])
            out.append(row)
        return out
