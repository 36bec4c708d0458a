"""priority_queue: urgent jobs overtake a 10,000-job backlog under 2 processes x 8 threads.

Count-based: the recipe's event log orders every start in one Redis counter, so "low jobs
that started after a high job was sent and before it started" is an exact number.
"""

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

PROCESSES, THREADS = 2, 8
LOW_JOBS, LOW_MS, HIGH_JOBS = 10_000, 50, 50
BOUND = 2 * PROCESSES * THREADS
# Low starts between two urgent sends: long enough for the urgent consumers to go idle.
GAP_LOW_STARTS = 40


def test_high_jobs_overtake_a_busy_backlog(broker: CookbookBroker, settings: Settings,
                                           redis_client: redis.Redis, cli_worker) -> None:  # type: ignore[no-untyped-def]
    actors = register(broker, redis_client, settings.namespace)
    log = actors.events
    low_ids = backlog(actors, LOW_JOBS, level="low", work_ms=LOW_MS)
    worker = cli_worker("recipes.priority_queue.worker", processes=PROCESSES, threads=THREADS)
    wait_until(lambda: log.starts("low") >= 2 * PROCESSES * THREADS, timeout=60,
               message=lambda: f"workers busy on the backlog\n{worker.log_tail()}")

    sent: list[tuple[str, int]] = []  # (message id, event clock read before the send)
    for i in range(HIGH_JOBS):
        floor = log.starts("low") + GAP_LOW_STARTS
        wait_until(lambda f=floor: log.starts("low") >= f, timeout=60, message="backlog runs")
        before = log.clock()
        sent.append((send_report(actors, Report(report_id=f"vip-{i}", customer="vip"), "high"),
                     before))
        wait_until(lambda i=i: log.starts("high") > i, timeout=60,
                   message=lambda i=i: f"high job {i} started\n{worker.log_tail()}")

    low_left = redis_client.llen(f"{settings.namespace}:{queue_name('low')}")
    broker.flush(queue_name("low"))  # the proof is done: drop the rest of the backlog
    events = log.events()

    counts = [overtakers(events, mid, sent_after=before, level="low") for mid, before in sent]
    assert max(counts) <= BOUND, f"low jobs started before each high job: {counts}"
    # The backlog never ran dry, so every high job really had to overtake it.
    assert low_left > 0
    # FIFO: high jobs started in send order; low jobs in queue order, give or take the
    # messages held in worker memory (at most prefetch = 2 x threads per process).
    assert [e.id for e in started(events, "high")] == [mid for mid, _ in sent]
    position = {mid: i for i, mid in enumerate(low_ids)}
    low_order = [position[e.id] for e in started(events, "low")]
    assert len(set(low_order)) == len(low_order), "a low job started twice"
    window = PROCESSES * 2 * THREADS
    for done, index in enumerate(low_order):
        assert index - done < window, f"low job {index} overtook more than {window} earlier ones"
    assert broker.dead_letters.count() == 0
