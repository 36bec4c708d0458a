"""Enqueue-time deduplication with a TTL (BullMQ's ``deduplication`` option, three modes).

* ``queued`` (unique while queued): a second send with the same id is ignored while the
  first is still waiting; the key is dropped when that job starts, so a send during the run
  is accepted. The TTL only bounds a key whose message was lost.
* ``throttle``: the first send opens a window of ``ttl_ms``; sends inside it are ignored,
  whether or not the job ran already. At most one job per id per window.
* ``debounce``: every send is delayed by ``ttl_ms`` and replaces the previous one (newest
  payload wins, the window restarts); only the last send of a burst runs, ``ttl_ms`` after it.

The key holds the id of the message that owns it. ``Dedup.guard`` wraps the job function
and, when a message starts, drops it if it no longer owns its debounce key.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, Literal, TypeVar

import dramatiq
import redis
from dramatiq.middleware import CurrentMessage
from pydantic import BaseModel

from common.jobs import TypedActor
from recipes.singleton_lock import DEBOUNCE_GRACE_MS, DEDUP_MODES, dedup_key

log = logging.getLogger(__name__)
Mode = Literal["queued", "throttle", "debounce"]
M = TypeVar("M", bound=BaseModel)
OPTION = "dedup"

_RELEASE_IF_OWNER = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
# Undo a debounce send that failed to enqueue: give the key back to the previous message.
_RESTORE = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then return redis.call('del', KEYS[1]) end
return redis.call('set', KEYS[1], ARGV[2], 'KEEPTTL')
"""


class Dedup:
    def __init__(self, client: redis.Redis, namespace: str) -> None:
        self.client = client
        self.namespace = namespace
        self._release = client.register_script(_RELEASE_IF_OWNER)
        self._restore = client.register_script(_RESTORE)

    def key(self, dedup_id: str) -> str:
        return dedup_key(self.namespace, dedup_id)

    def send(self, actor: TypedActor[M, Any], job: M, *, dedup_id: str, mode: Mode,
             ttl_ms: int, **options: Any) -> dramatiq.Message[Any] | None:
        """Send unless a duplicate is pending; returns None when the send was ignored."""
        if mode not in DEDUP_MODES:
            raise ValueError(f"dedup mode must be one of {', '.join(DEDUP_MODES)}, not {mode!r}")
        if ttl_ms <= 0:
            raise ValueError(f"dedup ttl_ms must be positive, got {ttl_ms}")
        if not dedup_id or len(dedup_id) > 200:
            raise ValueError("dedup_id must be 1-200 characters")
        delay = options.pop("delay", None)
        message = actor.message(job, **{**options, OPTION: {"id": dedup_id, "mode": mode}})
        key, mine = self.key(dedup_id), message.message_id
        previous: bytes | None = None
        if mode == "debounce":
            previous = self.client.set(key, mine, px=ttl_ms + DEBOUNCE_GRACE_MS, get=True)  # type: ignore[assignment]
            delay = ttl_ms
        elif not self.client.set(key, mine, nx=True, px=ttl_ms):
            return None
        try:
            return actor.actor.broker.enqueue(message, delay=delay)
        except BaseException:
            # Nothing was enqueued: do not let the key block (or shadow) real sends.
            self._restore(keys=[key], args=[mine, previous or ""])
            raise

    def admit(self, message: Any) -> bool:
        """Called when a message starts: False means drop it (a newer debounce send won)."""
        info = message.options.get(OPTION) if message is not None else None
        if not info or info["mode"] == "throttle" or info.get("admitted"):
            return True  # a retry of an admitted message keeps its place
        released = self._release(keys=[self.key(info["id"])], args=[message.message_id])
        if info["mode"] == "debounce" and not released:
            return False
        # Kept in the message's options, so a retry or deferral is not judged again.
        info["admitted"] = True
        return True  # queued: the key is gone, a new send may queue again

    def guard(self, fn: Callable[[M], Any]) -> Callable[[M], None]:
        @functools.wraps(fn)
        def deduplicated(job: M) -> None:
            message = CurrentMessage.get_current_message()
            if not self.admit(message):
                log.info("dropping %s: a newer debounced send replaced it",
                         message.message_id if message is not None else "?")
                return
            fn(job)

        return deduplicated
