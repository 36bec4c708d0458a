"""Per-tick claims: of all replicas that fire a tick, exactly one enqueues it.

A tick is (schedule id, fire time). Firing it is two steps, each one Lua call:

1. ``claim``: ``SET claim:<tick> pending:<replica> NX PX lease`` and note the tick in the
   ``pending`` zset. The one replica whose SET succeeds goes on; the others stop here.
2. ``confirm`` (after the message is enqueued): the claim becomes ``sent:<replica>``, kept
   ``grace + CLAIM_KEEP_S`` so a late or clock-skewed replica still finds it; the tick
   leaves ``pending`` and ``last_fire`` moves forward.

A replica killed between 1 and 2 leaves a pending tick whose lease runs out; ``sweep``
on any live replica claims it again and enqueues it. The only duplicate left is a replica
that enqueued but stalled past the lease before confirming: the message id is derived
from the tick id, and the sample actor de-duplicates on the tick id (``common.idempotency``).
"""

from __future__ import annotations

import time

import redis

from recipes.recurring_cron import CLAIM_LEASE_MS, claim_key, keys, tick_id

# KEYS: claim, pending, last_fire. ARGV: owner, lease_ms, tick_id, now_ms, schedule_id.
# Returns the schedule's last sent fire ms (>= 0) if claimed, -1 if another replica has it.
_CLAIM = """
if redis.call('set', KEYS[1], 'pending:' .. ARGV[1], 'NX', 'PX', ARGV[2]) then
  redis.call('zadd', KEYS[2], ARGV[4], ARGV[3])
  return tonumber(redis.call('hget', KEYS[3], ARGV[5]) or '0')
end
return -1
"""

# KEYS: claim, pending, last_fire. ARGV: owner, keep_s, tick_id, schedule_id, fire_ms.
# Returns 1, or 0 when another replica re-claimed the tick after our lease ran out.
_CONFIRM = """
local v = redis.call('get', KEYS[1])
if v and v ~= 'pending:' .. ARGV[1] and string.sub(v, 1, 8) == 'pending:' then return 0 end
redis.call('set', KEYS[1], 'sent:' .. ARGV[1], 'EX', ARGV[2])
redis.call('zrem', KEYS[2], ARGV[3])
local last = tonumber(redis.call('hget', KEYS[3], ARGV[4]) or '0')
if tonumber(ARGV[5]) > last then redis.call('hset', KEYS[3], ARGV[4], ARGV[5]) end
return 1
"""


class TickLedger:
    def __init__(self, client: redis.Redis, namespace: str, *,
                 lease_ms: int = CLAIM_LEASE_MS) -> None:
        self.client = client
        self.namespace = namespace
        self.keys = keys(namespace)
        self.lease_ms = lease_ms
        self._claim = client.register_script(_CLAIM)
        self._confirm = client.register_script(_CONFIRM)

    def _keys(self, tick: str) -> list[str]:
        return [claim_key(self.namespace, tick), self.keys["pending"], self.keys["last_fire"]]

    def claim(self, schedule_id: str, tick: str, owner: str) -> int | None:
        """Claim ``tick`` for ``owner``: the schedule's last sent fire ms, or None if taken."""
        got = int(self._claim(keys=self._keys(tick),
                              args=[owner, self.lease_ms, tick, int(time.time() * 1000),
                                    schedule_id]))
        return None if got < 0 else got

    def confirm(self, schedule_id: str, tick: str, owner: str, *, fire_ms: int,
                keep_s: int) -> bool:
        return bool(self._confirm(keys=self._keys(tick),
                                  args=[owner, keep_s, tick, schedule_id, fire_ms]))

    def abandoned(self) -> list[str]:
        """Ticks claimed longer than a lease ago and never confirmed."""
        cutoff = int(time.time() * 1000) - self.lease_ms
        raw: list[bytes] = self.client.zrangebyscore(self.keys["pending"], "-inf", cutoff)  # type: ignore[assignment]
        return [t.decode() for t in raw]

    def drop(self, schedule_id: str, tick: str, *, missed: bool) -> None:
        """Forget a pending tick (schedule gone, or later than its grace: counted missed)."""
        # The ZREM decides which sweeping replica counts it, so it is counted once.
        if self.client.zrem(self.keys["pending"], tick) and missed:
            self.client.hincrby(self.keys["missed"], schedule_id, 1)

    def mark_missed(self, schedule_id: str, tick: str, *, keep_s: int) -> bool:
        """Record a tick as dropped for lateness; only the first replica's call counts it."""
        if self.client.set(claim_key(self.namespace, tick), "missed", nx=True, ex=keep_s):
            self.client.hincrby(self.keys["missed"], schedule_id, 1)
            return True
        return False

    def count_unclaimed(self, schedule_id: str, fire_times: list[int]) -> int:
        """How many of these ticks no replica claimed or sent (dropped ones count too)."""
        pipe = self.client.pipeline(transaction=False)
        for fire_ms in fire_times:
            pipe.get(claim_key(self.namespace, tick_id(schedule_id, fire_ms)))
        states = pipe.execute()
        return sum(1 for v in states if v is None or not v.startswith((b"pending:", b"sent:")))

    def state(self, tick: str) -> str | None:
        """``pending:<r>``, ``sent:<r>``, ``missed`` or None (never claimed, or expired)."""
        raw: bytes | None = self.client.get(claim_key(self.namespace, tick))  # type: ignore[assignment]
        return None if raw is None else raw.decode()
