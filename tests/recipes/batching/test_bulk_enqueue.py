"""Bulk enqueue: one round trip per 1,000 messages, read by the stock Dramatiq consumer."""

from __future__ import annotations

import json
from typing import Any

import dramatiq
import pytest
import redis
from dramatiq.middleware import Middleware
from pydantic import ValidationError

from common.broker import CookbookBroker, MessageTooLarge, make_broker
from common.settings import Settings
from recipes.batching import SINGLE_QUEUE
from recipes.batching.actors import register
from recipes.batching.bulk import BulkEnqueueError, bulk_send
from recipes.batching.enqueue import sample_entries, send_entries
from recipes.batching.models import LedgerEntry
from tests.support import wait_until

N = 5_000


class Recorder(Middleware):
    def __init__(self) -> None:
        self.events: list[tuple[str, str, int | None]] = []

    def before_enqueue(self, broker: Any, message: Any, delay: int | None) -> None:
        self.events.append(("before", message.message_id, delay))

    def after_enqueue(self, broker: Any, message: Any, delay: int | None) -> None:
        self.events.append(("after", message.message_id, delay))


def test_bulk_sent_jobs_are_each_run_once_by_the_stock_consumer(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis, start_worker
) -> None:  # type: ignore[no-untyped-def]
    recorder = Recorder()
    broker.add_middleware(recorder)
    actors = register(broker, redis_client, settings.namespace)
    entries = sample_entries(N)
    sent = send_entries(actors, entries)
    assert len(sent) == N
    # The broker's own layout: an id list and an id -> message hash, one entry per job.
    queue = f"{settings.namespace}:{SINGLE_QUEUE}"
    assert redis_client.llen(queue) == N and redis_client.hlen(queue + ".msgs") == N
    ids = [i.decode() for i in redis_client.lrange(queue, 0, -1)]
    assert ids == [m.options["redis_message_id"] for m in sent]  # FIFO, as sent
    first = json.loads(redis_client.hget(queue + ".msgs", ids[0]))  # type: ignore[arg-type]
    assert first["args"] == [entries[0].model_dump(mode="json")]
    # Every message saw before_enqueue, then after_enqueue once Redis held it.
    befores = [m for kind, m, _ in recorder.events if kind == "before"]
    afters = [m for kind, m, _ in recorder.events if kind == "after"]
    assert befores == afters == [m.message_id for m in sent]
    position = {(kind, m): i for i, (kind, m, _) in enumerate(recorder.events)}
    assert all(position["before", m.message_id] < position["after", m.message_id] for m in sent)

    start_worker(queues=[SINGLE_QUEUE], threads=8)
    wait_until(lambda: len(actors.ledger.applied()) == N, timeout=120,
               message=lambda: f"{N} entries applied (now {len(actors.ledger.applied())})")
    broker.join(SINGLE_QUEUE, timeout=30_000)
    assert set(actors.ledger.applied().values()) == {1}
    assert actors.ledger.seen() == {e.entry_id: 1 for e in entries}  # each delivered once
    assert broker.dead_letters.count() == 0


def test_delayed_bulk_goes_to_the_delay_queue_and_runs(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis, start_worker
) -> None:  # type: ignore[no-untyped-def]
    actors = register(broker, redis_client, settings.namespace)
    entries = sample_entries(50, prefix="late-")
    sent = bulk_send(actors.apply_one, entries, delay=200)
    dq = f"{settings.namespace}:{SINGLE_QUEUE}.DQ"
    assert redis_client.llen(dq) == 50 and redis_client.llen(dq[:-3]) == 0
    assert all("eta" in m.options for m in sent)
    start_worker(queues=[SINGLE_QUEUE], threads=4)
    wait_until(lambda: len(actors.ledger.applied()) == 50, timeout=30, message="delayed jobs ran")
    assert set(actors.ledger.applied().values()) == {1}


def test_one_invalid_payload_rejects_the_whole_bulk(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis
) -> None:
    actors = register(broker, redis_client, settings.namespace)
    entries: list[Any] = [*sample_entries(10)]
    entries[7] = LedgerEntry.model_construct(entry_id="bad", account="acct 1", amount_cents=5)
    with pytest.raises(ValidationError, match=r"7\.account"):
        bulk_send(actors.apply_one, entries)
    entries[7] = {"entry_id": "bad", "account": "a", "amount_cents": 0}
    with pytest.raises(ValidationError, match=r"7\.amount_cents"):
        bulk_send(actors.apply_one, entries)
    assert redis_client.llen(f"{settings.namespace}:{SINGLE_QUEUE}") == 0


def test_redis_down_fails_fast_and_says_what_was_queued(
    settings: Settings, redis_server_factory
) -> None:  # type: ignore[no-untyped-def]
    server = redis_server_factory()
    private = settings.model_copy(update={"redis_url": server.url})
    broker = make_broker(private)
    dramatiq.set_broker(broker)
    actors = register(broker, broker.client, private.namespace)
    server.kill()
    with pytest.raises(BulkEnqueueError, match="unreachable; 0 of 20 messages") as caught:
        send_entries(actors, sample_entries(20))
    assert caught.value.sent == []
    with pytest.raises(BulkEnqueueError, match="unreachable; 0 of 20 items are added"):
        actors.batcher.add_many(sample_entries(20))
    broker.close()


def test_an_oversized_message_or_item_is_refused_before_anything_is_written(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis
) -> None:
    actors = register(broker, redis_client, settings.namespace)
    entries = sample_entries(3_000)
    entries[2_500] = LedgerEntry(entry_id="x" * 128, account="a" * 64, amount_cents=1)
    broker.max_message_bytes = len(actors.apply_one.message(entries[0]).encode()) + 100
    with pytest.raises(MessageTooLarge, match="job for 'batching_apply_one' 2500 is"):
        bulk_send(actors.apply_one, entries)
    assert redis_client.llen(f"{settings.namespace}:{SINGLE_QUEUE}") == 0  # not even chunk 1
    broker.max_message_bytes = len(entries[0].model_dump_json()) + 100
    with pytest.raises(MessageTooLarge, match="item 2500 is"):
        actors.batcher.add_many(entries)
    assert actors.batcher.pending() == 0
