"""Tour demo: 120 singleton jobs on one key through 8 threads, then check exclusivity."""

from __future__ import annotations

import time
from collections.abc import Callable

from common.broker import CookbookBroker
from common.settings import Settings
from common.worker import running_worker
from recipes.singleton_lock import QUEUE
from recipes.singleton_lock.actors import register
from recipes.singleton_lock.enqueue import burst
from recipes.singleton_lock.resource import StaleFence, verify_exclusive

KEY, JOBS = "nightly", 120


def demo(broker: CookbookBroker, settings: Settings, report: Callable[[int, int], None]) -> int:
    actors = register(broker, broker.client, settings.namespace)
    sent = burst(actors, key=KEY, jobs=JOBS, policy="defer")
    with running_worker(broker, queues=[QUEUE], threads=8):
        deadline = time.monotonic() + 60
        while len(actors.runs.jobs()) < JOBS and time.monotonic() < deadline:
            report(len(actors.runs.jobs()), JOBS)
            time.sleep(0.2)
        broker.join(QUEUE, timeout=30_000)
        report(len(actors.runs.jobs()), JOBS)
    ran = sorted(actors.runs.jobs())
    if ran != sorted(f"{KEY}-{n}" for n in range(JOBS)):
        raise AssertionError(f"expected each of {JOBS} jobs to run once, got {len(ran)} runs")
    verify_exclusive(actors.store.events())  # raises on any overlap or fence going backwards
    try:  # a holder from before all these runs comes back with its old fence
        actors.store.write("stale-holder", 1, "stale", "late write")
    except StaleFence:
        pass
    else:
        raise AssertionError("the resource accepted a write with a stale fencing token")
    return sent
