"""recurring_cron: Redis goes away for 3 ticks; the replica survives and reports the gap."""

from __future__ import annotations

import itertools
import time

import dramatiq

from common.broker import make_broker
from common.settings import load_settings
from common.worker import running_worker
from recipes.recurring_cron import QUEUE
from recipes.recurring_cron.actors import register
from recipes.recurring_cron.models import Interval, Schedule
from recipes.recurring_cron.scheduler import CronScheduler
from tests.support import wait_until


def test_ticks_resume_after_a_redis_outage_and_the_missed_ones_are_reported(
    redis_server_factory,
) -> None:  # type: ignore[no-untyped-def]
    server = redis_server_factory(args=["--appendonly", "yes"])  # schedules survive a restart
    settings = load_settings(redis_url=server.url, namespace="cron-outage",
                             heartbeat_timeout_ms=4_000, recovery_interval_ms=500)
    broker = make_broker(settings)
    dramatiq.set_broker(broker)
    actors = register(broker, broker.client, settings.namespace)
    actors.store.put(Schedule(id="tick", trigger=Interval(every_s=1)))
    replica = CronScheduler(broker, broker.client, settings.namespace).start()
    try:
        with running_worker(broker, queues=[QUEUE], threads=2):
            wait_until(lambda: len(actors.runs("tick")) >= 2, timeout=30, message="2 ticks")
            server.stop()
            down_at = time.time() * 1000
            wait_until(lambda: time.time() * 1000 > down_at + 3_500, timeout=10)  # 3 ticks
            server.start()
            wait_until(lambda: any(t.fire_ms > down_at + 3_000 for t in actors.runs("tick"))
                       and len(actors.runs("tick")) >= 4, timeout=60, message="ticks resumed")
            replica.stop()
            broker.join(QUEUE, timeout=30_000)
    finally:
        replica.stop()
        broker.close()
    ticks = sorted(actors.runs("tick"), key=lambda t: t.fire_ms)
    fires = [t.fire_ms for t in ticks]
    assert len(fires) == len(set(fires)), "no tick twice"
    gaps = [(b.fire_ms - a.fire_ms) // 1000 - 1 for a, b in itertools.pairwise(ticks)]
    # Exactly one gap (the outage); the tick after it reports what it missed.
    outage = [(i, g) for i, g in enumerate(gaps) if g > 0]
    assert len(outage) == 1 and outage[0][1] >= 3, gaps
    assert ticks[outage[0][0] + 1].missed_before == outage[0][1]
