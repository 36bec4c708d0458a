"""Producer side: send singleton jobs (each policy) and deduplicated jobs.

Run with: ``uv run python -m recipes.singleton_lock.enqueue`` (50 jobs on one key).
"""

from __future__ import annotations

from typing import Any

import dramatiq

from recipes.singleton_lock.actors import SingletonActors
from recipes.singleton_lock.dedup import Mode
from recipes.singleton_lock.models import ReportJob
from recipes.singleton_lock.singleton import Policy


def send_report(actors: SingletonActors, job: ReportJob, *,
                policy: Policy = "defer") -> dramatiq.Message[Any]:
    """Validate and send one singleton job under ``policy``."""
    job = ReportJob.model_validate(job.model_dump())
    return actors.guards[policy].send(actors.by_policy[policy], job)


def send_deduplicated(actors: SingletonActors, job: ReportJob, *, dedup_id: str, mode: Mode,
                      ttl_ms: int) -> dramatiq.Message[Any] | None:
    """Send unless a duplicate with ``dedup_id`` is pending; None when it was ignored."""
    job = ReportJob.model_validate(job.model_dump())
    return actors.dedup.send(actors.deduplicated, job, dedup_id=dedup_id, mode=mode,
                             ttl_ms=ttl_ms)


def burst(actors: SingletonActors, *, key: str, jobs: int, policy: Policy = "defer",
          work_ms: int = 0) -> int:
    """``jobs`` singleton jobs on one key; returns how many were sent."""
    for n in range(jobs):
        send_report(actors, ReportJob(key=key, job_id=f"{key}-{n}", value=str(n),
                                      work_ms=work_ms), policy=policy)
    return jobs


if __name__ == "__main__":
    from recipes.singleton_lock.worker import actors as worker_actors

    print(f"sent {burst(worker_actors, key='nightly', jobs=50, work_ms=20)} jobs on key 'nightly'")
