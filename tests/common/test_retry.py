"""Retry taxonomy: transient -> backoff and retry; permanent -> DLQ at once; control -> free."""

from __future__ import annotations

import random
import time

import dramatiq
import redis
from dramatiq.middleware import CurrentMessage
from dramatiq.rate_limits import ConcurrentRateLimiter
from dramatiq.rate_limits.backends import RedisBackend

from common.broker import CookbookBroker
from common.errors import PermanentError, RateLimited, RetryLater, TransientError
from common.retry import backoff_ms, classify
from tests.support import wait_until

Q = "retry_test"


def _attempt_log(client: redis.Redis, job: str) -> list[tuple[int, int]]:
    """(retries, deferrals) seen by each run of ``job``."""
    raw = client.lrange(f"runs:{job}", 0, -1)
    return [tuple(int(x) for x in item.split(b",")) for item in raw]  # type: ignore[misc]


def _record(client: redis.Redis, job: str) -> int:
    options = CurrentMessage.get_current_message().options  # type: ignore[union-attr]
    client.rpush(f"runs:{job}", f"{options.get('retries', 0)},{options.get('deferrals', 0)}")
    return int(client.llen(f"runs:{job}"))


def test_transient_failure_succeeds_on_third_attempt(
    broker: CookbookBroker, redis_client: redis.Redis, start_worker
) -> None:  # type: ignore[no-untyped-def]
    @dramatiq.actor(broker=broker, queue_name=Q, max_retries=5, min_backoff=50, max_backoff=200)
    def flaky(job: str) -> None:
        if _record(redis_client, job) < 3:
            raise TransientError("upstream timed out")
        redis_client.sadd("done", job)

    flaky.send("j1")
    start_worker(queues=[Q])
    wait_until(lambda: redis_client.sismember("done", "j1"), message="j1 to succeed")
    assert _attempt_log(redis_client, "j1") == [(0, 0), (1, 0), (2, 0)]
    assert broker.dead_letters.count() == 0


def test_transient_failure_is_dead_lettered_when_retries_run_out(
    broker: CookbookBroker, redis_client: redis.Redis, start_worker
) -> None:  # type: ignore[no-untyped-def]
    @dramatiq.actor(broker=broker, queue_name=Q, max_retries=2, min_backoff=20, max_backoff=50)
    def always_down(job: str) -> None:
        _record(redis_client, job)
        raise ConnectionError("still down")

    always_down.send("j2")
    start_worker(queues=[Q])
    wait_until(lambda: broker.dead_letters.count() == 1, message="dead letter")
    letter = broker.dead_letters.recent()[0]
    assert len(_attempt_log(redis_client, "j2")) == 3  # max_retries=2 means 3 runs
    assert letter.attempts == 3
    assert letter.error_type == "ConnectionError" and letter.error == "still down"
    assert "retries exhausted" in letter.reason
    assert "ConnectionError: still down" in (letter.traceback or "")


def test_permanent_failure_is_dead_lettered_after_one_attempt(
    broker: CookbookBroker, redis_client: redis.Redis, start_worker
) -> None:  # type: ignore[no-untyped-def]
    @dramatiq.actor(broker=broker, queue_name=Q, max_retries=5, min_backoff=20)
    def charge(job: str) -> None:
        _record(redis_client, job)
        raise PermanentError("card number is invalid")

    @dramatiq.actor(broker=broker, queue_name=Q, throws=(KeyError,), min_backoff=20)
    def lookup(job: str) -> None:
        _record(redis_client, job)
        raise KeyError("no such customer")

    charge.send("j3")
    lookup.send("j4")
    start_worker(queues=[Q])
    wait_until(lambda: broker.dead_letters.count() == 2, message="two dead letters")
    assert len(_attempt_log(redis_client, "j3")) == 1
    assert len(_attempt_log(redis_client, "j4")) == 1
    reasons = {letter.actor: letter for letter in broker.dead_letters.recent()}
    assert reasons["charge"].reason == "permanent: PermanentError"
    assert reasons["charge"].attempts == 1
    assert reasons["lookup"].reason == "permanent: KeyError"


def test_retry_at_t_and_rate_limits_consume_no_attempt(
    broker: CookbookBroker, redis_client: redis.Redis, start_worker
) -> None:  # type: ignore[no-untyped-def]
    """max_retries=0: a single counted failure would dead-letter; deferrals must not count."""

    @dramatiq.actor(broker=broker, queue_name=Q, max_retries=0)
    def waits_for_slot(job: str) -> None:
        runs = _record(redis_client, job)
        if runs == 1:
            raise RetryLater("lock held elsewhere", delay_ms=30)
        if runs == 2:
            raise RateLimited("API says slow down", retry_after_s=0.03)
        if runs == 3:
            raise dramatiq.RateLimitExceeded("dramatiq limiter full")
        redis_client.sadd("done", job)

    waits_for_slot.send("j5")
    start_worker(queues=[Q])
    wait_until(lambda: redis_client.sismember("done", "j5"), timeout=15, message="j5 done")
    assert _attempt_log(redis_client, "j5") == [(0, 0), (0, 1), (0, 2), (0, 3)]
    assert broker.dead_letters.count() == 0


def test_dramatiq_rate_limiter_waits_do_not_burn_retries(
    broker: CookbookBroker, redis_client: redis.Redis, start_worker
) -> None:  # type: ignore[no-untyped-def]
    """With stock Retries these 10 jobs (max_retries=0) behind a mutex would die; here all run."""
    mutex = ConcurrentRateLimiter(RedisBackend(client=redis_client), "test-mutex", limit=1)

    @dramatiq.actor(broker=broker, queue_name=Q, max_retries=0)
    def exclusive(job: str) -> None:
        with mutex.acquire():
            redis_client.sadd("done", job)
            time.sleep(0.02)  # simulated work while holding the mutex

    for i in range(10):
        exclusive.send(f"m{i}")
    start_worker(queues=[Q], threads=8)
    wait_until(lambda: redis_client.scard("done") == 10, timeout=30, message="10 exclusive jobs")
    assert broker.dead_letters.count() == 0


def test_backoff_grows_exponentially_with_jitter_and_is_capped() -> None:
    rng = random.Random(1)
    for n, base in [(1, 100), (2, 200), (3, 400), (4, 800), (10, 1_000)]:
        samples = [backoff_ms(n, min_ms=100, max_ms=1_000, rng=rng) for _ in range(200)]
        assert min(samples) >= base // 2 and max(samples) <= base
        assert len(set(samples)) > 20  # jittered, not a constant


def test_classification_table() -> None:
    assert classify(TransientError("x")).kind == "retry"
    assert classify(ValueError("x")).kind == "retry"
    assert classify(PermanentError("x")).kind == "dead"
    assert classify(KeyError("x"), throws=(KeyError,)).kind == "dead"
    assert classify(RetryLater("x", delay_ms=5)).kind == "defer"
    from dramatiq.middleware import Shutdown, TimeLimitExceeded

    assert classify(Shutdown()).kind == "defer"
    assert classify(TimeLimitExceeded()).kind == "retry"  # a real failure: it counts
