"""Producer side: the tick message a scheduler sends, and adding schedules from a shell.

Run with: ``uv run python -m recipes.recurring_cron.enqueue`` (adds an every-2-s schedule
and a cron one; the scheduler replicas pick them up within ``CONTROL_INTERVAL_S``).
"""

from __future__ import annotations

import uuid
from typing import Any

import dramatiq

from recipes.recurring_cron.models import Schedule, Tick


def tick_message(namespace: str, schedule: Schedule, tick: Tick) -> dramatiq.Message[Any]:
    """The message for one tick, addressed by name: the scheduler needs no actor code.

    The message id is derived from the tick id, so a duplicate (see ``claims``) is
    recognisable downstream and in the dead-letter queue.
    """
    tick = Tick.model_validate(tick.model_dump())
    return dramatiq.Message(
        queue_name=schedule.queue,
        actor_name=schedule.actor,
        args=(tick.model_dump(mode="json"),),
        kwargs={},
        options={},
        message_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{namespace}/cron/{tick.tick_id}")),
    )


def send_tick(broker: dramatiq.Broker, namespace: str, schedule: Schedule,
              tick: Tick) -> dramatiq.Message[Any]:
    return broker.enqueue(tick_message(namespace, schedule, tick))


if __name__ == "__main__":
    from common.broker import make_client
    from common.settings import get_settings
    from recipes.recurring_cron.models import Cron, Interval
    from recipes.recurring_cron.store import ScheduleStore

    settings = get_settings()
    store = ScheduleStore(make_client(settings), settings.namespace)
    for schedule in (Schedule(id="every-2s", trigger=Interval(every_s=2)),
                     Schedule(id="each-minute", trigger=Cron(crontab="* * * * *"),
                              payload={"report": "minutely"})):
        print("stored", store.put(schedule).model_dump_json())
