"""The consumer half: one batch job takes its batch's lease, runs the handler, settles items.

Exactly once in effect, per item:
* only the lease holder may commit (``WATCH`` on the lease), and a second delivery of the
  same batch job waits (``RetryLater``) or finds the batch gone and does nothing;
* effects and done marks commit together, so after a crash the next run skips done items
  and redoes only the others;
* the final commit deletes the batch in the same MULTI that schedules the failed items'
  retry batch and writes their dead letters, so nothing is settled twice or lost.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from pydantic import BaseModel, ValidationError

from common.errors import PermanentError, RetryLater, TransientError
from recipes.batching.batcher import Batcher
from recipes.batching.context import BatchContext, BatchItem, Failure, LeaseLost
from recipes.batching.outcome import settle
from recipes.batching.scripts import RELEASE

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)
Handler = Callable[[BatchContext[M]], None]
BUSY_RECHECK_MS = 1_000


class UndecodableItem(PermanentError):
    """A stored entry is not a valid item any more (hand-written, or the model changed)."""


def run_batch(batcher: Batcher[M], handler: Handler[M], batch_id: str) -> str:
    """Process one batch; returns ``gone`` (already settled) or ``settled``."""
    client = batcher.client
    keys = {**batcher.batch_keys(batch_id), "stats": batcher.keys["stats"]}
    if not client.exists(keys["items"]):
        return "gone"  # a duplicate or redelivered job whose batch was already settled
    token = uuid.uuid4().hex
    if not client.set(keys["lease"], token, nx=True, px=batcher.config.lease_ms):
        # Look again soon: a live holder settles the batch (then this copy finds it gone),
        # a dead holder's lease runs out and this copy takes over.
        ttl = int(client.pttl(keys["lease"]))
        raise RetryLater(f"batch {batch_id} is held by another run",
                         delay_ms=min(max(ttl, 50), BUSY_RECHECK_MS))
    settled = False
    try:
        ctx = load(batcher, batch_id, keys, token)
        if ctx.items:
            try:
                handler(ctx)
            except LeaseLost:
                raise
            except RetryLater:
                ctx.commit()  # keep the progress; the job is re-scheduled, no attempt counted
                raise
            except Exception as exc:
                log.warning("handler of batch %s raised %r; its unreported items fail",
                            batch_id, exc)
                for item in ctx.unreported():
                    ctx.fail(item, exc)
        for item in ctx.unreported():
            ctx.fail(item, TransientError("the handler did not report this item"))
        settle(batcher, ctx)
        settled = True
        return "settled"
    finally:
        if not settled:
            release(client, keys["lease"], token)


def release(client: redis.Redis, lease: str, token: str) -> None:
    try:
        client.eval(RELEASE, 1, lease, token)
    except redis.RedisError as exc:  # the lease then expires on its own
        log.warning("could not release %s: %s", lease, exc)


def load(batcher: Batcher[M], batch_id: str, keys: dict[str, str],
         token: str) -> BatchContext[M]:
    pipe = batcher.client.pipeline(transaction=False)
    pipe.hgetall(keys["items"])
    pipe.smembers(keys["done"])
    fields, done = pipe.execute()
    reason = fields.pop(b"_reason", b"?").decode()
    fields.pop(b"_flushed", None)
    ctx: BatchContext[M] = BatchContext(
        client=batcher.client, keys=keys, token=token, lease_ms=batcher.config.lease_ms,
        batch_id=batch_id, reason=reason, items=[])
    for raw_seq, raw in fields.items():
        if raw_seq in done:
            continue
        seq = raw_seq.decode()
        entry = raw.decode(errors="replace")
        try:
            ctx.items.append(parse(batcher.model, seq, entry))
        except (ValueError, ValidationError) as exc:
            error = UndecodableItem(f"undecodable item: {exc}"[:1_000])
            ctx.failures[seq] = Failure(seq, error, None, raw=entry)
    ctx.items.sort(key=lambda i: int(i.seq))  # the hash has no order; keep arrival order
    return ctx


def parse(model: type[M], seq: str, entry: str) -> BatchItem[M]:
    parts = entry.split(":", 3)
    if len(parts) != 4 or parts[0] != seq or not (parts[1].isdigit() and parts[2].isdigit()):
        raise ValueError(f"entry {seq} is not <seq>:<added_ms>:<attempts>:<json>")
    return BatchItem(seq=seq, data=model.model_validate_json(parts[3]), attempts=int(parts[2]),
                     added_ms=int(parts[1]), body=parts[3])


def batch_state(batcher: Batcher[Any], batch_id: str) -> dict[str, int]:
    """Items and done marks of an open batch (for tests and dashboards)."""
    keys = batcher.batch_keys(batch_id)
    pipe = batcher.client.pipeline(transaction=False)
    pipe.hlen(keys["items"])
    pipe.scard(keys["done"])
    items, done = pipe.execute()
    return {"items": max(int(items) - 2, 0), "done": int(done)}
