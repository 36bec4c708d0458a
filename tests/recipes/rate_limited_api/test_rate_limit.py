"""rate_limited_api: 2 worker processes x 8 threads never exceed N/s at a strict server,
and an upstream 429 + Retry-After pauses every worker without costing a job an attempt."""

from __future__ import annotations

from collections import Counter

import redis

from common.broker import CookbookBroker
from common.settings import Settings
from recipes.rate_limited_api import QUEUE
from recipes.rate_limited_api.actors import RateLimitedActors, register
from recipes.rate_limited_api.config import load_api_settings
from recipes.rate_limited_api.enqueue import send_many
from recipes.rate_limited_api.upstream import StrictApi
from tests.support import wait_until

N = 50
WORKER = "recipes.rate_limited_api.worker"


def _setup(broker: CookbookBroker, settings: Settings, client: redis.Redis,
           api: StrictApi) -> tuple[RateLimitedActors, dict[str, str]]:
    actors = register(broker, client, settings.namespace, load_api_settings(url=api.url, rate=N))
    env = {"RATE_LIMITED_API_URL": api.url, "RATE_LIMITED_API_RATE": str(N)}
    return actors, env


def _wait_all(actors: RateLimitedActors, api: StrictApi, total: int) -> None:
    wait_until(lambda: actors.results.count() == total, timeout=150, interval=0.2,
               message=lambda: f"{total} jobs done (now {actors.results.count()}, "
                               f"server saw {api.statuses()})")


def test_600_jobs_from_two_processes_never_exceed_the_limit(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis, strict_api,
    cli_worker,
) -> None:  # type: ignore[no-untyped-def]
    api = strict_api(limit=N)
    actors, env = _setup(broker, settings, redis_client, api)
    ids = send_many(actors, 600)
    cli_worker(WORKER, processes=2, threads=8, queues=[QUEUE], env=env)
    _wait_all(actors, api, 600)

    assert api.statuses() == Counter({200: 600}), "the strict server answered a 429"
    assert api.max_in_window(1.0) <= N
    assert api.ok_per_item() == Counter(dict.fromkeys(ids, 1)), "each job completed once"
    results = actors.results.all()
    assert all(r["retries"] == 0 for r in results.values())
    # Every wait was a sleep in the worker thread until its reserved slot: nothing was
    # re-scheduled and each request took exactly one reservation (no polling).
    assert all(r["deferrals"] == 0 for r in results.values())
    assert actors.limiter.tickets_issued() == 600
    assert broker.dead_letters.count() == 0


def test_upstream_429_pauses_every_worker_and_costs_no_attempt(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis, strict_api,
    cli_worker,
) -> None:  # type: ignore[no-untyped-def]
    api = strict_api(limit=N)
    actors, env = _setup(broker, settings, redis_client, api)
    api.force_429(retry_after_s=2, after=100)
    ids = send_many(actors, 300)
    cli_worker(WORKER, processes=2, threads=8, queues=[QUEUE], env=env)
    _wait_all(actors, api, 300)

    [(t0, t_end)] = api.forced
    seen = api.snapshot()
    forced = next(s for s in seen if s.at == t0)
    first_pause = actors.limiter.pauses()[-1]  # newest first: the first worker to hear it
    # Requests are numbered in start order (X-Request-Id). Every request started after a
    # worker recorded the pause arrived once the server's 2 s were over ...
    after = [s for s in seen if int(s.request_id or 0) > first_pause["ticket"]]
    assert after and min(s.at for s in after) >= t_end
    # ... so what arrived during the pause had started before the 429 reached any worker
    # (already on the wire), at most one per other thread.
    during = [s for s in seen if t0 < s.at < t_end]
    assert all(int(s.request_id or 0) <= first_pause["ticket"] for s in during)
    assert len(during) < 2 * 8
    # The only 429s were the pause itself, never the rate limit.
    assert all(t0 <= s.at < t_end for s in seen if s.status == 429)
    assert api.max_in_window(1.0) <= N

    assert api.ok_per_item() == Counter(dict.fromkeys(ids, 1)), "each job completed once"
    results = actors.results.all()
    assert all(r["retries"] == 0 for r in results.values()), "a 429 cost an attempt"
    # The job that got the 429 was re-scheduled for the end of the pause, not retried.
    assert results[forced.path.rsplit("/", 1)[-1]]["deferrals"] >= 1
    assert broker.dead_letters.count() == 0
