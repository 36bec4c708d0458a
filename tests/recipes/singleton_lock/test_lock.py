"""The fenced lock: fences follow acquisitions, stale holders are refused, renewal works."""

from __future__ import annotations

import threading
from collections.abc import Callable

import dramatiq
import pytest
import redis

from common.broker import CookbookBroker
from common.settings import Settings
from recipes.singleton_lock import QUEUE
from recipes.singleton_lock.actors import register
from recipes.singleton_lock.enqueue import send_report
from recipes.singleton_lock.fenced_lock import LockLost, LockNotOwnedError
from recipes.singleton_lock.lease import LockBusy, Locks
from recipes.singleton_lock.models import ReportJob
from recipes.singleton_lock.resource import FencedStore, StaleFence, verify_exclusive
from tests.support import wait_until

StartWorker = Callable[..., dramatiq.Worker]


def test_fence_grows_with_every_acquisition_and_owner_token_guards_release(
        settings: Settings, redis_client: redis.Redis) -> None:
    locks = Locks(redis_client, settings.namespace, ttl_ms=5_000)
    fences = []
    for _ in range(5):
        with locks.hold("k", renew=False) as lease:
            fences.append(lease.fence)
            with pytest.raises(LockBusy):  # a second holder is refused while we hold it
                locks.acquire("k")
    assert fences == [1, 2, 3, 4, 5]
    with locks.hold("k") as renewed:
        assert renewed.renewing
    assert not renewed.renewing  # the renewer thread stops on release
    assert not redis_client.exists(locks.keys("k")["lock"])
    # Another holder's token cannot release the lock.
    lease = locks.acquire("k", renew=False)
    impostor = locks.lock("k")
    impostor.local.token = b"not-the-owner"
    with pytest.raises(LockNotOwnedError):
        impostor.release()
    assert redis_client.get(locks.keys("k")["lock"]) == lease.token
    lease.release()


def test_stale_holder_write_is_refused_after_its_lease_expired(
        settings: Settings, redis_client: redis.Redis) -> None:
    locks = Locks(redis_client, settings.namespace)
    store = FencedStore(redis_client, settings.namespace)
    stale = locks.acquire("k", ttl_ms=300, renew=False)  # a holder that stalls: no renewal
    store.enter("stale", stale.fence, "job-a")
    store.write("stale", stale.fence, "job-a", "from the stale holder")
    wait_until(lambda: not redis_client.exists(locks.keys("k")["lock"]), timeout=10,
               message="the stale holder's lock to expire")
    with locks.hold("k", renew=False) as fresh:
        assert fresh.fence > stale.fence
        store.enter("fresh", fresh.fence, "job-b")
        # The stale holder wakes up and writes: refused, the resource keeps the new holder.
        with pytest.raises(StaleFence, match=f"fence {stale.fence}"):
            store.write("stale", stale.fence, "job-a", "late write")
        store.write("fresh", fresh.fence, "job-b", "from the fresh holder")
        assert not store.exit("stale", stale.fence, "job-a")  # recorded as a late exit
        store.exit("fresh", fresh.fence, "job-b")
    with pytest.raises(LockLost):  # the stale holder learns it at release
        stale.release()
    assert store.value() == {"value": "from the fresh holder", "fence": fresh.fence,
                             "job": "job-b"}
    counts = store.counts()
    assert counts["refused"] == 1 and counts["writes"] == 2
    assert counts["takeovers"] == 1 and counts["late_exits"] == 1  # seen, exactly


def test_resource_detects_two_holders_when_there_is_no_lock(
        settings: Settings, redis_client: redis.Redis) -> None:
    """Control: without the lock the same checks do fail, so they can catch a broken lock."""
    store = FencedStore(redis_client, settings.namespace)
    barrier = threading.Barrier(8)

    def unlocked(n: int) -> None:
        barrier.wait()
        for _ in range(25):
            fence = int(redis_client.incr(f"{settings.namespace}:singleton:bare-fence"))
            try:
                store.enter(f"h{n}", fence, f"j{n}")
                store.exit(f"h{n}", fence, f"j{n}")
            except StaleFence:
                pass

    threads = [threading.Thread(target=unlocked, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    counts = store.counts()
    assert counts.get("takeovers", 0) + counts.get("refused", 0) > 0, counts
    with pytest.raises(AssertionError):
        verify_exclusive(store.events())


def test_renewal_keeps_a_job_running_three_ttls_safe(
        broker: CookbookBroker, settings: Settings, redis_client: redis.Redis,
        start_worker: StartWorker) -> None:
    ttl_ms = 1_500
    actors = register(broker, redis_client, settings.namespace, ttl_ms=ttl_ms)
    start_worker(queues=[QUEUE], threads=2)
    send_report(actors, ReportJob(key="long", job_id="long", value="v", work_ms=3 * ttl_ms + 300))
    wait_until(lambda: actors.store.counts().get("enters") == 1, timeout=30,
               message="the long job to enter the resource")
    # A rival holder keeps trying for the whole run. If it ever got the key while the job
    # was inside, the resource would record a takeover and refuse the job's older fence.
    attempts = 0

    def rival_tries_once() -> bool:
        nonlocal attempts
        attempts += 1
        try:
            with actors.locks.hold("long", renew=False) as rival:
                actors.store.enter("rival", rival.fence, "rival")
                actors.store.exit("rival", rival.fence, "rival")
        except (LockBusy, StaleFence):
            pass
        return bool(actors.runs.jobs())

    wait_until(rival_tries_once, timeout=60, interval=0.05,
               message=lambda: f"the long job to finish ({actors.store.counts()})")
    assert attempts > 10
    [run] = actors.runs.all()
    assert run["retries"] == 0  # never lost its lease
    # It outlived 3 TTLs: without at least 3 renewals the key would have expired.
    assert run["renewals"] >= 3, run
    counts = actors.store.counts()
    assert counts.get("takeovers", 0) == counts.get("refused", 0) == 0, counts
    verify_exclusive(actors.store.events())


def test_job_learns_it_lost_the_lock_when_renewal_fails(
        broker: CookbookBroker, settings: Settings, redis_client: redis.Redis,
        start_worker: StartWorker) -> None:
    actors = register(broker, redis_client, settings.namespace, ttl_ms=1_500)
    start_worker(queues=[QUEUE], threads=2)
    send_report(actors, ReportJob(key="k", job_id="victim", value="v", gate="g"))
    wait_until(lambda: actors.store.counts().get("enters") == 1, timeout=30, message="enter")
    lock_key = actors.locks.keys("k")["lock"]
    # The lock expires behind the holder's back and a rival takes it (as after a long pause).
    redis_client.delete(lock_key)
    rival = actors.locks.acquire("k", renew=False)
    wait_until(lambda: actors.store.counts().get("exits") == 1, timeout=10,
               message="the victim to notice the lost lease and stop")
    assert actors.runs.jobs() == []  # it stopped before writing
    assert redis_client.get(lock_key) == rival.token  # and did not release the rival's lock
    rival.release()
    actors.store.open_gate("g")
    wait_until(lambda: actors.runs.jobs() == ["victim"], timeout=30,
               message="the retried job to complete")
    assert actors.runs.all()[0]["retries"] == 1  # LockLost is a failure: one attempt spent
    verify_exclusive(actors.store.events())
