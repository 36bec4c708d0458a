"""Partial failures: only the failed items are retried or dead-lettered; nothing is redone."""

from __future__ import annotations

import redis

from common.broker import CookbookBroker
from recipes.batching.enqueue import add_entries, sample_entries
from recipes.batching.models import LedgerEntry
from recipes.batching.runner import run_batch
from tests.recipes.batching.conftest import settled
from tests.support import wait_until


def _entries(count: int, odd: dict[int, str]) -> list[LedgerEntry]:
    """``count`` entries; those at the positions in ``odd`` go to the given account."""
    return [LedgerEntry(entry_id=f"e{i}", account=odd.get(i, f"acct-{i % 5}"), amount_cents=i + 1)
            for i in range(count)]


def _dead_entry_ids(broker: CookbookBroker) -> set[str]:
    return {letter.message["args"][0]["item"]["entry_id"]  # type: ignore[index]
            for letter in broker.dead_letters.recent(limit=100)}


def test_three_poisoned_items_go_to_the_dlq_and_the_rest_complete(
    broker: CookbookBroker, batching, start_worker  # type: ignore[no-untyped-def]
) -> None:
    actors = batching(size=40, max_age_ms=300)
    actors.ledger.freeze("frozen")
    poisoned = {3: "frozen", 17: "frozen", 38: "frozen"}
    add_entries(actors, _entries(40, poisoned))
    assert len(actors.batcher.open_batches()) == 1  # all 40 in one batch
    start_worker(threads=4)
    wait_until(lambda: broker.dead_letters.count() == 3 and settled(actors, broker),
               timeout=30, message="3 dead letters and the batch settled")
    assert _dead_entry_ids(broker) == {"e3", "e17", "e38"}
    for letter in broker.dead_letters.recent():
        assert "permanent" in letter.reason and "account frozen is frozen" in (letter.error or "")
        assert letter.reason.startswith(f"item {letter.message['args'][0]['item']['entry_id']} ")  # type: ignore[index]
        assert letter.attempts == 1
    applied = actors.ledger.applied()
    assert applied == {f"e{i}": 1 for i in range(40) if i not in poisoned}
    assert set(actors.ledger.seen().values()) == {1}  # nobody was redone, poison not retried
    stats = actors.batcher.stats()
    assert stats["succeeded"] == 37 and stats["dead"] == 3 and "retried" not in stats

    # Replaying a dead letter puts the item back into the batcher; once fixed it applies once.
    actors.ledger.unfreeze("frozen")
    for letter in broker.dead_letters.recent():
        broker.dead_letters.replay(broker, letter.id)
    wait_until(lambda: len(actors.ledger.applied()) == 40, timeout=30, message="replays applied")
    assert set(actors.ledger.applied().values()) == {1}
    assert broker.dead_letters.count() == 0


def test_failing_items_are_retried_alone_until_they_run_out(
    broker: CookbookBroker, batching, start_worker  # type: ignore[no-untyped-def]
) -> None:
    actors = batching(size=30, max_age_ms=300, max_item_retries=2)
    actors.ledger.set_unavailable("down")
    add_entries(actors, _entries(30, {4: "down", 20: "down"}))
    start_worker(threads=4)
    wait_until(lambda: broker.dead_letters.count() == 2 and settled(actors, broker),
               timeout=30, message="2 dead letters and everything settled")
    assert _dead_entry_ids(broker) == {"e4", "e20"}
    for letter in broker.dead_letters.recent():
        assert "retries exhausted (2)" in letter.reason and letter.attempts == 3
        assert letter.error_type == "TransientError"
    seen = actors.ledger.seen()
    assert seen.pop("e4") == seen.pop("e20") == 3  # 1 run + 2 retries each
    assert set(seen.values()) == {1}  # the 28 others ran once
    assert len(actors.ledger.applied()) == 28
    assert actors.batcher.stats()["retried"] == 4  # two items, two retries each


def test_items_that_recover_are_applied_once(
    broker: CookbookBroker, batching, start_worker  # type: ignore[no-untyped-def]
) -> None:
    actors = batching(size=20, max_age_ms=300, max_item_retries=20)
    actors.ledger.set_unavailable("flaky")
    add_entries(actors, _entries(20, {0: "flaky", 9: "flaky", 19: "flaky"}))
    start_worker(threads=4)
    wait_until(lambda: actors.ledger.seen().get("e9", 0) >= 2, timeout=30,
               message="the flaky items failed and were retried")
    assert len(actors.ledger.applied()) == 17
    actors.ledger.set_unavailable("flaky", unavailable=False)
    wait_until(lambda: settled(actors, broker) and len(actors.ledger.applied()) == 20,
               timeout=30, message="flaky items applied after recovering")
    assert set(actors.ledger.applied().values()) == {1}
    seen = actors.ledger.seen()
    assert all(seen[f"e{i}"] >= 2 for i in (0, 9, 19))
    assert all(seen[f"e{i}"] == 1 for i in range(20) if i not in (0, 9, 19))
    assert broker.dead_letters.count() == 0


def test_undecodable_entries_are_dead_lettered_and_the_rest_applied(
    broker: CookbookBroker, redis_client: redis.Redis, batching, start_worker
) -> None:  # type: ignore[no-untyped-def]
    actors = batching(size=100, max_age_ms=200)
    pending = actors.batcher.keys["pending"]
    redis_client.rpush(pending, b"\xff garbage", b'900:0:0:{"entry_id": "x"}')
    add_entries(actors, sample_entries(5))
    start_worker(threads=2)
    wait_until(lambda: broker.dead_letters.count() == 2 and settled(actors, broker),
               timeout=30, message="2 dead letters and everything settled")
    assert len(actors.ledger.applied()) == 5
    letters = broker.dead_letters.recent()
    assert all("undecodable item" in (letter.error or "") for letter in letters)
    assert any("account" in (letter.error or "") for letter in letters)  # names the field
    assert {letter.replayable for letter in letters} == {False}
    assert any("garbage" in (letter.raw or "") for letter in letters)


def test_a_duplicate_batch_job_does_not_apply_anything_twice(
    broker: CookbookBroker, batching, start_worker  # type: ignore[no-untyped-def]
) -> None:
    # dramatiq#431 can deliver a delayed message twice; redelivery after a crash does too.
    actors = batching(size=50, max_age_ms=600_000, work_ms=5, commit_every=10)
    add_entries(actors, sample_entries(50))
    (batch_id,) = actors.batcher.open_batches()
    for _ in range(3):
        broker.enqueue(actors.batcher.batch_message(batch_id))
    start_worker(threads=8)
    wait_until(lambda: settled(actors, broker), timeout=30, message="all copies handled")
    assert len(actors.ledger.applied()) == 50 and set(actors.ledger.applied().values()) == {1}
    assert set(actors.ledger.seen().values()) == {1}  # the copies never even ran the handler


def test_a_run_that_lost_its_lease_commits_nothing(batching) -> None:  # type: ignore[no-untyped-def]
    actors = batching(size=10, max_age_ms=600_000)
    add_entries(actors, sample_entries(10))
    (batch_id,) = actors.batcher.open_batches()
    lease = actors.batcher.batch_keys(batch_id)["lease"]

    def usurped(ctx) -> None:  # type: ignore[no-untyped-def]
        actors.batcher.client.set(lease, "another-run")  # our lease expired and was taken
        for item in ctx.items:
            ctx.succeed(item, actors.ledger.effect(item.data))

    try:
        run_batch(actors.batcher, usurped, batch_id)
        raise AssertionError("expected LeaseLost")
    except Exception as exc:
        assert type(exc).__name__ == "LeaseLost"
    assert actors.ledger.applied() == {}
    assert actors.batcher.open_batches() == [batch_id]  # still there for the lease holder


def test_a_run_whose_lease_merely_expired_still_commits(batching) -> None:  # type: ignore[no-untyped-def]
    actors = batching(size=10, max_age_ms=600_000)
    add_entries(actors, sample_entries(10))
    (batch_id,) = actors.batcher.open_batches()
    lease = actors.batcher.batch_keys(batch_id)["lease"]

    def slow(ctx) -> None:  # type: ignore[no-untyped-def]
        actors.batcher.client.delete(lease)  # expired; no other run took the batch
        for item in ctx.items:
            ctx.succeed(item)
        ctx.batch_effect = actors.ledger.apply_all

    assert run_batch(actors.batcher, slow, batch_id) == "settled"
    assert actors.ledger.applied() == {f"e{i}": 1 for i in range(10)}
    assert actors.batcher.open_batches() == []
