"""Idempotency keys in Redis: a redelivered job performs its side effect once.

Dramatiq delivers at least once: a crash between the work and the ack, a duplicated
delayed message (dramatiq#431) or a requeue after a lost heartbeat all run a job again.
``Idempotency.once(key)`` makes the second run a no-op:

* ``claim``: ``SET key pending:<token> NX PX lease`` - we own the key for ``lease_ms``.
* ``done``:  the owner swaps its pending value for ``done`` kept ``ttl_s`` (Lua, checks
  the token so a late owner cannot overwrite a newer claim).
* already ``done``: skip. Held by someone else: ``RetryLater`` until the lease ends.

When the side effect itself is a Redis write, pass the pipeline to ``mark_done`` so effect
and mark commit together (exactly once in effect). For an external effect (SMTP, HTTP) a
crash after the effect and before ``mark_done`` repeats it once: the window the recipes
document.

Copy with: ``common/errors.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import redis

from common.errors import RetryLater

DEFAULT_TTL_S = 7 * 86_400
DEFAULT_LEASE_MS = 60_000

_DONE_LUA = """
local v = redis.call('get', KEYS[1])
if v == ARGV[1] or v == false then
  redis.call('set', KEYS[1], 'done', 'EX', ARGV[2])
  return 1
end
return 0
"""

_RELEASE_LUA = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""

State = Literal["claimed", "done", "busy"]


@dataclass(frozen=True)
class Claim:
    key: str
    state: State
    token: str
    retry_in_ms: int = 0


class Idempotency:
    def __init__(self, client: redis.Redis, namespace: str, *, ttl_s: int = DEFAULT_TTL_S,
                 lease_ms: int = DEFAULT_LEASE_MS) -> None:
        self.client = client
        self.prefix = f"{namespace}:idem:"
        self.ttl_s = ttl_s
        self.lease_ms = lease_ms
        self._done = client.register_script(_DONE_LUA)
        self._release = client.register_script(_RELEASE_LUA)

    def claim(self, key: str) -> Claim:
        full = self.prefix + key
        token = "pending:" + uuid.uuid4().hex
        if self.client.set(full, token, nx=True, px=self.lease_ms):
            return Claim(full, "claimed", token)
        pipe = self.client.pipeline()
        pipe.get(full)
        pipe.pttl(full)
        value, ttl = pipe.execute()
        if value in (b"done", "done"):
            return Claim(full, "done", token)
        if value is None:  # expired between the two calls
            return self.claim(key)
        return Claim(full, "busy", token, retry_in_ms=max(int(ttl), 50))

    def mark_done(self, claim: Claim, pipe: redis.client.Pipeline | None = None) -> None:
        if pipe is not None:
            self._done(keys=[claim.key], args=[claim.token, self.ttl_s], client=pipe)
        else:
            self._done(keys=[claim.key], args=[claim.token, self.ttl_s])

    def release(self, claim: Claim) -> None:
        self._release(keys=[claim.key], args=[claim.token])

    def is_done(self, key: str) -> bool:
        return self.client.get(self.prefix + key) in (b"done", "done")

    @contextmanager
    def once(self, key: str) -> Iterator[Claim | None]:
        """``with idem.once(key) as claim:`` - ``claim`` is None when the work was done already.

        On success the key is marked done (unless the body already called ``mark_done``);
        on an exception the claim is released so a retry can run.
        """
        claim = self.claim(key)
        if claim.state == "done":
            yield None
            return
        if claim.state == "busy":
            raise RetryLater(f"idempotency key {key!r} held by another run",
                             delay_ms=claim.retry_in_ms)
        try:
            yield claim
        except BaseException:
            self.release(claim)
            raise
        self.mark_done(claim)
