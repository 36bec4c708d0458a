"""Actors: run a micro-batch, put a replayed item back, and apply one entry (the baseline).

Run with: ``uv run dramatiq recipes.batching.worker -p 2 -t 8``
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import dramatiq
import redis
from dramatiq.middleware import CurrentMessage

from common.errors import PermanentError, RetryLater, TransientError
from common.idempotency import Idempotency
from common.jobs import TypedActor, typed_actor
from recipes.batching import BATCH_ACTOR, QUEUE, READD_ACTOR, SINGLE_QUEUE
from recipes.batching.batcher import Batcher
from recipes.batching.config import BatchConfig
from recipes.batching.ledger import Ledger
from recipes.batching.models import BatchJob, LedgerEntry, ReAdd
from recipes.batching.runner import Handler, run_batch
from recipes.batching.ticker import FlushTicker


@dataclass(frozen=True)
class BatchingActors:
    process: TypedActor[BatchJob, None]
    readd: TypedActor[ReAdd, None]
    apply_one: TypedActor[LedgerEntry, None]
    batcher: Batcher[LedgerEntry]
    ledger: Ledger
    ticker: FlushTicker


def register(broker: dramatiq.Broker, client: redis.Redis, namespace: str, *,
             config: BatchConfig | None = None) -> BatchingActors:
    config = config or BatchConfig()
    ledger = Ledger(client, namespace)
    batcher = Batcher(broker, client, namespace, name="ledger", model=LedgerEntry,
                      config=config, label=lambda entry: entry.entry_id)
    handle: Handler[LedgerEntry] = partial(ledger.handle, work_ms=config.work_ms,
                                           commit_every=config.commit_every)
    handlers = {batcher.name: (batcher, handle)}
    idem = Idempotency(client, namespace)

    @typed_actor(broker=broker, queue_name=QUEUE, actor_name=BATCH_ACTOR, max_retries=10,
                 min_backoff=200, max_backoff=10_000)
    def batching_process(job: BatchJob) -> None:
        """Run one micro-batch; failed items are retried or dead-lettered one by one."""
        if job.batcher not in handlers:
            raise PermanentError(f"no batcher named {job.batcher!r} in this worker")
        found, handler = handlers[job.batcher]
        run_batch(found, handler, job.batch_id)

    @typed_actor(broker=broker, queue_name=QUEUE, actor_name=READD_ACTOR, max_retries=5,
                 min_backoff=200)
    def batching_readd(job: ReAdd) -> None:
        """Replay of a dead-lettered item: back into its batcher, once per replay message."""
        if job.batcher not in handlers:
            raise PermanentError(f"no batcher named {job.batcher!r} in this worker")
        found, _ = handlers[job.batcher]
        current = CurrentMessage.get_current_message()
        dedupe = f"{found.keys['pending']}:readd:{current.message_id}" if current else None
        found.add_many([job.item], dedupe_key=dedupe)

    @typed_actor(broker=broker, queue_name=SINGLE_QUEUE, actor_name="batching_apply_one",
                 max_retries=5, min_backoff=200)
    def batching_apply_one(entry: LedgerEntry) -> None:
        """One job per entry, exactly once in effect: what batching is measured against."""
        pipe = client.pipeline(transaction=False)
        pipe.sismember(ledger.keys["frozen"], entry.account)
        pipe.sismember(ledger.keys["unavailable"], entry.account)
        pipe.hincrby(ledger.keys["seen"], entry.entry_id, 1)
        frozen, unavailable, _ = pipe.execute()
        if frozen:
            raise PermanentError(f"account {entry.account} is frozen")
        if unavailable:
            raise TransientError(f"ledger of account {entry.account} is unavailable")
        claim = idem.claim(f"ledger:{entry.entry_id}")
        if claim.state == "done":
            return
        if claim.state == "busy":
            raise RetryLater(f"entry {entry.entry_id} is being applied",
                             delay_ms=claim.retry_in_ms)
        try:
            with client.pipeline(transaction=True) as tx:
                ledger.effect(entry)(tx)
                idem.mark_done(claim, pipe=tx)
                tx.execute()
        except BaseException:
            idem.release(claim)
            raise

    ticker = FlushTicker([batcher])
    broker.add_middleware(ticker)
    return BatchingActors(process=batching_process, readd=batching_readd,
                          apply_one=batching_apply_one, batcher=batcher, ledger=ledger,
                          ticker=ticker)
