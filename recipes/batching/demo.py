"""Tour demo: 1,000 jobs bulk-enqueued; 5,003 entries micro-batched, 3 poisoned, a tail by age."""

from __future__ import annotations

import time
from collections.abc import Callable

from common.broker import CookbookBroker
from common.settings import Settings
from common.worker import running_worker
from recipes.batching import QUEUE, SINGLE_QUEUE
from recipes.batching.actors import register
from recipes.batching.config import BatchConfig
from recipes.batching.enqueue import add_entries, sample_entries, send_entries
from recipes.batching.models import LedgerEntry

SINGLES, BATCHED, SIZE = 1_000, 5_000, 250
POISONED = [LedgerEntry(entry_id=f"poison-{i}", account="frozen", amount_cents=1)
            for i in range(3)]


def demo(broker: CookbookBroker, settings: Settings, report: Callable[[int, int], None]) -> int:
    config = BatchConfig(size=SIZE, max_age_ms=300, min_backoff_ms=50, max_backoff_ms=200)
    actors = register(broker, broker.client, settings.namespace, config=config)
    actors.ledger.freeze("frozen")
    send_entries(actors, sample_entries(SINGLES, prefix="single-"))  # 1 round trip per 1,000
    entries = sample_entries(BATCHED, prefix="batched-") + POISONED
    add_entries(actors, entries[: BATCHED // 2] + POISONED)
    add_entries(actors, entries[BATCHED // 2 : BATCHED])
    lone = LedgerEntry(entry_id="lone", account="acct-0", amount_cents=1)
    add_entries(actors, [lone])  # 20 full batches went at add time; 4 left leave by age
    total = SINGLES + BATCHED + 1
    with running_worker(broker, queues=[QUEUE, SINGLE_QUEUE], threads=8):
        deadline = time.monotonic() + 60
        while (done := len(actors.ledger.applied())) < total or broker.dead_letters.count() < 3:
            report(done, total)
            if time.monotonic() > deadline:
                raise AssertionError(f"only {done} of {total} entries applied in 60 s")
            time.sleep(0.1)
        report(done, total)
    applied = actors.ledger.applied()
    if set(applied.values()) != {1} or len(applied) != total:
        raise AssertionError(f"some entries were applied more or less than once: {applied}")
    dead = {letter.message["args"][0]["item"]["entry_id"]  # type: ignore[index]
            for letter in broker.dead_letters.recent()}
    if dead != {e.entry_id for e in POISONED}:
        raise AssertionError(f"dead letters should be exactly the 3 poisoned entries: {dead}")
    if not actors.batcher.stats().get("flushed_age"):
        raise AssertionError("the tail batch should have been flushed by age")
    return SINGLES + len(entries) + 1
