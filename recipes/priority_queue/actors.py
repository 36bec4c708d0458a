"""``render_report`` at three levels, plus the per-level consumer tuning.

Run with: ``uv run dramatiq recipes.priority_queue.worker -p 2 -t 8``
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import dramatiq
import redis

from recipes.priority_queue.bell import Doorbell
from recipes.priority_queue.config import PriorityConfig
from recipes.priority_queue.events import EventLog
from recipes.priority_queue.leveled import LeveledActor, leveled_actor
from recipes.priority_queue.models import Report
from recipes.priority_queue.tuning import LevelTuning


@dataclass(frozen=True)
class PriorityActors:
    render: LeveledActor[Report]
    events: EventLog
    config: PriorityConfig


def register(broker: dramatiq.Broker, client: redis.Redis, namespace: str,
             config: PriorityConfig | None = None) -> PriorityActors:
    config = config or PriorityConfig()
    # Producers ring the doorbell through it; workers set up their consumers with it.
    broker.add_middleware(LevelTuning(config, Doorbell(client, namespace)))
    events = EventLog(client, namespace, max_events=config.event_log_max)

    @leveled_actor(broker=broker, name="render_report", levels=config.levels, events=events,
                   max_retries=3, min_backoff=100)
    def render_report(job: Report) -> None:
        time.sleep(job.work_ms / 1000)  # the rendering itself

    return PriorityActors(render=render_report, events=events, config=config)
