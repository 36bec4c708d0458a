"""Which scheduler replicas are alive: a heartbeat per replica in one Redis hash.

Only for operators and tests (nothing depends on it for correctness: the claims do).
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from typing import Any

import redis

from recipes.recurring_cron import REPLICA_STALE_S, keys


class Replicas:
    def __init__(self, client: redis.Redis, namespace: str, replica_id: str | None = None) -> None:
        self.client = client
        self.key = keys(namespace)["replicas"]
        self.replica_id = replica_id or (
            f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:4]}")
        self.started_ms = int(time.time() * 1000)

    def beat(self, *, version: int) -> None:
        """``version``: the schedule version this replica has applied (tests wait on it)."""
        now = int(time.time() * 1000)
        entry = {"pid": os.getpid(), "started_ms": self.started_ms, "seen_ms": now,
                 "version": version}
        self.client.hset(self.key, self.replica_id, json.dumps(entry))
        for rid, info in self.live(include_stale=True).items():
            if now - info["seen_ms"] > REPLICA_STALE_S * 1000:
                self.client.hdel(self.key, rid)

    def leave(self) -> None:
        self.client.hdel(self.key, self.replica_id)

    def live(self, *, include_stale: bool = False) -> dict[str, dict[str, Any]]:
        now = int(time.time() * 1000)
        raw: dict[bytes, bytes] = self.client.hgetall(self.key)  # type: ignore[assignment]
        out = {k.decode(): json.loads(v) for k, v in raw.items()}
        if include_stale:
            return out
        return {k: v for k, v in out.items() if now - v["seen_ms"] <= REPLICA_STALE_S * 1000}
