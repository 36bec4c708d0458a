"""The sample scheduled actor: receives a ``Tick``, does its work once per tick.

Any actor whose single argument is a ``Tick`` can be the target of a schedule
(``Schedule.actor`` / ``Schedule.queue``); this one keeps a delivery log so the tests can
count every tick message that reached a worker.

Run with: ``uv run dramatiq recipes.recurring_cron.worker -p 1 -t 4``
"""

from __future__ import annotations

from dataclasses import dataclass

import dramatiq
import redis

from common.idempotency import Idempotency
from common.jobs import TypedActor, typed_actor
from recipes.recurring_cron import DEFAULT_ACTOR, QUEUE, runs_key
from recipes.recurring_cron.models import Tick
from recipes.recurring_cron.store import ScheduleStore


@dataclass(frozen=True)
class CronActors:
    report: TypedActor[Tick, None]
    store: ScheduleStore
    client: redis.Redis
    namespace: str

    def runs(self, schedule_id: str) -> list[Tick]:
        """Every tick message delivered for the schedule, in arrival order, duplicates kept."""
        raw = self.client.lrange(runs_key(self.namespace, schedule_id), 0, -1)
        return [Tick.model_validate_json(item) for item in raw]

    def reports(self, schedule_id: str) -> int:
        """How many ticks did their work (each at most once)."""
        return int(self.client.hget(f"{self.namespace}:cron:reports", schedule_id) or 0)


def register(broker: dramatiq.Broker, client: redis.Redis, namespace: str) -> CronActors:
    idem = Idempotency(client, namespace)

    @typed_actor(broker=broker, queue_name=QUEUE, actor_name=DEFAULT_ACTOR, max_retries=5,
                 min_backoff=200)
    def cron_report(tick: Tick) -> None:
        # Logged before the idempotency check on purpose: a duplicate must show up here.
        client.rpush(runs_key(namespace, tick.schedule_id), tick.model_dump_json())
        with idem.once(f"cron:{tick.tick_id}") as claim:
            if claim is None:
                return
            pipe = client.pipeline(transaction=True)
            pipe.hincrby(f"{namespace}:cron:reports", tick.schedule_id, 1)
            idem.mark_done(claim, pipe)
            pipe.execute()

    return CronActors(report=cron_report, store=ScheduleStore(client, namespace), client=client,
                      namespace=namespace)
