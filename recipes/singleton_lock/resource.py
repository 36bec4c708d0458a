"""The protected resource: a Redis-backed store that checks fencing tokens.

It stands for whatever the singleton job writes to (a database row, a file, an API that
accepts a version). It does two things a real resource should do and one only a test does:

* ``enter``/``write`` refuse a fence lower than the highest one seen (``StaleFence``);
* ``exit`` from a holder that is no longer the one inside is recorded as a late exit;
* every enter, exit, write and refusal is appended to one Redis list inside the same Lua
  call, so the event order is total and two holders inside at once are seen exactly.
  A new holder entering while an earlier one has not exited is counted as a ``takeover``:
  without crashes that count must stay 0.
"""

from __future__ import annotations

import json
from typing import Any

import redis

from recipes.singleton_lock import resource_keys
from recipes.singleton_lock.fenced_lock import LockLost

# KEYS: highest, current, events, counts. ARGV: holder, fence, job.
_ENTER = """
local fence = tonumber(ARGV[2])
local event = {holder=ARGV[1], fence=fence, job=ARGV[3]}
if fence <= tonumber(redis.call('get', KEYS[1]) or '0') then
  event['ev'] = 'refused-enter'
  redis.call('hincrby', KEYS[4], 'refused', 1)
  redis.call('rpush', KEYS[3], cjson.encode(event))
  return 0
end
local inside = redis.call('get', KEYS[2])
if inside then
  redis.call('hincrby', KEYS[4], 'takeovers', 1)
  redis.call('rpush', KEYS[3], cjson.encode({ev='takeover', from=inside, holder=ARGV[1]}))
end
redis.call('set', KEYS[1], fence)
redis.call('set', KEYS[2], ARGV[2] .. '|' .. ARGV[1])
redis.call('hincrby', KEYS[4], 'enters', 1)
event['ev'] = 'enter'
redis.call('rpush', KEYS[3], cjson.encode(event))
return 1
"""

# KEYS: current, events, counts. ARGV: holder, fence, job.
_EXIT = """
local event = {holder=ARGV[1], fence=tonumber(ARGV[2]), job=ARGV[3], ev='exit'}
if redis.call('get', KEYS[1]) == ARGV[2] .. '|' .. ARGV[1] then
  redis.call('del', KEYS[1])
  redis.call('hincrby', KEYS[3], 'exits', 1)
  redis.call('rpush', KEYS[2], cjson.encode(event))
  return 1
end
event['ev'] = 'late-exit'
redis.call('hincrby', KEYS[3], 'late_exits', 1)
redis.call('rpush', KEYS[2], cjson.encode(event))
return 0
"""

# KEYS: highest, value, events, counts. ARGV: holder, fence, job, value.
_WRITE = """
local fence = tonumber(ARGV[2])
local event = {holder=ARGV[1], fence=fence, job=ARGV[3]}
local highest = tonumber(redis.call('get', KEYS[1]) or '0')
if fence < highest then
  event['ev'] = 'refused-write'
  redis.call('hincrby', KEYS[4], 'refused', 1)
  redis.call('rpush', KEYS[3], cjson.encode(event))
  return 0
end
redis.call('set', KEYS[1], fence)
redis.call('set', KEYS[2], cjson.encode({value=ARGV[4], fence=fence, job=ARGV[3]}))
redis.call('hincrby', KEYS[4], 'writes', 1)
event['ev'] = 'write'
redis.call('rpush', KEYS[3], cjson.encode(event))
return 1
"""


class StaleFence(LockLost):
    """The resource has seen a newer fence: this holder's lease is over."""


class FencedStore:
    def __init__(self, client: redis.Redis, namespace: str, name: str = "report") -> None:
        self.client = client
        self.k = resource_keys(namespace, name)
        self._enter = client.register_script(_ENTER)
        self._exit = client.register_script(_EXIT)
        self._write = client.register_script(_WRITE)

    def enter(self, holder: str, fence: int, job: str) -> None:
        k = self.k
        if not self._enter(keys=[k["highest"], k["current"], k["events"], k["counts"]],
                           args=[holder, fence, job]):
            raise StaleFence(f"resource refused entry with fence {fence}: a newer one was seen")

    def exit(self, holder: str, fence: int, job: str) -> bool:
        k = self.k
        return bool(self._exit(keys=[k["current"], k["events"], k["counts"]],
                               args=[holder, fence, job]))

    def write(self, holder: str, fence: int, job: str, value: str) -> None:
        k = self.k
        if not self._write(keys=[k["highest"], k["value"], k["events"], k["counts"]],
                           args=[holder, fence, job, value]):
            raise StaleFence(f"resource refused a write with fence {fence}: a newer one was seen")

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(e) for e in self.client.lrange(self.k["events"], 0, -1)]

    def counts(self) -> dict[str, int]:
        raw: dict[bytes, bytes] = self.client.hgetall(self.k["counts"])  # type: ignore[assignment]
        return {k.decode(): int(v) for k, v in raw.items()}

    def value(self) -> dict[str, Any] | None:
        raw = self.client.get(self.k["value"])
        return None if raw is None else json.loads(raw)

    def open_gate(self, gate: str) -> None:
        """Let a job that waits on ``gate`` finish (demos and tests control job length)."""
        self.client.sadd(self.k["gates"], gate)

    def gate_open(self, gate: str) -> bool:
        return bool(self.client.sismember(self.k["gates"], gate))


def verify_exclusive(events: list[dict[str, Any]]) -> int:
    """Raise AssertionError at the first sign of two holders; return the completed runs.

    Exclusive means: enter and exit alternate, each exit is by the holder inside, and each
    enter carries a fence higher than every earlier one.
    """
    inside: dict[str, Any] | None = None
    last_fence, runs = 0, 0
    for n, event in enumerate(events):
        ev = event["ev"]
        if ev in ("takeover", "late-exit", "refused-enter", "refused-write"):
            raise AssertionError(f"event {n}: {ev} {event}")
        if ev == "enter":
            if inside is not None:
                raise AssertionError(f"event {n}: {event} entered while {inside} was inside")
            if event["fence"] <= last_fence:
                raise AssertionError(f"event {n}: fence {event['fence']} after {last_fence}")
            inside, last_fence = event, event["fence"]
        elif ev == "exit":
            if inside is None or inside["holder"] != event["holder"]:
                raise AssertionError(f"event {n}: {event} exited but {inside} was inside")
            inside, runs = None, runs + 1
    if inside is not None:
        raise AssertionError(f"{inside} never exited")
    return runs
