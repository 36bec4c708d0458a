"""common.concurrency: never more than N jobs inside a resource, across processes and crashes."""

from __future__ import annotations

from collections.abc import Callable

import dramatiq
import pytest
import redis

from common.broker import CookbookBroker
from common.concurrency import ConcurrencyLimit, limit_concurrency
from common.settings import Settings
from tests.common.concurrency_app import HOLD_QUEUE, QUEUE, register
from tests.support import CliWorker, wait_until

APP = "tests.common.concurrency_app:boot"


def test_slots_are_owned_counted_and_reclaimed_after_their_lease(
    settings: Settings, redis_client: redis.Redis
) -> None:
    sem = ConcurrencyLimit(redis_client, settings.namespace, "gpu", 2, lease_ms=300)
    first, second = sem.acquire(), sem.acquire()
    assert first is not None and second is not None and first.token != second.token
    assert sem.acquire() is None, "a third holder got in with limit 2"
    assert sem.release(first) and not sem.release(first), "release must be by owner, once"
    assert not sem.renew(first), "a released slot cannot be renewed back into the set"
    third = sem.acquire()
    assert third is not None and sem.acquire() is None
    # Nobody renews: both leases end, and the next acquire takes a slot back.
    assert wait_until(sem.acquire, timeout=10, message="an expired lease to be reclaimed")
    assert not sem.renew(second), "a reclaimed lease must not come back"
    assert all(k.startswith(settings.namespace.encode() + b":") for k in redis_client.scan_iter())
    assert wait_until(lambda: redis_client.dbsize() == 0, timeout=10,
                      message="the holder set to expire once every lease has ended")


def test_two_processes_never_exceed_the_limit_and_every_job_runs_once(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis,
    cli_worker: Callable[..., CliWorker],
) -> None:
    jobs, limit = 200, 3
    app = register(broker, redis_client, settings.namespace, limit=limit, lease_ms=5_000)
    for i in range(jobs):
        app.use.send(f"job-{i}", 50)
    cli_worker(APP, processes=2, threads=8, queues=[QUEUE],
               env={"CONC_LIMIT": str(limit), "CONC_LEASE_MS": "5000"})
    res = app.resource
    wait_until(lambda: len(res.ints(res.done)) == jobs or broker.dead_letters.count(),
               timeout=180, message=lambda: f"{jobs} jobs done (now {len(res.ints(res.done))})")
    broker.join(QUEUE, timeout=30_000)

    assert res.ints(res.done) == {f"job-{i}": 1 for i in range(jobs)}
    assert res.peak() == limit, f"peak inside the resource was {res.peak()}, limit {limit}"
    calls = res.ints(res.calls)
    assert sum(calls.values()) > jobs, "no job was ever deferred: the limit was not exercised"
    # max_retries=0 on the actor: any deferral counted as an attempt would dead-letter a job.
    assert broker.dead_letters.count() == 0
    assert app.limiter.holders() == 0


def test_a_killed_holder_frees_its_slot_once_its_lease_ends(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis,
    cli_worker: Callable[..., CliWorker],
) -> None:
    """One slot is held by a job that gets SIGKILLed, the other by a live job that keeps
    renewing (so the holder set never expires as a whole): only reclaiming the dead lease at
    acquire time lets the 40 waiting jobs through."""
    limit, lease_ms, jobs = 2, 3_000, 40
    env = {"CONC_LIMIT": str(limit), "CONC_LEASE_MS": str(lease_ms)}
    app = register(broker, redis_client, settings.namespace, limit=limit, lease_ms=lease_ms)
    res = app.resource
    redis_client.sadd(res.gate, "dead", "live")
    victim = cli_worker(APP, processes=1, threads=4, queues=[HOLD_QUEUE], env=env)
    app.hold.send("dead", -1)
    wait_until(lambda: redis_client.scard(res.inside) == 1, timeout=60, message="dead inside")
    cli_worker(APP, processes=2, threads=8, queues=[QUEUE, HOLD_QUEUE], env=env)
    app.use.send("live", -1)  # only the survivors consume QUEUE
    wait_until(lambda: redis_client.scard(res.inside) == 2, timeout=60, message="live inside")
    for i in range(jobs):
        app.use.send(f"job-{i}", 20)
    wait_until(lambda: sum(res.ints(res.calls).values()) >= 2 + 2 * jobs
               or redis_client.hlen(res.entered) > 2, timeout=60,
               message="the other workers to keep trying while the slots are held")
    before = res.ints(res.entered)
    assert len(before) == limit, "a job got in while every slot was held by a live holder"

    victim.kill()
    (dead_run,) = [run for run in before if run.startswith("dead:")]
    dead_token = redis_client.hget(res.tokens, dead_run)
    assert dead_token is not None
    dead_score = redis_client.zscore(app.limiter.key, dead_token)
    assert dead_score is not None, "the killed holder's slot vanished at once: no lease at all"
    redis_client.srem(res.gate, "dead")  # its redelivery (crash recovery) passes straight through
    names = [f"job-{i}" for i in range(jobs)]
    wait_until(lambda: set(names) <= set(res.ints(res.done)), timeout=120,
               message=lambda: f"the waiting jobs done after the kill ({res.ints(res.done)})")
    redis_client.srem(res.gate, "live")
    wait_until(lambda: len(res.ints(res.done)) == jobs + 2, timeout=60, message="all done")

    assert res.ints(res.done) == dict.fromkeys([*names, "dead", "live"], 1)
    entered, exited = res.ints(res.entered), res.ints(res.exited)
    # The dead run occupies its slot until its last lease ends (Redis clock, ms -> us).
    dead_expiry = int(dead_score) * 1_000
    exited[dead_run] = dead_expiry
    after_kill = [t for run, t in entered.items() if run not in before]
    assert min(after_kill) >= dead_expiry, "the dead holder's slot was reused before its lease"
    for run, start in entered.items():
        inside = sum(1 for r, t in entered.items() if t <= start < exited[r])
        assert inside <= limit, f"{inside} runs inside when {run} entered"
    assert broker.dead_letters.count() == 0
    assert app.limiter.holders() == 0, "the dead holder's token was never reclaimed"


def test_renewal_keeps_a_job_three_leases_long_in_its_slot(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis,
    start_worker: Callable[..., dramatiq.Worker],
) -> None:
    lease_ms, shorts = 1_000, 20
    app = register(broker, redis_client, settings.namespace, limit=1, lease_ms=lease_ms,
                   retry_ms=50)
    res = app.resource
    start_worker(queues=[QUEUE], threads=8)
    app.use.send("long", 3 * lease_ms + 500)
    wait_until(lambda: redis_client.scard(res.inside) == 1, timeout=30, message="long inside")
    for i in range(shorts):
        app.use.send(f"short-{i}", 10)
    wait_until(lambda: len(res.ints(res.done)) == shorts + 1, timeout=90,
               message=lambda: f"every job done ({len(res.ints(res.done))})")

    entered, exited = res.ints(res.entered), res.ints(res.exited)
    (long_run,) = [r for r in entered if r.startswith("long:")]
    assert exited[long_run] - entered[long_run] >= 3 * lease_ms * 1_000
    for run, start in entered.items():
        if run != long_run:
            assert start >= exited[long_run], f"{run} got in while the long job held the slot"
    assert res.peak() == 1
    short_calls = sum(n for job, n in res.ints(res.calls).items() if job != "long")
    assert short_calls > shorts, "the short jobs never knocked while the long job ran"
    assert res.ints(res.done) == {"long": 1, **{f"short-{i}": 1 for i in range(shorts)}}
    assert broker.dead_letters.count() == 0


@pytest.mark.parametrize(("resource", "limit", "match"), [
    ("db", 0, "limit"), ("db", -2, "limit"), ("db", 2.5, "limit"), ("db", True, "limit"),
    ("", 3, "resource"), ("   ", 3, "resource"),
])
def test_bad_limit_or_resource_name_is_refused(
    settings: Settings, redis_client: redis.Redis, resource: str, limit: int, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        limit_concurrency(resource, limit, client=redis_client, namespace=settings.namespace)
    with pytest.raises(ValueError, match="lease_ms"):
        ConcurrencyLimit(redis_client, settings.namespace, "db", 1, lease_ms=10)
    assert redis_client.dbsize() == 0
