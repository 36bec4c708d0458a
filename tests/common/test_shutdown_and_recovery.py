"""Real ``dramatiq`` worker subprocesses: SIGTERM finishes in-flight work, SIGKILL is recovered."""

from __future__ import annotations

import time

import redis

from common.broker import CookbookBroker
from common.settings import Settings
from tests.support import wait_until

APP = "tests.common.worker_app"


def _declare(broker: CookbookBroker):  # type: ignore[no-untyped-def]
    import dramatiq

    # Same names as in worker_app: only used here to send.
    @dramatiq.actor(broker=broker, queue_name="work", actor_name="work")
    def work(job_id: str, duration_ms: int) -> None: ...

    return work


def _members(client: redis.Redis, key: str) -> set[str]:
    return {m.decode() for m in client.smembers(key)}


def _in_flight(client: redis.Redis, ns: str) -> int:
    return sum(int(client.scard(k)) for k in client.scan_iter(match=f"{ns}:__acks__.*"))


def test_sigterm_finishes_in_flight_jobs_and_leaves_the_rest_queued(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis, cli_worker
) -> None:  # type: ignore[no-untyped-def]
    ns, total = settings.namespace, 200
    work = _declare(broker)
    for i in range(total):
        work.send(f"job-{i}", 300)
    worker = cli_worker(APP, processes=1, threads=4)
    wait_until(lambda: redis_client.scard(f"{ns}:finished") >= 8, timeout=30,
               message="some jobs to finish")
    worker.terminate()
    assert worker.wait(60) == 0, worker.log_tail()

    started = _members(redis_client, f"{ns}:started")
    finished = _members(redis_client, f"{ns}:finished")
    assert started == finished, f"interrupted: {sorted(started - finished)}"
    queued = int(redis_client.hlen(f"{ns}:work.msgs"))
    assert redis_client.llen(f"{ns}:work") == queued  # prefetched messages went back
    assert _in_flight(redis_client, ns) == 0
    assert len(finished) + queued == total  # every job accounted for
    assert 0 < queued < total

    cli_worker(APP, processes=1, threads=8)
    wait_until(lambda: redis_client.scard(f"{ns}:finished") == total, timeout=60,
               message="the rest to finish after restart")
    effects = [e.decode() for e in redis_client.lrange(f"{ns}:effects", 0, -1)]
    assert sorted(effects) == sorted(f"job-{i}" for i in range(total))


def test_sigkill_in_flight_jobs_are_redelivered_within_the_bound_and_run_once(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis, cli_worker
) -> None:  # type: ignore[no-untyped-def]
    ns, total = settings.namespace, 40
    work = _declare(broker)
    for i in range(total):
        work.send(f"job-{i}", 1_000)
    victim = cli_worker(APP, processes=1, threads=8)
    wait_until(lambda: redis_client.scard(f"{ns}:started") >= 8, timeout=30,
               message="8 jobs in flight")
    victim.kill()
    killed_at = time.monotonic()
    stranded = _in_flight(redis_client, ns)
    dead_sets = list(redis_client.scan_iter(match=f"{ns}:__acks__.*"))  # only the victim's
    assert stranded >= 8  # in flight and prefetched, owned by a dead worker
    assert redis_client.scard(f"{ns}:finished") < total

    cli_worker(APP, processes=1, threads=8)
    # The bound: back on the queue within heartbeat timeout + 2 recovery intervals.
    bound = settings.recovery_bound_s + 1.0  # + 1 s for the new worker's boot
    wait_until(lambda: redis_client.exists(*dead_sets) == 0, timeout=bound,
               message="dead worker's messages requeued")
    recovered_after = time.monotonic() - killed_at
    wait_until(lambda: redis_client.scard(f"{ns}:finished") == total, timeout=90,
               message=lambda: f"all done ({redis_client.scard(f'{ns}:finished')}/{total})")
    effects = [e.decode() for e in redis_client.lrange(f"{ns}:effects", 0, -1)]
    assert len(effects) == total and len(set(effects)) == total, "a side effect ran twice"
    print(f"stranded={stranded} recovered_after={recovered_after:.1f}s bound={bound:.1f}s")

