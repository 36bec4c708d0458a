"""redis-py's ``Lock`` plus a fencing token taken in the same atomic step as the lock.

redis-py already gives the owner token (a random value only the holder knows), the TTL
(``SET NX PX``), token-checked ``release`` and ``reacquire`` (reset the TTL). The one thing
it lacks is a **fencing token**: a number that grows with every acquisition, so a protected
resource can refuse a holder whose lease ran out without it noticing (GC pause, stalled VM,
slow disk) while a newer holder already works.

Why a Lua script and not ``INCR`` in a pipeline after ``acquire``: the fence must be ordered
exactly like the acquisitions. With two round trips, holder A could acquire, stall, lose
the lock to B, and then run its ``INCR`` after B's: A would carry the *higher* fence and the
resource would refuse the legitimate holder B. In one script, SET and INCR happen together,
so fence order = acquisition order and a stale holder always has the lower number.
"""

from __future__ import annotations

import redis
from redis.commands.core import Script
from redis.exceptions import LockError, LockNotOwnedError

from common.errors import TransientError

# KEYS: lock, fence counter. ARGV: token, ttl ms. Returns the new fence, or 0 if held.
ACQUIRE_LUA = """
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('incr', KEYS[2])
end
return 0
"""

__all__ = ["ACQUIRE_LUA", "FencedLock", "LockError", "LockLost", "LockNotOwnedError"]


class LockLost(TransientError):
    """The lease ended before the job did (expired, or taken by a newer holder).

    A transient error: the job is retried with backoff and an attempt is counted, because
    whatever it did after losing the lock was refused by the fenced resource.
    """


class FencedLock(redis.lock.Lock):
    """A redis-py ``Lock`` whose ``acquire`` also yields ``self.fence`` (strictly increasing).

    Always use ``thread_local=False``: the renewer thread must see the holder's token.
    """

    def __init__(self, client: redis.Redis, name: str, *, fence_key: str, ttl_ms: int,
                 acquire_script: Script, poll_ms: int = 5) -> None:
        if ttl_ms <= 0:
            raise ValueError("a singleton lock needs a positive TTL, or a crash holds it forever")
        super().__init__(client, name, timeout=ttl_ms / 1000, sleep=poll_ms / 1000,
                         blocking=False, thread_local=False)
        self.fence_key = fence_key
        self.ttl_ms = ttl_ms
        self.fence = 0
        self._acquire = acquire_script

    def do_acquire(self, token: str | bytes) -> bool:
        fence = int(self._acquire(keys=[self.name, self.fence_key],
                                  args=[token, self.ttl_ms], client=self.redis))
        if fence:
            self.fence = fence
            return True
        return False

    @property
    def token(self) -> bytes | None:
        token: bytes | None = self.local.token
        return token

    def holder(self) -> bytes | None:
        """The token of whoever holds the lock now (a hint: it may change right after)."""
        value: bytes | None = self.redis.get(self.name)
        return value

    def pttl_ms(self) -> int:
        return int(self.redis.pttl(self.name))
