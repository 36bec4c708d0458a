"""priority_queue doorbell: a send that never rang still runs; Redis restarts are survived."""

from __future__ import annotations

import dramatiq
import redis

from common.broker import CookbookBroker, make_broker
from common.settings import Settings, load_settings
from common.worker import running_worker
from recipes.priority_queue import bell_key, queue_name
from recipes.priority_queue.actors import register
from recipes.priority_queue.bell import BellConsumer
from recipes.priority_queue.enqueue import send_report
from recipes.priority_queue.models import Report
from tests.support import wait_until


def test_an_urgent_message_sent_without_a_ring_is_found_by_the_idle_timeout(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis, start_worker
) -> None:  # type: ignore[no-untyped-def]
    """A producer without the recipe's middleware (say, a dead-letter replay) cannot ring."""
    actors = register(broker, redis_client, settings.namespace)
    worker = start_worker(threads=2)
    wait_until(lambda: isinstance(getattr(worker.consumers.get(queue_name("high")), "consumer",
                                          None), BellConsumer), message="bell consumer up")
    message = actors.render.actor("high").message(Report(report_id="quiet", customer="c"))
    message = message.copy(options={"redis_message_id": "no-ring"})
    broker.do_enqueue(message.queue_name, "no-ring", message.encode())  # no after_enqueue hook
    wait_until(lambda: actors.events.starts("high") == 1, timeout=20, message="quiet job ran")
    assert redis_client.llen(bell_key(settings.namespace, queue_name("high"))) == 0


def test_rings_are_kept_for_a_consumer_that_was_not_waiting_yet(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis, start_worker
) -> None:  # type: ignore[no-untyped-def]
    actors = register(broker, redis_client, settings.namespace)
    for i in range(100):
        send_report(actors, Report(report_id=f"r{i}", customer="c"), "high")
    key = bell_key(settings.namespace, queue_name("high"))
    assert redis_client.llen(key) == 64  # bounded: rings nobody waited for are trimmed
    start_worker(threads=4)
    wait_until(lambda: actors.events.starts("high") == 100, timeout=30, message="all ran")


def test_urgent_consumers_come_back_after_a_redis_restart(redis_server_factory) -> None:  # type: ignore[no-untyped-def]
    server = redis_server_factory()
    settings = load_settings(redis_url=server.url, namespace="pq-restart",
                             heartbeat_timeout_ms=4_000, recovery_interval_ms=500)
    broker = make_broker(settings)
    dramatiq.set_broker(broker)
    actors = register(broker, broker.client, settings.namespace)
    with running_worker(broker, threads=2) as worker:
        send_report(actors, Report(report_id="before", customer="c"), "high")
        wait_until(lambda: actors.events.starts("high") == 1, timeout=20, message="first ran")
        thread = worker.consumers[queue_name("high")]
        first = thread.consumer
        server.kill()
        # The waiting BLPOP fails: Dramatiq drops that consumer and builds a new one.
        wait_until(lambda: thread.consumer is not first, timeout=30, message="consumer rebuilt")
        server.start()
        wait_until(lambda: _sent(actors), timeout=30, interval=0.5, message="Redis back")
        wait_until(lambda: actors.events.starts("high") == 1, timeout=30,
                   message="the job sent after the restart ran")
    broker.close()


def _sent(actors) -> bool:  # type: ignore[no-untyped-def]
    try:
        send_report(actors, Report(report_id="after", customer="c"), "high")
    except Exception:
        return False
    return True
