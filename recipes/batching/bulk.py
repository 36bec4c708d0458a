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

from common.broker import BrokerFull, BrokerUnavailable, MessageTooLarge, redis_failure
from common.jobs import TypedActor
from recipes.batching import CHUNK

M = TypeVar("M", bound=BaseModel)


class BulkEnqueueError(BrokerUnavailable):
    """Redis failed part-way: ``sent`` holds what is queued (messages, or items added)."""

    def __init__(self, text: str, sent: Sequence[Any]) -> None:
        super().__init__(text)
        self.sent = sent


class BulkEnqueueFull(BrokerFull):
    """Redis is out of memory (noeviction): ``sent`` holds what is queued."""

    def __init__(self, text: str, sent: Sequence[Any]) -> None:
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
    """Enqueue one message per job, ``chunk`` messages per round trip.

    Every payload is validated and every message size checked before anything is written;
    each chunk is then all-or-nothing, and a Redis failure says how many are queued.
    """
    models = validate_all(actor.model, jobs)
    broker = actor.actor.broker
    limit = getattr(broker, "max_message_bytes", None)
    prepared = [prepare(broker, actor.actor.message_with_options(
        args=(m.model_dump(mode="json"),)), delay=delay) for m in models]
    check_sizes([p.encoded for p in prepared], limit, f"job for {actor.actor_name!r}")
    sent: list[dramatiq.Message[Any]] = []
    for start in range(0, len(prepared), chunk):
        batch = prepared[start:start + chunk]
        try:
            write(broker.client, batch)  # type: ignore[attr-defined]
        except redis.RedisError as exc:
            raise failure(broker, exc, f"{len(sent)} of {len(prepared)} messages for "
                          f"{actor.actor_name!r} are queued, the rest are not", sent) from None
        announce(broker, batch)
        sent.extend(p.message for p in batch)
    return sent


def check_sizes(encoded: Sequence[bytes | str], limit: int | None, what: str) -> None:
    """The broker's message size limit, checked for all before anything is written."""
    for i, data in enumerate(encoded):
        if limit is not None and len(data) > limit:
            raise MessageTooLarge(f"{what} {i} is {len(data)} bytes, over the {limit}-byte "
                                  "limit (COOKBOOK_MAX_MESSAGE_BYTES); nothing was written")


def failure(broker: Any, exc: redis.RedisError, what: str, sent: Sequence[Any]) -> Exception:
    """The same error classes as ``CookbookBroker.enqueue``, plus what did get queued."""
    mapped = redis_failure(exc)
    if mapped is None:
        return exc
    error, text, detail = mapped
    bulk_error = BulkEnqueueFull if issubclass(error, BrokerFull) else BulkEnqueueError
    where = f"Redis at {getattr(broker, 'safe_url', 'redis')}"
    return bulk_error(f"{where} {text}; {what} ({detail})", sent)


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
