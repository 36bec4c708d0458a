"""circuit_breaker state machine: each decision is one Lua call, atomic under contention."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import redis

from common.broker import CookbookBroker
from common.settings import Settings
from recipes.circuit_breaker import QUEUE
from recipes.circuit_breaker.actors import register
from recipes.circuit_breaker.breaker import Admission, BreakerOpen, CircuitBreaker
from recipes.circuit_breaker.config import ApiConfig, BreakerConfig
from recipes.circuit_breaker.models import FetchItem
from tests.support import wait_until


def at_once(n: int, fn: Callable[[], Any]) -> list[Any]:
    """Run ``fn`` on ``n`` threads released together; returns results or exceptions."""
    barrier, out, lock = threading.Barrier(n), [], threading.Lock()

    def run() -> None:
        barrier.wait()
        try:
            value: Any = fn()
        except Exception as exc:
            value = exc
        with lock:
            out.append(value)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def breaker(client: redis.Redis, settings: Settings, **config: Any) -> CircuitBreaker:
    return CircuitBreaker(client, settings.namespace, "dep", BreakerConfig(**config))


def open_then_cool(b: CircuitBreaker) -> None:
    """Open the breaker with K failures, then wait (on Redis's clock) until it may half-open."""
    for _ in range(b.config.failures):
        b.failure(b.acquire())
    assert b.state()["state"] == "open"
    until = b.transitions()[-1]["until_ms"]
    wait_until(lambda: _redis_ms(b.client) >= until, timeout=10, message="cool-down over")


def _redis_ms(client: redis.Redis) -> int:
    seconds, micros = client.time()
    return seconds * 1000 + micros // 1000


def test_concurrent_failures_open_the_breaker_exactly_once(
    redis_client: redis.Redis, settings: Settings
) -> None:
    b = breaker(redis_client, settings, failures=5, cooldown_s=60)
    admissions = [b.acquire() for _ in range(32)]
    pending = iter(admissions)
    results = at_once(32, lambda: b.failure(next(pending)))
    assert Counter(results)["open"] >= 1
    assert [t["event"] for t in b.transitions()] == ["opened"]
    with pytest.raises(BreakerOpen) as raised:
        b.acquire()
    assert 50_000 < raised.value.delay_ms <= 72_000  # the cool-down left, plus jitter


def test_half_open_admits_exactly_m_probes_under_contention(
    redis_client: redis.Redis, settings: Settings
) -> None:
    b = breaker(redis_client, settings, failures=3, cooldown_s=0.3, probes=2, probe_wait_s=0.5)
    open_then_cool(b)
    results = at_once(32, b.acquire)
    admitted = [r for r in results if isinstance(r, Admission)]
    assert sorted(a.kind for a in admitted) == ["probe", "probe"]
    assert sum(isinstance(r, BreakerOpen) for r in results) == 30
    assert [t["event"] for t in b.transitions()] == ["opened", "half_open"]
    # One probe succeeds: closed, and the next calls go straight through.
    assert b.success(admitted[0]) == "closed"
    assert b.acquire().kind == "call"
    assert b.success(admitted[1]) == "closed"  # the late second probe changes nothing
    assert [t["event"] for t in b.transitions()] == ["opened", "half_open", "closed"]


def test_a_failed_probe_reopens_for_a_full_cooldown(
    redis_client: redis.Redis, settings: Settings
) -> None:
    b = breaker(redis_client, settings, failures=2, cooldown_s=0.3, probes=1)
    open_then_cool(b)
    assert b.failure(b.acquire()) == "open"
    log = b.transitions()
    assert [t["event"] for t in log] == ["opened", "half_open", "opened"]
    assert log[-1]["until_ms"] - log[-1]["at_ms"] == 300


def test_a_probe_that_never_reports_frees_its_slot_after_its_lease(
    redis_client: redis.Redis, settings: Settings
) -> None:
    b = breaker(redis_client, settings, failures=1, cooldown_s=0.2, probes=1,
                probe_lease_s=0.5, probe_wait_s=0.1)
    open_then_cool(b)
    assert b.acquire().kind == "probe"  # its worker dies: no success, no failure, ever

    def next_probe() -> Admission | None:
        try:
            return b.acquire()
        except BreakerOpen:
            return None

    assert wait_until(next_probe, timeout=10, message="a new probe after the lease").kind == "probe"


def test_results_from_an_older_period_are_ignored(
    redis_client: redis.Redis, settings: Settings
) -> None:
    b = breaker(redis_client, settings, failures=2, cooldown_s=0.2, probes=1)
    straggler = b.acquire()  # a slow call admitted while closed
    open_then_cool(b)
    probe = b.acquire()
    assert b.failure(straggler) == "half_open", "a failure from before the opening re-opened it"
    assert b.success(probe) == "closed"
    late = b.acquire()
    open_then_cool(b)
    # A success claimed for an older generation cannot close the breaker it did not probe.
    assert b.success(Admission("probe", late.generation, "x")) == "open"
    assert b.transitions()[-1]["event"] == "opened"


def test_failures_older_than_the_window_do_not_add_up(
    redis_client: redis.Redis, settings: Settings
) -> None:
    b = breaker(redis_client, settings, failures=3, window_s=0.5, cooldown_s=60)
    b.failure(b.acquire())
    b.failure(b.acquire())
    first = int(redis_client.zrange(b.keys["failures"], 0, 0, withscores=True)[0][1])
    wait_until(lambda: _redis_ms(redis_client) > first + 500, timeout=10, message="window passed")
    assert b.failure(b.acquire()) == "closed"  # only 1 failure inside the window now
    b.failure(b.acquire())
    assert b.failure(b.acquire()) == "open"  # 3 within the window


def test_a_4xx_is_permanent_and_does_not_count_against_the_dependency(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis,
    start_worker, flaky_api,  # type: ignore[no-untyped-def]
) -> None:
    server = flaky_api()
    actors = register(broker, redis_client, settings.namespace, api=ApiConfig(url=server.url),
                      config=BreakerConfig(failures=1))
    for item in ("missing-1", "missing-2", "ok-1"):
        actors.fetch_item.send(FetchItem(item=item))
    start_worker(queues=[QUEUE], threads=2)
    wait_until(lambda: broker.dead_letters.count() == 2 and "ok-1" in actors.results(),
               timeout=30, message="two 404s dead-lettered, the good job done")
    assert {d.attempts for d in broker.dead_letters.recent()} == {1}
    assert actors.breaker.state()["state"] == "closed" and not actors.breaker.transitions()


def test_invalid_job_is_refused_at_send(broker: CookbookBroker, settings: Settings,
                                        redis_client: redis.Redis) -> None:
    from pydantic import ValidationError

    actors = register(broker, redis_client, settings.namespace)
    with pytest.raises(ValidationError, match="item"):
        actors.fetch_item.send(FetchItem.model_construct(item="../etc/passwd"))
    assert redis_client.llen(f"{settings.namespace}:{QUEUE}") == 0
