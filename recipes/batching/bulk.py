"""Bulk enqueue: many Dramatiq messages in one Redis round trip, readable by the stock consumer.

``RedisBroker.enqueue`` makes one Lua call per message (HSET ``<ns>:<queue>.msgs`` + RPUSH
``<ns>:<queue>``). ``bulk_send`` validates every payload first, then builds each message
exactly as ``enqueue`` does (fresh ``redis_message_id``; ``eta`` and the ``.DQ`` queue when
delayed), emits ``before_enqueue``, writes a whole chunk with one HSET + one RPUSH inside
MULTI, and emits ``after_enqueue`` for the chunk once Redis has it.

``prepare``/``announce`` are shared with the micro-batcher, which puts its batch jobs on
the queue from inside a Lua script using the same layout.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

import dramatiq
import redis
from dramatiq.common import current_millis, dq_name
from pydantic import BaseModel, TypeAdapter

from common.broker import BrokerUnavailable
from common.jobs import TypedActor
from recipes.batching import CHUNK

M = TypeVar("M", bound=BaseModel)


class BulkEnqueueError(BrokerUnavailable):
    """Redis failed part-way: ``sent`` holds the messages that are on the queue."""

    def __init__(self, text: str, sent: list[dramatiq.Message[Any]]) -> None:
        super().__init__(text)
        self.sent = sent


@dataclass(frozen=True)
class Prepared:
    message: dramatiq.Message[Any]
    delay: int | None
    queue_key: str  # <ns>:<queue> or <ns>:<queue>.DQ
    redis_id: str
    encoded: bytes


def prepare(broker: Any, message: dramatiq.Message[Any], *, delay: int | None = None) -> Prepared:
    """What ``RedisBroker.enqueue`` does before its Redis call, ``before_enqueue`` included."""
    redis_id = str(uuid.uuid4())
    options: dict[str, Any] = {"redis_message_id": redis_id}
    queue = message.queue_name
    if delay is not None:
        queue = dq_name(queue)
        options["eta"] = current_millis() + delay
    message = message.copy(queue_name=queue, options=options)
    broker.emit_before("enqueue", message, delay)
    return Prepared(message, delay, f"{broker.namespace}:{queue}", redis_id, message.encode())


def announce(broker: Any, prepared: Iterable[Prepared]) -> None:
    """``after_enqueue`` for messages Redis now holds."""
    for item in prepared:
        broker.emit_after("enqueue", item.message, item.delay)


@lru_cache(maxsize=64)
def _list_adapter(model: type[BaseModel]) -> TypeAdapter[list[Any]]:
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def validate_all(model: type[M], jobs: Sequence[M | Mapping[str, Any]]) -> list[M]:
    """Validate every payload before anything is written.

    A ``pydantic.ValidationError`` names the position and the field (``3.amount_cents``).
    Model instances are re-validated: ``model_construct`` can build invalid ones.
    """
    data = [job.model_dump() if isinstance(job, BaseModel) else job for job in jobs]
    return _list_adapter(model).validate_python(data)


def bulk_send(actor: TypedActor[M, Any], jobs: Sequence[M | Mapping[str, Any]], *,
              delay: int | None = None, chunk: int = CHUNK) -> list[dramatiq.Message[Any]]:
    """Enqueue one message per job, ``chunk`` messages per round trip. All-or-nothing per chunk."""
    models = validate_all(actor.model, jobs)
    broker = actor.actor.broker
    client: redis.Redis = broker.client  # type: ignore[attr-defined]
    sent: list[dramatiq.Message[Any]] = []
    for start in range(0, len(models), chunk):
        batch = [prepare(broker, actor.actor.message_with_options(
            args=(m.model_dump(mode="json"),)), delay=delay) for m in models[start:start + chunk]]
        try:
            write(client, batch)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise BulkEnqueueError(
                f"Redis at {getattr(broker, 'safe_url', 'redis')} failed after {len(sent)} of "
                f"{len(models)} messages for {actor.actor_name!r}; the first {len(sent)} are "
                f"queued, the rest were not ({type(exc).__name__}: {exc})", sent) from None
        announce(broker, batch)
        sent.extend(p.message for p in batch)
    return sent


def write(client: redis.Redis, prepared: Sequence[Prepared]) -> None:
    """One MULTI per queue: HSET id->message for all, then RPUSH all ids in order."""
    by_queue: dict[str, list[Prepared]] = {}
    for item in prepared:
        by_queue.setdefault(item.queue_key, []).append(item)
    pipe = client.pipeline(transaction=True)
    for queue_key, items in by_queue.items():
        pipe.hset(queue_key + ".msgs", mapping={p.redis_id: p.encoded for p in items})
        pipe.rpush(queue_key, *(p.redis_id for p in items))
    pipe.execute()
