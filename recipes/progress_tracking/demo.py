"""Tour demo: 3 jobs of 10 steps run at once; a follower reads each stream to the end, in order."""

from __future__ import annotations

from collections.abc import Callable

from common.broker import CookbookBroker
from common.settings import Settings
from common.worker import running_worker
from recipes.progress_tracking import QUEUE
from recipes.progress_tracking.actors import register
from recipes.progress_tracking.enqueue import start_job
from recipes.progress_tracking.models import LongJob

JOBS, STEPS = 3, 10


def demo(broker: CookbookBroker, settings: Settings, report: Callable[[int, int], None]) -> int:
    actors = register(broker, broker.client, settings.namespace)
    ids = [start_job(actors, LongJob(name=f"job-{i}", steps=STEPS, step_ms=100))
           for i in range(JOBS)]
    seen = 0
    with running_worker(broker, queues=[QUEUE], threads=JOBS):
        for message_id in ids:
            steps = []
            for event in actors.stream.follow(message_id, timeout_s=30):
                if event.kind == "progress":
                    steps.append(event.data["step"])
                    seen += 1
                    report(seen, JOBS * STEPS)
                elif event.final and event.kind != "completed":
                    raise AssertionError(f"{message_id} ended {event.kind}: {event.message}")
            if steps != list(range(1, STEPS + 1)):
                raise AssertionError(f"{message_id}: steps seen {steps}")
    return JOBS
