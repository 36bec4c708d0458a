"""Tour demo: 3 scheduler replicas, a 0.5 s interval, one replica stopped mid-run.

Checks that every tick in the window reached the worker exactly once, with no gap.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

from common.broker import CookbookBroker
from common.settings import Settings
from common.worker import running_worker
from recipes.recurring_cron import QUEUE
from recipes.recurring_cron.actors import register
from recipes.recurring_cron.models import Interval, Schedule
from recipes.recurring_cron.scheduler import CronScheduler

TICKS = 16
EVERY_S = 0.5


def demo(broker: CookbookBroker, settings: Settings, report: Callable[[int, int], None]) -> int:
    actors = register(broker, broker.client, settings.namespace)
    replicas = [CronScheduler(broker, broker.client, settings.namespace, replica_id=f"demo-{i}")
                for i in range(3)]
    with running_worker(broker, queues=[QUEUE], threads=4):
        for replica in replicas:
            replica.start()
        actors.store.put(Schedule(id="demo", trigger=Interval(every_s=EVERY_S)))
        deadline = time.monotonic() + TICKS * EVERY_S + 10
        try:
            while (done := len(actors.runs("demo"))) < TICKS and time.monotonic() < deadline:
                if done >= TICKS // 2 and len(replicas) == 3:
                    replicas.pop(0).stop()  # one replica goes away mid-run
                report(done, TICKS)
                time.sleep(0.1)
        finally:
            actors.store.remove("demo")
            for replica in replicas:
                replica.stop()
        broker.join(QUEUE, timeout=10_000)
    ticks = sorted(t.fire_ms for t in actors.runs("demo"))
    report(len(ticks), TICKS)
    if len(ticks) < TICKS:
        raise AssertionError(f"only {len(ticks)} of {TICKS} ticks arrived")
    if len(set(ticks)) != len(ticks):
        raise AssertionError(f"a tick was enqueued twice: {ticks}")
    gaps = {b - a for a, b in itertools.pairwise(ticks)}
    if gaps != {int(EVERY_S * 1000)}:
        raise AssertionError(f"ticks missing: gaps {sorted(gaps)} ms")
    return len(ticks)
