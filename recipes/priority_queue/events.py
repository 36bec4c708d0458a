"""A bounded log of job starts and ends in Redis, in one total order.

Each event is one Lua call: ``INCR`` a clock, count the start per level, ``RPUSH`` the
event with its clock value ``n``. Because the clock is a single counter, "how many low
jobs started between the moment an urgent job was sent and the moment it started" is an
exact count: read ``clock()`` before sending, then count low starts with ``n`` in between.
The log keeps the newest ``event_log_max`` entries; the per-level counters are never trimmed.
"""

from __future__ import annotations

import json
import os
import time
from typing import Literal

import redis
from pydantic import BaseModel

from recipes.priority_queue import keys

_RECORD = """
local n = redis.call('incr', KEYS[1])
if ARGV[1] == 'start' then redis.call('hincrby', KEYS[2], ARGV[2], 1) end
local max = tonumber(ARGV[6])
if max > 0 then
  redis.call('rpush', KEYS[3], cjson.encode({n = n, kind = ARGV[1], level = ARGV[2],
                                             id = ARGV[3], pid = tonumber(ARGV[4]),
                                             ts = tonumber(ARGV[5])}))
  if redis.call('llen', KEYS[3]) > max then redis.call('ltrim', KEYS[3], -max, -1) end
end
return n
"""

Kind = Literal["start", "end"]


class Event(BaseModel):
    n: int  # position in the total order of events
    kind: Kind
    level: str
    id: str  # Dramatiq message id (stable across retries)
    pid: int  # worker process
    ts: float  # worker's wall clock, ms (for benches, never for proofs)


class EventLog:
    def __init__(self, client: redis.Redis, namespace: str, *, max_events: int) -> None:
        self.client = client
        self.keys = keys(namespace)
        self.max_events = max_events
        self._record = client.register_script(_RECORD)

    def record(self, kind: Kind, level: str, message_id: str) -> int:
        k = self.keys
        return int(self._record(keys=[k["clock"], k["starts"], k["events"]],
                                args=[kind, level, message_id, os.getpid(),
                                      round(time.time() * 1000, 3), self.max_events]))

    def clock(self) -> int:
        """The ``n`` of the latest event: read it before a send to count what starts after."""
        return int(self.client.get(self.keys["clock"]) or 0)

    def starts(self, level: str) -> int:
        return int(self.client.hget(self.keys["starts"], level) or 0)

    def events(self) -> list[Event]:
        raw: list[bytes] = self.client.lrange(self.keys["events"], 0, -1)  # type: ignore[assignment]
        return [Event.model_validate(json.loads(item)) for item in raw]

    def clear(self) -> None:
        self.client.delete(*self.keys.values())


def started(events: list[Event], level: str | None = None) -> list[Event]:
    return [e for e in events if e.kind == "start" and (level is None or e.level == level)]


def overtakers(events: list[Event], message_id: str, *, sent_after: int, level: str) -> int:
    """How many ``level`` jobs started after clock ``sent_after`` and before ``message_id``."""
    mine = next(e.n for e in started(events) if e.id == message_id)
    return sum(1 for e in started(events, level) if sent_after < e.n < mine)


def max_running(events: list[Event], level: str, *, since: int = 0) -> dict[int, int]:
    """Per worker process, the most ``level`` jobs running at once at events ``n >= since``.

    Needs the log from the first start of those jobs (a trimmed log undercounts).
    """
    running: dict[int, int] = {}
    peak: dict[int, int] = {}
    for e in sorted(events, key=lambda e: e.n):
        if e.level != level:
            continue
        running[e.pid] = running.get(e.pid, 0) + (1 if e.kind == "start" else -1)
        if e.n >= since:
            peak[e.pid] = max(peak.get(e.pid, 0), running[e.pid])
    return peak
