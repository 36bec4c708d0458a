"""Dead-letter queue with explicit retention: record, list, show, replay, purge, alert.

A message lands here when it failed permanently, ran out of retries, named an unknown
actor, or could not be decoded at all. Each record keeps the error type, text, traceback,
attempt count and times. Nothing expires on its own: records stay until ``purge`` or
``prune`` removes them (``prune`` runs on write only when a max age/count is configured).

Redis keys: ``<ns>:deadletters`` (zset id -> failed_at ms) and
``<ns>:deadletters:records`` (hash id -> JSON record).

Dramatiq also copies nacked messages to ``<ns>:<queue>.XQ`` with a TTL; the middleware
removes that copy once the record is written, so this store is the single place to look.

Copy alone: needs dramatiq, redis and pydantic.
"""

from __future__ import annotations

import logging
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import dramatiq
import redis
from dramatiq.errors import ConnectionClosed
from dramatiq.middleware import Middleware
from pydantic import BaseModel

log = logging.getLogger(__name__)

RAW_PREVIEW_BYTES = 4_096
RESET_OPTIONS = ("retries", "deferrals", "last_error", "dead_reason", "redis_message_id",
                 "eta", "traceback", "requeue_timestamp")


class DeadLetter(BaseModel):
    id: str
    queue: str
    actor: str | None
    reason: str
    error_type: str | None = None
    error: str | None = None
    traceback: str | None = None
    attempts: int = 0
    deferrals: int = 0
    enqueued_at_ms: int | None = None
    failed_at_ms: int
    message: dict[str, Any] | None = None
    raw: str | None = None

    @property
    def replayable(self) -> bool:
        return self.message is not None


class DeadLetterStore:
    def __init__(
        self,
        client: redis.Redis,
        namespace: str,
        *,
        max_age_days: float | None = None,
        max_count: int | None = None,
    ) -> None:
        self.client = client
        self.index = f"{namespace}:deadletters"
        self.records = f"{namespace}:deadletters:records"
        self.max_age_days = max_age_days
        self.max_count = max_count

    def add(self, letter: DeadLetter, pipe: redis.client.Pipeline | None = None) -> None:
        """Store a record; pass ``pipe`` to commit it with your own writes (then no pruning)."""
        own = pipe is None
        pipe = pipe if pipe is not None else self.client.pipeline(transaction=True)
        pipe.hset(self.records, letter.id, letter.model_dump_json())
        pipe.zadd(self.index, {letter.id: letter.failed_at_ms})
        if not own:
            return
        pipe.execute()
        if self.max_age_days is not None or self.max_count is not None:
            pruned = self.prune(max_age_days=self.max_age_days, max_count=self.max_count)
            if pruned:
                log.warning("dead-letter retention removed %d old records", pruned)

    def count(self) -> int:
        return int(self.client.zcard(self.index))

    def recent(self, *, limit: int = 50, offset: int = 0,
               queue: str | None = None) -> list[DeadLetter]:
        """Newest first, optionally only one queue's."""
        stop = -1 if queue else offset + limit - 1
        ids: list[bytes] = self.client.zrevrange(self.index, 0 if queue else offset, stop)  # type: ignore[assignment]
        letters = self._load(ids)
        if queue:
            letters = [item for item in letters if item.queue == queue][offset : offset + limit]
        return letters

    def get(self, letter_id: str) -> DeadLetter | None:
        letters = self._load([letter_id])
        return letters[0] if letters else None

    def _load(self, ids: Iterable[str | bytes]) -> list[DeadLetter]:
        ids = list(ids)
        if not ids:
            return []
        raw = self.client.hmget(self.records, ids)
        return [DeadLetter.model_validate_json(item) for item in raw if item is not None]

    def replay(self, broker: dramatiq.Broker, letter_id: str) -> dramatiq.Message[Any]:
        """Enqueue a fresh copy (attempt count reset) and drop the record."""
        letter = self.get(letter_id)
        if letter is None:
            raise KeyError(f"no dead letter with id {letter_id!r}")
        if letter.message is None:
            raise ValueError(f"dead letter {letter_id!r} holds a raw payload that is not "
                             "a valid message; it can be shown and purged, not replayed")
        data = dict(letter.message)
        options = {k: v for k, v in data.get("options", {}).items() if k not in RESET_OPTIONS}
        data["options"] = options
        data["args"] = tuple(data.get("args", ()))
        data["queue_name"] = letter.queue
        message = broker.enqueue(dramatiq.Message(**data))
        self.purge([letter_id])
        return message

    def purge(self, ids: Iterable[str] | None = None) -> int:
        """Delete the given records, or every record when ``ids`` is None."""
        if ids is None:
            removed = self.count()
            self.client.delete(self.index, self.records)
            return removed
        ids = list(ids)
        if not ids:
            return 0
        pipe = self.client.pipeline(transaction=True)
        pipe.zrem(self.index, *ids)
        pipe.hdel(self.records, *ids)
        removed, _ = pipe.execute()
        return int(removed)

    def prune(self, *, max_age_days: float | None = None, max_count: int | None = None) -> int:
        doomed: list[str] = []
        if max_age_days is not None:
            cutoff = int((time.time() - max_age_days * 86_400) * 1000)
            old: list[bytes] = self.client.zrangebyscore(self.index, 0, cutoff)  # type: ignore[assignment]
            doomed += [_s(i) for i in old]
        if max_count is not None:
            extra: list[bytes] = self.client.zrange(self.index, 0, -max_count - 1)  # type: ignore[assignment]
            doomed += [_s(i) for i in extra]
        return self.purge(set(doomed))


def _s(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _canonical(queue_name: str) -> str:
    return queue_name[:-3] if queue_name.endswith(".DQ") else queue_name


class DeadLetters(Middleware):
    """Writes a record for every nacked message, then calls the optional alert hook."""

    def __init__(self, store: DeadLetterStore,
                 on_dead: Callable[[DeadLetter], None] | None = None) -> None:
        self.store = store
        self.listeners: list[Callable[[DeadLetter], None]] = [on_dead] if on_dead else []

    def add_listener(self, listener: Callable[[DeadLetter], None]) -> None:
        """Call ``listener(letter)`` after each record is written (alerts, compensation)."""
        self.listeners.append(listener)

    def before_nack(self, broker: dramatiq.Broker, message: Any) -> None:
        exc: BaseException | None = getattr(message, "_exception", None)
        options = message.options
        reason = options.get("dead_reason") or (
            f"unknown actor {message.actor_name!r}" if isinstance(exc, dramatiq.ActorNotFound)
            else "failed"
        )
        letter = DeadLetter(
            id=message.message_id,
            queue=_canonical(message.queue_name),
            actor=message.actor_name,
            reason=reason,
            error_type=type(exc).__name__ if exc else None,
            error=str(exc)[:2_000] if exc else None,
            traceback="".join(traceback.format_exception(exc))[-8_000:] if exc else None,
            attempts=options.get("retries", 0) + 1,
            deferrals=options.get("deferrals", 0),
            enqueued_at_ms=message.message_timestamp,
            failed_at_ms=int(time.time() * 1000),
            message=message._message.asdict() if hasattr(message, "_message") else None,
        )
        self._record(letter)

    def after_nack(self, broker: dramatiq.Broker, message: Any) -> None:
        self._drop_dramatiq_copy(broker, message.queue_name, message.options["redis_message_id"])

    def record_raw(self, broker: dramatiq.Broker, queue_name: str, raw: bytes,
                   error_type: str, reason: str) -> None:
        """Record a payload that never became a message (undecodable, oversized)."""
        self._record(DeadLetter(
            id=f"raw-{uuid.uuid4()}",
            queue=_canonical(queue_name),
            actor=None,
            reason=reason[:2_000],
            error_type=error_type,
            failed_at_ms=int(time.time() * 1000),
            raw=raw[:RAW_PREVIEW_BYTES].decode("utf-8", errors="backslashreplace"),
        ))

    def _record(self, letter: DeadLetter) -> None:
        try:
            self.store.add(letter)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            # Dramatiq retries post-processing on ConnectionClosed, so the record is not lost.
            raise ConnectionClosed(exc) from None
        log.error("dead-lettered %s from %s: %s", letter.id, letter.queue, letter.reason)
        for listener in self.listeners:
            try:
                listener(letter)
            except Exception:
                log.exception("dead-letter listener failed for %s", letter.id)

    def _drop_dramatiq_copy(self, broker: Any, queue_name: str, redis_id: str) -> None:
        xq = f"{broker.namespace}:{_canonical(queue_name)}.XQ"
        pipe = self.store.client.pipeline(transaction=True)
        pipe.zrem(xq, redis_id)
        pipe.hdel(xq + ".msgs", redis_id)
        pipe.execute()
