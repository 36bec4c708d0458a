"""A held lock: fence number, background renewal at TTL/3, and loss detection.

``Locks.hold(key)`` acquires a ``FencedLock`` and returns a ``Lease``. While the lease is
held, one daemon thread resets the TTL every ``ttl / RENEWALS_PER_TTL``; a job can run for
many TTLs, yet a crashed holder (whose renewer died with it) frees the key within one TTL.

How the job learns it lost the lock, from cheapest to strongest:
* ``lease.lost`` (an Event) / ``lease.check()`` raising ``LockLost``: the renewer found the
  key gone or owned by someone else, or could not reach Redis for a whole TTL;
* leaving ``hold`` raises ``LockLost`` when the token-checked release finds another owner;
* the protected resource refuses any write whose fence is lower than one it has seen.
"""

from __future__ import annotations

import logging
import threading
import time
from contextvars import ContextVar, Token

import redis

from common.errors import RetryLater
from recipes.singleton_lock import LOCK_TTL_MS, MAX_DEFER_MS, POLL_MS, RENEWALS_PER_TTL, keys
from recipes.singleton_lock.fenced_lock import ACQUIRE_LUA, FencedLock, LockLost, LockNotOwnedError

log = logging.getLogger(__name__)
_current: ContextVar[Lease | None] = ContextVar("singleton_lease", default=None)


class LockBusy(RetryLater):
    """Someone else holds the key. Raised out of an actor, the message is re-scheduled
    after (at most) ``MAX_DEFER_MS`` without counting an attempt."""

    def __init__(self, key: str, holder: bytes | None, pttl_ms: int) -> None:
        super().__init__(f"singleton key {key!r} is held",
                         delay_ms=min(max(pttl_ms, 50), MAX_DEFER_MS))
        self.key = key
        self.holder = holder


def current_lease() -> Lease:
    """The lease of the singleton job running in this thread."""
    lease = _current.get()
    if lease is None:
        raise RuntimeError("no singleton lease is held here: call inside a guarded job")
    return lease


class Lease:
    def __init__(self, key: str, lock: FencedLock, *, renew: bool = True) -> None:
        self.key = key
        self.lock = lock
        self.fence = lock.fence
        self.token = lock.token or b""
        self.lost = threading.Event()
        self.lost_reason = ""
        self.renewals = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._reset: Token[Lease | None] | None = None
        if renew:
            self._thread = threading.Thread(target=self._renew, daemon=True,
                                            name=f"renew-{key}-{self.fence}")
            self._thread.start()

    @property
    def renewing(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def check(self) -> None:
        """Raise ``LockLost`` if the renewer found the lease gone (no Redis round trip)."""
        if self.lost.is_set():
            raise LockLost(f"lost the lock on {self.key!r} (fence {self.fence}): "
                           f"{self.lost_reason}")

    def _mark_lost(self, reason: str) -> None:
        self.lost_reason = reason
        self.lost.set()
        log.warning("singleton lease on %s (fence %d) lost: %s", self.key, self.fence, reason)

    def _renew(self) -> None:
        interval = self.lock.ttl_ms / RENEWALS_PER_TTL / 1000
        last_ok = time.monotonic()
        while not self._stop.wait(interval):
            try:
                self.lock.reacquire()  # token-checked: resets the TTL only if still ours
                self.renewals += 1
                last_ok = time.monotonic()
            except LockNotOwnedError:
                return self._mark_lost("expired or taken by another holder")
            except redis.RedisError as exc:
                # Past one TTL without a renewal the key may have expired: assume the worst.
                if time.monotonic() - last_ok >= self.lock.ttl_ms / 1000:
                    return self._mark_lost(f"could not renew for a whole TTL ({exc})")
                log.warning("renewing %s failed, will retry: %s", self.key, exc)

    def __enter__(self) -> Lease:
        self._reset = _current.set(self)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if self._reset is not None:
            _current.reset(self._reset)
        # When the body failed, its own error says more than LockLost would.
        self.release(quiet=exc_type is not None)

    def release(self, *, quiet: bool = False) -> None:
        """Stop renewing, then delete the key if it is still ours; else raise ``LockLost``."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        try:
            self.lock.release()
        except LockNotOwnedError:
            self._mark_lost("the lock was not ours any more at release")
            if not quiet:
                self.check()
        except redis.RedisError:
            if not quiet:
                raise
            # The body already failed: keep its error; the key expires within one TTL.
            log.warning("could not release %s; it expires by itself", self.key, exc_info=True)


class Locks:
    """Factory of fenced locks in one namespace (registers the Lua script once)."""

    def __init__(self, client: redis.Redis, namespace: str, *, ttl_ms: int = LOCK_TTL_MS,
                 poll_ms: int = POLL_MS) -> None:
        self.client = client
        self.namespace = namespace
        self.ttl_ms = ttl_ms
        self.poll_ms = poll_ms
        self._acquire = client.register_script(ACQUIRE_LUA)

    def keys(self, key: str) -> dict[str, str]:
        return keys(self.namespace, key)

    def lock(self, key: str, *, ttl_ms: int | None = None) -> FencedLock:
        k = self.keys(key)
        return FencedLock(self.client, k["lock"], fence_key=k["fence"],
                          ttl_ms=ttl_ms or self.ttl_ms, acquire_script=self._acquire,
                          poll_ms=self.poll_ms)

    def acquire(self, key: str, *, ttl_ms: int | None = None, wait_ms: int = 0,
                renew: bool = True, token: str | None = None) -> Lease:
        """Take the key (polling up to ``wait_ms``) or raise ``LockBusy``."""
        lock = self.lock(key, ttl_ms=ttl_ms)
        if not lock.acquire(blocking=wait_ms > 0, blocking_timeout=wait_ms / 1000, token=token):
            raise LockBusy(key, lock.holder(), lock.pttl_ms())
        return Lease(key, lock, renew=renew)

    def hold(self, key: str, *, ttl_ms: int | None = None, wait_ms: int = 0,
             renew: bool = True, token: str | None = None) -> Lease:
        """``with locks.hold("nightly-report") as lease:`` ... ``lease.fence`` ..."""
        return self.acquire(key, ttl_ms=ttl_ms, wait_ms=wait_ms, renew=renew, token=token)
