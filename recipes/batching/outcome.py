"""Settle a batch: commit successes, reschedule failed items, dead-letter the hopeless ones.

All of it is one MULTI (checked against the lease), together with deleting the batch:
a failed item is either in a new retry batch with its delayed job, or in the dead-letter
store, never both, never neither. Retry batches hold only the failed items, so the items
that succeeded are never redone.
"""

from __future__ import annotations

import json
import logging
import time
import traceback
import uuid
from typing import TYPE_CHECKING, Any

import dramatiq

from common.deadletter import DeadLetter, DeadLetters
from common.retry import backoff_ms, classify
from recipes.batching import BATCH_ACTOR, QUEUE, READD_ACTOR
from recipes.batching.bulk import Prepared, announce, prepare
from recipes.batching.context import BatchContext, Failure

if TYPE_CHECKING:
    from recipes.batching.batcher import Batcher

log = logging.getLogger(__name__)


def settle(batcher: Batcher[Any], ctx: BatchContext[Any]) -> None:
    config = batcher.config
    now = int(time.time() * 1000)
    letters: list[DeadLetter] = []
    retries: dict[tuple[int, int], list[Failure]] = {}
    for failure in ctx.failures.values():
        attempts = failure.item.attempts if failure.item else 0
        decision = classify(failure.error)
        if decision.kind == "defer":  # RetryLater for one item: later, no attempt counted
            retries.setdefault((attempts, decision.delay_ms), []).append(failure)
        elif decision.kind == "retry" and attempts + 1 <= config.max_item_retries:
            delay = backoff_ms(attempts + 1, min_ms=config.min_backoff_ms,
                               max_ms=config.max_backoff_ms)
            retries.setdefault((attempts + 1, delay), []).append(failure)
        else:
            reason = decision.reason if decision.kind == "dead" else \
                f"retries exhausted ({config.max_item_retries}) after {decision.reason}"
            letters.append(dead_letter(batcher, failure, reason, attempts + 1, now))
    store = batcher.broker.dead_letters  # type: ignore[attr-defined]
    prepared: list[Prepared] = []
    succeeded = len(ctx.staged)
    with ctx.client.pipeline(transaction=True) as pipe:
        ctx.begin(pipe)
        ctx.stage_successes(pipe, mark_done=False)
        for (attempts, delay), failures in retries.items():
            prepared.append(schedule_retry(batcher, pipe, failures, attempts, delay, now))
        for letter in letters:
            # DeadLetterStore.add's two writes, inside this MULTI (add() has no pipe argument).
            pipe.hset(store.records, letter.id, letter.model_dump_json())
            pipe.zadd(store.index, {letter.id: letter.failed_at_ms})
        pipe.delete(ctx.keys["items"], ctx.keys["done"], ctx.keys["lease"])
        pipe.zrem(batcher.keys["open"], ctx.batch_id)
        for name, count in (("succeeded", succeeded), ("dead", len(letters)),
                            ("retried", sum(len(f) for f in retries.values()))):
            if count:
                pipe.hincrby(batcher.keys["stats"], name, count)
        ctx.execute(pipe)
    ctx.mark_committed()
    announce(batcher.broker, prepared)
    if letters and (store.max_age_days is not None or store.max_count is not None):
        store.prune(max_age_days=store.max_age_days, max_count=store.max_count)
    for letter in letters:
        log.error("dead-lettered %s: %s", letter.id, letter.reason)
        alert(batcher.broker, letter)


def schedule_retry(batcher: Batcher[Any], pipe: Any, failures: list[Failure], attempts: int,
                   delay: int, now: int) -> Prepared:
    """A new batch holding only these items, and its batch job on the delay queue."""
    retry_id = uuid.uuid4().hex
    fields: dict[str, Any] = {"_reason": "retry", "_flushed": now}
    for f in failures:
        assert f.item is not None  # undecodable entries are never retried
        fields[f.seq] = f"{f.seq}:{f.item.added_ms}:{attempts}:{f.item.body}"
    pipe.hset(batcher.batch_keys(retry_id)["items"], mapping=fields)
    pipe.zadd(batcher.keys["open"], {retry_id: now})
    p = prepare(batcher.broker, batcher.batch_message(retry_id), delay=delay or None)
    pipe.hset(p.queue_key + ".msgs", p.redis_id, p.encoded)
    pipe.rpush(p.queue_key, p.redis_id)
    return p


def dead_letter(batcher: Batcher[Any], failure: Failure, reason: str, attempts: int,
                now: int) -> DeadLetter:
    item = failure.item
    label = batcher.label(item.data) if item else f"seq {failure.seq}"
    message: dict[str, Any] | None = None
    if item is not None:  # replaying it puts the item back into the batcher
        message = dramatiq.Message(
            queue_name=QUEUE, actor_name=READD_ACTOR, kwargs={}, options={},
            args=({"batcher": batcher.name, "item": json.loads(item.body)},)).asdict()
    exc = failure.error
    return DeadLetter(
        id=f"{batcher.name}-item-{failure.seq}", queue=QUEUE, actor=BATCH_ACTOR,
        reason=f"item {label} of batcher {batcher.name}: {reason}", error_type=type(exc).__name__,
        error=str(exc)[:2_000], traceback="".join(traceback.format_exception(exc))[-8_000:],
        attempts=attempts, enqueued_at_ms=item.added_ms if item else None, failed_at_ms=now,
        message=message, raw=failure.raw[:4_096] or None)


def alert(broker: dramatiq.Broker, letter: DeadLetter) -> None:
    """Call the broker's dead-letter listeners, as the DeadLetters middleware does for messages."""
    for middleware in broker.middleware:
        if not isinstance(middleware, DeadLetters):
            continue
        for listener in middleware.listeners:
            try:
                listener(letter)
            except Exception:
                log.exception("dead-letter listener failed for %s", letter.id)
