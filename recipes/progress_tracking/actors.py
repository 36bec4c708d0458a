"""A long job that reports each step; it resumes from a checkpoint if interrupted.

Run with: ``uv run dramatiq recipes.progress_tracking.worker -p 2 -t 8``
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import dramatiq
import redis

from common.errors import PermanentError
from common.jobs import TypedActor, typed_actor
from common.shutdown import Checkpoints, raise_if_stopping
from recipes.progress_tracking import QUEUE
from recipes.progress_tracking.middleware import Reporter, install
from recipes.progress_tracking.models import LongJob
from recipes.progress_tracking.stream import ProgressStream


@dataclass(frozen=True)
class ProgressActors:
    long_job: TypedActor[LongJob, None]
    stream: ProgressStream


def register(broker: dramatiq.Broker, client: redis.Redis, namespace: str) -> ProgressActors:
    install(broker)  # before the actor: Dramatiq checks actor options against middleware
    stream = ProgressStream(client, namespace)
    reporter = Reporter(stream)
    checkpoints = Checkpoints(client, namespace)

    @typed_actor(broker=broker, queue_name=QUEUE, actor_name="long_job", progress=True,
                 max_retries=3, min_backoff=200)
    def long_job(job: LongJob) -> None:
        done = (checkpoints.load() or {}).get("step", 0)
        for step in range(done + 1, job.steps + 1):
            # A shutdown between steps saves nothing new and re-queues without an attempt;
            # the next run starts after the last reported step.
            raise_if_stopping()
            time.sleep(job.step_ms / 1000)
            if job.fail_at_step == step:
                raise PermanentError(f"{job.name}: step {step} cannot be done")
            checkpoints.save({"step": step})
            reporter.update(100 * step / job.steps, f"{job.name}: step {step}/{job.steps}",
                            {"step": step, "of": job.steps})
        checkpoints.clear()

    return ProgressActors(long_job=long_job, stream=stream)
