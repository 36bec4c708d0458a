"""Tour demo: 10 urgent reports overtake a 3,000-report backlog on an 8-thread worker."""

from __future__ import annotations

import time
from collections.abc import Callable

from common.broker import CookbookBroker
from common.settings import Settings
from common.worker import running_worker
from recipes.priority_queue import queue_name
from recipes.priority_queue.actors import register
from recipes.priority_queue.enqueue import backlog, send_report
from recipes.priority_queue.events import overtakers
from recipes.priority_queue.models import Report

THREADS, LOW_JOBS, LOW_MS, URGENT = 8, 3_000, 20, 10
GAP = 30  # low starts between two urgent sends, so the urgent consumer goes idle


def _wait(predicate: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


def demo(broker: CookbookBroker, settings: Settings, report: Callable[[int, int], None]) -> int:
    actors = register(broker, broker.client, settings.namespace)
    log, low, high = actors.events, actors.config.lowest, actors.config.levels[0]
    backlog(actors, LOW_JOBS, level=low, work_ms=LOW_MS)
    sent: list[tuple[str, int]] = []
    with running_worker(broker, threads=THREADS):
        _wait(lambda: log.starts(low) >= THREADS * 2, "the worker to get busy")
        for i in range(URGENT):
            floor = log.starts(low) + GAP
            _wait(lambda f=floor: log.starts(low) >= f, "the backlog to run")  # type: ignore[misc]
            before = log.clock()
            message_id = send_report(actors, Report(report_id=f"vip-{i}", customer="vip"), high)
            sent.append((message_id, before))
            _wait(lambda i=i: log.starts(high) > i, f"urgent report {i} to start")  # type: ignore[misc]
            report(i + 1, URGENT)
        left = broker.client.llen(f"{settings.namespace}:{queue_name(low)}")
        broker.flush(queue_name(low))  # the point is made: drop the rest of the backlog
    events = log.events()
    counts = [overtakers(events, mid, sent_after=before, level=low) for mid, before in sent]
    if left == 0:
        raise AssertionError("the backlog ran dry: nothing was overtaken")
    if max(counts) > 2 * THREADS:
        raise AssertionError(f"low reports started before urgent ones: {counts}")
    return LOW_JOBS + URGENT
