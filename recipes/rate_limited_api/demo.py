"""Tour demo: 120 calls to a strict 40 req/s API from 8 threads, with one forced 429 pause."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

from common.broker import CookbookBroker
from common.settings import Settings
from common.worker import running_worker
from recipes.rate_limited_api import QUEUE
from recipes.rate_limited_api.actors import register
from recipes.rate_limited_api.config import load_api_settings
from recipes.rate_limited_api.enqueue import send_many
from recipes.rate_limited_api.upstream import StrictApi

LIMIT, JOBS, DEADLINE_S = 40, 120, 60.0


def demo(broker: CookbookBroker, settings: Settings, report: Callable[[int, int], None]) -> int:
    with StrictApi(LIMIT) as api:
        actors = register(broker, broker.client, settings.namespace,
                          load_api_settings(url=api.url, rate=LIMIT, min_backoff_ms=100))
        api.force_429(retry_after_s=2, after=JOBS // 3)
        ids = send_many(actors, JOBS)
        deadline = time.monotonic() + DEADLINE_S
        with running_worker(broker, queues=[QUEUE], threads=8):
            while (done := actors.results.count()) < JOBS and time.monotonic() < deadline:
                report(done, JOBS)
                time.sleep(0.2)
            report(actors.results.count(), JOBS)
        actors.http.close()
        check(api, actors.results.all(), ids)
    return JOBS


def check(api: StrictApi, results: dict[str, dict[str, object]], ids: list[str]) -> None:
    if len(results) != len(ids):
        raise AssertionError(f"only {len(results)} of {len(ids)} jobs completed")
    if api.ok_per_item() != Counter(dict.fromkeys(ids, 1)):
        raise AssertionError("some item was fetched more than once or never")
    if (peak := api.max_in_window(1.0)) > LIMIT:
        raise AssertionError(f"the server saw {peak} requests in one second (limit {LIMIT})")
    [(t0, t_end)] = api.forced
    outside = [s for s in api.snapshot() if s.status == 429 and not t0 <= s.at < t_end]
    if outside:
        raise AssertionError(f"{len(outside)} requests were refused for going over the limit")
    if any(r["retries"] for r in results.values()):
        raise AssertionError("waiting for a slot or a pause cost a job an attempt")
