"""The producer half of micro-batching: add items, flush full or old batches into batch jobs.

Items wait in a Redis list. A flush (one Lua call) moves up to ``size`` of them into a batch
record and puts one ``batching_process`` job on the queue in the same call, so a batch can
never exist without its job nor a job without its batch. Flushes happen:

* by **size**, right after ``add``/``add_many`` when a full batch is waiting, and
* by **age**, from ``flush_due``, which ``FlushTicker`` calls in every worker process.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

import dramatiq
import redis
from pydantic import BaseModel

from recipes.batching import BATCH_ACTOR, CHUNK, QUEUE, batch_keys, batcher_keys
from recipes.batching.bulk import (
    Prepared,
    announce,
    check_sizes,
    failure,
    prepare,
    validate_all,
)
from recipes.batching.config import BatchConfig
from recipes.batching.scripts import ADD, FLUSH

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)
NEVER_MS = 10**15
DEDUPE_TTL_S = 7 * 86_400


class Batcher(Generic[M]):
    def __init__(self, broker: dramatiq.Broker, client: redis.Redis, namespace: str, *,
                 name: str, model: type[M], config: BatchConfig,
                 label: Callable[[M], str] | None = None) -> None:
        self.broker = broker
        self.client = client
        self.namespace = namespace
        self.name = name
        self.model = model
        self.config = config
        self._label = label
        self.keys = batcher_keys(namespace, name)
        self._add = client.register_script(ADD)
        self._flush = client.register_script(FLUSH)

    def batch_keys(self, batch_id: str) -> dict[str, str]:
        return batch_keys(self.namespace, self.name, batch_id)

    def label(self, item: M) -> str:
        """How logs and dead letters name an item."""
        return self._label(item) if self._label else item.model_dump_json()[:80]

    def add(self, item: M | Mapping[str, Any]) -> int:
        """Validate and add one item; returns how many items are waiting (after any flush)."""
        return self.add_many([item])

    def add_many(self, items: Sequence[M | Mapping[str, Any]], *,
                 dedupe_key: str | None = None) -> int:
        """Validate all, then add them ``CHUNK`` per call. Returns how many items are waiting.

        ``dedupe_key`` (one call only, not chunked) makes a repeated call add nothing.
        """
        models = validate_all(self.model, items)
        if dedupe_key is not None and len(models) > CHUNK:
            raise ValueError(f"dedupe_key needs at most {CHUNK} items, got {len(models)}")
        docs = [m.model_dump_json() for m in models]
        check_sizes(docs, getattr(self.broker, "max_message_bytes", None), "item")
        waiting = 0
        for start in range(0, len(docs), CHUNK):
            try:
                waiting = int(self._add(keys=[self.keys["pending"], self.keys["seq"],
                                              dedupe_key or ""],
                                        args=[DEDUPE_TTL_S, *docs[start:start + CHUNK]]))
            except redis.RedisError as exc:
                raise failure(self.broker, exc, f"{start} of {len(docs)} items are added, "
                              "the rest are not", models[:start]) from None
            if waiting >= self.config.size:
                try:
                    waiting -= self.config.size * self.flush(
                        batches=waiting // self.config.size, by_age=False)
                except redis.RedisError as exc:  # the items are safe; a ticker flushes them
                    log.warning("flush after add failed (%s); left to the flush ticker", exc)
        return max(waiting, 0)

    def flush(self, *, batches: int = 1, by_age: bool = True) -> int:
        """Move up to ``batches`` due batches into batch jobs; returns how many were made."""
        if batches <= 0:
            return 0
        prepared: list[Prepared] = []
        args: list[Any] = [self.config.size, self.config.max_age_ms if by_age else NEVER_MS,
                           self.keys["batch_prefix"]]
        for _ in range(batches):
            batch_id = uuid.uuid4().hex
            p = prepare(self.broker, self.batch_message(batch_id))
            prepared.append(p)
            args += [batch_id, p.redis_id, p.encoded]
        used = int(self._flush(keys=[self.keys["pending"], self.keys["open"],
                                     self.keys["stats"], p.queue_key, p.queue_key + ".msgs"],
                               args=args))
        # Unused messages only saw before_enqueue, as after a failed RedisBroker.enqueue.
        announce(self.broker, prepared[:used])
        return used

    def flush_due(self) -> int:
        """Flush every full batch and, if its oldest item is old enough, the partial one."""
        pipe = self.client.pipeline(transaction=False)
        pipe.time()
        pipe.llen(self.keys["pending"])
        pipe.lindex(self.keys["pending"], 0)
        (secs, micros), waiting, head = pipe.execute()
        if not waiting:
            return 0
        batches = waiting // self.config.size
        if waiting % self.config.size and head is not None:
            now_ms = secs * 1000 + micros // 1000
            added = [*head.split(b":", 2), b"", b""][1]  # a foreign entry counts as old
            if not added.isdigit() or now_ms - int(added) >= self.config.max_age_ms:
                batches += 1
        return self.flush(batches=batches)

    def batch_message(self, batch_id: str) -> dramatiq.Message[Any]:
        """The ``batching_process`` job of one batch (JSON args, like ``TypedActor.send``)."""
        return dramatiq.Message(queue_name=QUEUE, actor_name=BATCH_ACTOR, kwargs={}, options={},
                                args=({"batcher": self.name, "batch_id": batch_id},))

    def pending(self) -> int:
        return int(self.client.llen(self.keys["pending"]))

    def open_batches(self) -> list[str]:
        return [b.decode() for b in self.client.zrange(self.keys["open"], 0, -1)]  # type: ignore[union-attr]

    def stats(self) -> dict[str, int]:
        raw: dict[bytes, bytes] = self.client.hgetall(self.keys["stats"])  # type: ignore[assignment]
        return {k.decode(): int(v) for k, v in raw.items()}
