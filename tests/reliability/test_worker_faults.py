"""Worker SIGKILL and SIGTERM mid-load across several recipes' actors: every job accounted for."""

from __future__ import annotations

import dramatiq
import redis

from common.broker import CookbookBroker
from common.settings import Settings
from recipes.batching import QUEUE as BATCH_QUEUE
from recipes.batching.actors import register as register_batching
from recipes.batching.enqueue import add_entries, sample_entries
from recipes.fifo_ordered.actors import register as register_fifo
from recipes.fifo_ordered.enqueue import burst
from tests.support import wait_until

APP = "tests.reliability.app"
WORK_JOBS, ACCOUNTS, EVENTS, ITEMS = 1_000, 10, 50, 500  # 1,000 + 500 + 500 = 2,000
QUEUES = ["work", "fifo_ordered", BATCH_QUEUE]


def _load(broker: CookbookBroker, client: redis.Redis, ns: str):  # type: ignore[no-untyped-def]
    @dramatiq.actor(broker=broker, queue_name="work", actor_name="work")
    def work(job_id: str, duration_ms: int) -> None: ...

    fifo = register_fifo(broker, client, ns)
    batching = register_batching(broker, client, ns)
    for i in range(WORK_JOBS):
        work.send(f"job-{i}", 20)
    burst(fifo, accounts=ACCOUNTS, events=EVENTS)
    add_entries(batching, sample_entries(ITEMS))
    return fifo, batching


def _account(client: redis.Redis, ns: str, apps) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    fifo, batching = apps
    effects = client.lrange(f"{ns}:effects", 0, -1)
    applied = sum(len(fifo.mailbox.applied(f"acct-{a}")) for a in range(ACCOUNTS))
    return len(effects), applied, len(batching.ledger.applied())


DONE = (WORK_JOBS, ACCOUNTS * EVENTS, ITEMS)


def test_sigkill_mid_load_loses_nothing_and_doubles_nothing(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis, cli_worker
) -> None:  # type: ignore[no-untyped-def]
    ns = settings.namespace
    apps = _load(broker, redis_client, ns)
    fifo, batching = apps
    victim = cli_worker(APP, processes=2, threads=8, queues=QUEUES)
    wait_until(lambda: _account(redis_client, ns, apps)[0] >= 300, timeout=60,
               message="load under way")
    victim.kill()
    dead_sets = list(redis_client.scan_iter(match=f"{ns}:__acks__.*"))
    in_flight = sum(int(redis_client.scard(k)) for k in dead_sets)
    assert in_flight > 0, "the kill should strand in-flight messages"

    cli_worker(APP, processes=2, threads=8, queues=QUEUES)
    wait_until(lambda: redis_client.exists(*dead_sets) == 0,
               timeout=settings.recovery_bound_s + 1.0,
               message="stranded messages requeued within the stated bound")
    wait_until(lambda: _account(redis_client, ns, apps) == DONE,
               timeout=120, message=lambda: f"all done: {_account(redis_client, ns, apps)}")
    effects = [e.decode() for e in redis_client.lrange(f"{ns}:effects", 0, -1)]
    assert len(set(effects)) == WORK_JOBS, "a side effect ran twice"
    for a in range(ACCOUNTS):
        assert fifo.mailbox.applied(f"acct-{a}") == list(range(1, EVENTS + 1))
    assert set(batching.ledger.applied().values()) == {1}, "a batch item was applied twice"
    assert broker.dead_letters.count() == 0


def test_sigterm_mid_load_finishes_in_flight_and_keeps_the_rest(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis, cli_worker
) -> None:  # type: ignore[no-untyped-def]
    ns = settings.namespace
    apps = _load(broker, redis_client, ns)
    worker = cli_worker(APP, processes=2, threads=8, queues=QUEUES)
    wait_until(lambda: _account(redis_client, ns, apps)[0] >= 300, timeout=60,
               message="load under way")
    worker.terminate()
    assert worker.wait(60) == 0
    assert sum(int(redis_client.scard(k)) for k in redis_client.scan_iter(f"{ns}:__acks__.*")) == 0
    started = {m.decode() for m in redis_client.smembers(f"{ns}:started")}
    finished = {m.decode() for m in redis_client.smembers(f"{ns}:finished")}
    assert started == finished, "a job was cut off mid-way"
    queued_work = sum(1 for v in redis_client.hvals(f"{ns}:work.msgs"))
    assert len(finished) + queued_work == WORK_JOBS  # every job accounted for

    cli_worker(APP, processes=2, threads=8, queues=QUEUES)
    wait_until(lambda: _account(redis_client, ns, apps) == DONE,
               timeout=120, message=lambda: f"all done: {_account(redis_client, ns, apps)}")
