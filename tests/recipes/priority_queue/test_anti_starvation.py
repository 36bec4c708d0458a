"""priority_queue: with ``reserved_threads`` on, low jobs keep their share during a high flood.

Off (0), urgent work takes every thread and the low level starves: that run is the
contrast showing the share is the setting's doing.
"""

from __future__ import annotations

import pytest
import redis

from common.broker import CookbookBroker
from common.settings import Settings
from recipes.priority_queue import queue_name
from recipes.priority_queue.actors import register
from recipes.priority_queue.enqueue import backlog
from recipes.priority_queue.events import max_running, started
from tests.support import wait_until

PROCESSES, THREADS, WORK_MS = 2, 8, 20
LOW_JOBS, HIGH_JOBS = 2_000, 900
# The flood window: skip the ramp-up, stop while plenty of high jobs are still queued.
FIRST, LAST = 100, 700


@pytest.mark.parametrize("reserved", [2, 0])
def test_reserved_threads_keep_low_jobs_running_during_a_high_flood(
    reserved: int, broker: CookbookBroker, settings: Settings, redis_client: redis.Redis,
    cli_worker,  # type: ignore[no-untyped-def]
) -> None:
    actors = register(broker, redis_client, settings.namespace)
    backlog(actors, LOW_JOBS, level="low", work_ms=WORK_MS, prefix="low")
    backlog(actors, HIGH_JOBS, level="high", work_ms=WORK_MS, prefix="high")
    worker = cli_worker("recipes.priority_queue.worker", processes=PROCESSES, threads=THREADS,
                        env={"COOKBOOK_PRIORITY_RESERVED_THREADS": str(reserved)})
    wait_until(lambda: actors.events.starts("high") >= LAST, timeout=90,
               message=lambda: f"{LAST} high jobs started\n{worker.log_tail()}")
    high_left = redis_client.llen(f"{settings.namespace}:{queue_name('high')}")
    for level in ("low", "high"):
        broker.flush(queue_name(level))
    events = actors.events.events()

    highs = started(events, "high")
    start, stop = highs[FIRST].n, highs[LAST - 1].n
    in_window = [e for e in started(events) if start <= e.n <= stop]
    low_share = sum(e.level == "low" for e in in_window) / len(in_window)
    peak = max_running(events, "high", since=start)
    assert high_left > 0, "the flood ended inside the window"
    assert len(peak) == PROCESSES
    if reserved:
        # Never more than threads - reserved high jobs at once in a process ...
        assert max(peak.values()) <= THREADS - reserved, peak
        # ... so low jobs get their reserved share of the starts, and urgent work the rest.
        assert low_share >= 0.8 * reserved / THREADS, f"low share {low_share:.1%}"
        assert 1 - low_share >= 0.8 * (THREADS - reserved) / THREADS, f"{low_share:.1%}"
    else:
        assert max(peak.values()) == THREADS, peak
        assert low_share < 0.1, f"low share {low_share:.1%} without a reservation"
