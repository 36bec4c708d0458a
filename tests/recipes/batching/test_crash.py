"""Crashes and shutdowns mid-batch: no item lost, none applied twice, done items not redone."""

from __future__ import annotations

from common.broker import CookbookBroker
from recipes.batching.enqueue import add_entries, sample_entries
from recipes.batching.runner import batch_state
from tests.recipes.batching.conftest import config_env, settled
from tests.support import wait_until

ITEMS = 400
# 8 batches of 50; each item takes 20 ms and done items are committed every 10.
SLOW = {"size": 50, "max_age_ms": 200, "lease_ms": 3_000, "work_ms": 20, "commit_every": 10}


def _partly_done(actors) -> bool:  # type: ignore[no-untyped-def]
    states = [batch_state(actors.batcher, b) for b in actors.batcher.open_batches()]
    return any(0 < s["done"] < s["items"] for s in states)


def test_sigkill_mid_batch_loses_no_item_and_applies_none_twice(
    broker: CookbookBroker, batching, cli_worker  # type: ignore[no-untyped-def]
) -> None:
    actors = batching(**SLOW)
    env = config_env(actors.batcher.config)
    add_entries(actors, sample_entries(ITEMS))
    first = cli_worker("recipes.batching.worker", processes=1, threads=4, env=env)
    wait_until(lambda: _partly_done(actors), timeout=60, interval=0.01,
               message="a batch with some items committed and some not")
    first.kill()
    at_kill = len(actors.ledger.applied())
    assert 0 < at_kill < ITEMS

    cli_worker("recipes.batching.worker", processes=1, threads=4, env=env)
    wait_until(lambda: len(actors.ledger.applied()) == ITEMS and settled(actors, broker),
               timeout=90, message=lambda: f"all {ITEMS} applied after the crash "
               f"(now {len(actors.ledger.applied())})")
    assert set(actors.ledger.applied().values()) == {1}
    seen = actors.ledger.seen()
    # The killed batches' uncommitted items ran again; their committed ones did not.
    assert 2 in seen.values() and set(seen.values()) <= {1, 2}
    assert sum(seen.values()) < 2 * ITEMS
    assert broker.dead_letters.count() == 0


def test_sigterm_stops_at_a_commit_point_and_the_rest_resumes(
    broker: CookbookBroker, batching, cli_worker  # type: ignore[no-untyped-def]
) -> None:
    actors = batching(**SLOW)
    env = config_env(actors.batcher.config)
    add_entries(actors, sample_entries(ITEMS))
    first = cli_worker("recipes.batching.worker", processes=1, threads=4, env=env)
    wait_until(lambda: _partly_done(actors), timeout=60, interval=0.01,
               message="a batch with some items committed and some not")
    first.terminate()
    assert first.wait(30) == 0
    at_stop = len(actors.ledger.applied())
    assert at_stop < ITEMS, "the worker drained everything instead of stopping"
    assert any(s["done"] for s in (batch_state(actors.batcher, b)
                                   for b in actors.batcher.open_batches())), \
        "an interrupted batch keeps its committed progress"

    cli_worker("recipes.batching.worker", processes=1, threads=4, env=env)
    wait_until(lambda: len(actors.ledger.applied()) == ITEMS and settled(actors, broker),
               timeout=60, message="all applied after the restart")
    assert set(actors.ledger.applied().values()) == {1}
    assert broker.dead_letters.count() == 0
