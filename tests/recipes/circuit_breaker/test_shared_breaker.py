"""circuit_breaker end to end: 2 worker processes x 8 threads against a real failing server."""

from __future__ import annotations

import itertools
from collections import Counter

import redis

from common.broker import CookbookBroker
from common.settings import Settings
from recipes.circuit_breaker.actors import register
from recipes.circuit_breaker.config import ApiConfig, BreakerConfig
from recipes.circuit_breaker.enqueue import send_fetches
from tests.support import wait_until

K, W, COOLDOWN, M, THREADS, JOBS = 5, 10.0, 2.0, 2, 16, 120


def test_breaker_stops_calls_for_the_cooldown_probes_close_it_and_every_job_completes(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis,
    cli_worker, flaky_api,  # type: ignore[no-untyped-def]
) -> None:
    server = flaky_api(failing=True)
    config = BreakerConfig(failures=K, window_s=W, cooldown_s=COOLDOWN, probes=M,
                           probe_wait_s=0.5)
    actors = register(broker, redis_client, settings.namespace, config=config,
                      api=ApiConfig(url=server.url))
    items = send_fetches(actors, JOBS)
    env = {"COOKBOOK_BREAKER_API_URL": server.url, "COOKBOOK_BREAKER_FAILURES": str(K),
           "COOKBOOK_BREAKER_WINDOW_S": str(W), "COOKBOOK_BREAKER_COOLDOWN_S": str(COOLDOWN),
           "COOKBOOK_BREAKER_PROBES": str(M), "COOKBOOK_BREAKER_PROBE_WAIT_S": "0.5"}
    worker = cli_worker("recipes.circuit_breaker.worker", processes=2, threads=8, env=env)

    def opened() -> int:
        return sum(t["event"] == "opened" for t in actors.breaker.transitions())

    # Opened by the first failures, then re-opened by failed probes: the server stays down.
    wait_until(lambda: opened() >= 2, timeout=60,
               message=lambda: f"two openings; log {actors.breaker.transitions()}\n"
                               f"{worker.log_tail()}")
    server.failing = False
    wait_until(lambda: len(actors.results()) == JOBS, timeout=120,
               message=lambda: f"all {JOBS} jobs done (now {len(actors.results())}); "
                               f"log {actors.breaker.transitions()}\n{worker.log_tail()}")
    hits, log = server.snapshot(), actors.breaker.transitions()

    # Nothing bypassed the breaker; the first opening needed K failures.
    assert all(h.admission for h in hits), "a call reached the server without an admission"
    first_open = log[0]
    assert log[0]["event"] == "opened"
    assert sum(h.status == 503 and h.at * 1000 < first_open["at_ms"] for h in hits) >= K

    # During each cool-down the server saw no call admitted after the opening: only calls
    # already in flight when it opened (admitted in an older generation), at most one per thread.
    for opening, after in itertools.pairwise(log):
        if opening["event"] != "opened":
            continue
        assert after["event"] == "half_open" and after["at_ms"] >= opening["until_ms"]
        during = [h for h in hits if opening["at_ms"] <= h.at * 1000 < after["at_ms"]]
        assert all(_gen(h.admission) < opening["gen"] for h in during), during
        assert len(during) <= THREADS

    # Half-open let at most M probes through each time; a probe success closed it for good.
    probes = Counter(h.admission for h in hits if h.admission.startswith("probe:"))
    assert probes and max(probes.values()) <= M, probes
    assert [t["event"] for t in log[-2:]] == ["half_open", "closed"], log
    assert actors.breaker.state()["state"] == "closed"

    # Every job completed once; attempts were spent only on real failed calls.
    assert sorted(actors.results()) == sorted(items)
    ok = Counter(h.item for h in hits if h.status == 200)
    assert set(ok) == set(items) and max(ok.values()) == 1
    results = actors.results().values()
    assert sum(r["retries"] for r in results) == sum(h.status == 503 for h in hits)
    assert sum(r["deferrals"] for r in results) > 0, "no job ever met the open breaker"
    assert broker.dead_letters.count() == 0


def _gen(admission: str) -> int:
    return int(admission.split(":")[1])
