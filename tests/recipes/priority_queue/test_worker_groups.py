"""priority_queue: worker groups bound to levels with ``--queues`` (``-Q``)."""

from __future__ import annotations

import redis

from common.broker import CookbookBroker
from common.settings import Settings
from recipes.priority_queue import queue_name
from recipes.priority_queue.actors import register
from recipes.priority_queue.enqueue import backlog, send_report
from recipes.priority_queue.events import overtakers, started
from recipes.priority_queue.models import Report
from tests.support import wait_until

URGENT_THREADS, LOW_THREADS = 2, 4


def test_an_urgent_group_serves_only_urgent_levels_and_a_low_group_only_low(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis, cli_worker
) -> None:  # type: ignore[no-untyped-def]
    actors = register(broker, redis_client, settings.namespace)
    log = actors.events
    backlog(actors, 1_000, level="low", work_ms=50)
    cli_worker("recipes.priority_queue.worker", processes=1, threads=URGENT_THREADS,
               queues=[queue_name("high"), queue_name("normal")])
    cli_worker("recipes.priority_queue.worker", processes=1, threads=LOW_THREADS,
               queues=[queue_name("low")])
    wait_until(lambda: log.starts("low") >= 2 * LOW_THREADS, timeout=60, message="low group busy")
    sent = []
    for i, level in enumerate(["high", "normal"] * 5):
        floor = log.starts("low") + 10
        wait_until(lambda f=floor: log.starts("low") >= f, timeout=30, message="backlog runs")
        before = log.clock()
        mid = send_report(actors, Report(report_id=f"u-{i}", customer="vip"), level)
        sent.append((mid, before))
        wait_until(lambda lv=level, n=i // 2: log.starts(lv) > n, timeout=30,
                   message=f"urgent report {i} started")
    broker.flush(queue_name("low"))
    events = log.events()
    urgent_pids = {e.pid for e in started(events) if e.level != "low"}
    low_pids = {e.pid for e in started(events, "low")}
    assert len(urgent_pids) == len(low_pids) == 1 and urgent_pids != low_pids
    # The urgent group was idle and polls fast: the saturated low group barely moved.
    counts = [overtakers(events, mid, sent_after=before, level="low") for mid, before in sent]
    assert max(counts) <= 2 * (URGENT_THREADS + LOW_THREADS), counts
