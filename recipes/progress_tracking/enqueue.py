"""Producer side: start a long job and get the id to follow it by.

Run with: ``uv run python -m recipes.progress_tracking.enqueue`` then
``uv run cookbook progress <printed id>``.
"""

from __future__ import annotations

from recipes.progress_tracking.actors import ProgressActors
from recipes.progress_tracking.models import LongJob


def start_job(actors: ProgressActors, job: LongJob) -> str:
    """Send the job; returns its message id (the key of its progress stream)."""
    return actors.long_job.send(job).message_id


if __name__ == "__main__":
    from recipes.progress_tracking.worker import actors as worker_actors

    message_id = start_job(worker_actors, LongJob(name="report", steps=10, step_ms=300))
    print(message_id)
