"""Micro-batching: flush by size or age, each item once in effect, failures settled per item."""

from __future__ import annotations

from collections import Counter

import pytest
import redis
from pydantic import ValidationError

from common.broker import CookbookBroker
from common.settings import Settings
from recipes.batching.enqueue import add_entries, sample_entries
from recipes.batching.models import LedgerEntry
from tests.recipes.batching.conftest import config_env, settled
from tests.support import wait_until

TOTAL, SIZE = 50_000, 512


def test_fifty_thousand_items_each_applied_exactly_once(
    broker: CookbookBroker, batching, cli_worker  # type: ignore[no-untyped-def]
) -> None:
    actors = batching(size=SIZE, max_age_ms=300)
    cli_worker("recipes.batching.worker", processes=2, threads=8,
               env=config_env(actors.batcher.config))
    entries = sample_entries(TOTAL)
    assert add_entries(actors, entries) == TOTAL
    applied = actors.ledger.applied

    wait_until(lambda: len(applied()) == TOTAL, timeout=180,
               message=lambda: f"{TOTAL} entries applied (now {len(applied())})")
    wait_until(lambda: settled(actors, broker), timeout=60, message="every batch settled")
    counts = Counter(applied().values())
    assert counts == {1: TOTAL}, f"applied more or less than once: {counts}"
    expected: Counter[str] = Counter()
    for e in entries:
        expected[e.account] += e.amount_cents
    assert actors.ledger.balances() == dict(expected)
    stats = actors.batcher.stats()
    assert stats["items_flushed"] == stats["succeeded"] == TOTAL
    assert stats["flushed_size"] == TOTAL // SIZE  # full batches went at add time
    assert stats["flushed_age"] >= 1  # the 336-item tail went by age
    assert broker.dead_letters.count() == 0


def test_a_lone_item_is_flushed_by_age(broker: CookbookBroker, batching,
                                       start_worker) -> None:  # type: ignore[no-untyped-def]
    actors = batching(size=100, max_age_ms=300)
    add_entries(actors, [LedgerEntry(entry_id="lone", account="a", amount_cents=7)])
    assert actors.batcher.pending() == 1 and not actors.batcher.open_batches()
    start_worker(threads=2)
    wait_until(lambda: actors.ledger.applied() == {"lone": 1}, timeout=30, message="lone item")
    wait_until(lambda: settled(actors, broker), timeout=30, message="settled")
    stats = actors.batcher.stats()
    assert stats["flushed_age"] == 1 and "flushed_size" not in stats
    assert stats["items_flushed"] == 1


def test_a_full_batch_is_flushed_at_add_time(broker: CookbookBroker, settings: Settings,
                                            redis_client: redis.Redis, batching,
                                            start_worker) -> None:  # type: ignore[no-untyped-def]
    # Age never triggers here (10 minutes): only size can flush.
    actors = batching(size=50, max_age_ms=600_000)
    add_entries(actors, sample_entries(120))
    assert len(actors.batcher.open_batches()) == 2 and actors.batcher.pending() == 20
    assert broker.do_qsize("batching") == 2  # one job per batch, already on the queue
    start_worker(threads=4)
    wait_until(lambda: len(actors.ledger.applied()) == 100, timeout=30, message="two batches")
    assert actors.batcher.pending() == 20 and set(actors.ledger.applied().values()) == {1}
    assert actors.batcher.stats()["flushed_size"] == 2


def test_invalid_item_is_rejected_before_anything_is_added(batching) -> None:  # type: ignore[no-untyped-def]
    actors = batching(size=10)
    items: list[object] = [*sample_entries(5)]
    items[2] = {"entry_id": "x", "account": "a", "amount_cents": 0}
    with pytest.raises(ValidationError, match=r"2\.amount_cents"):
        actors.batcher.add_many(items)  # type: ignore[arg-type]
    assert actors.batcher.pending() == 0
