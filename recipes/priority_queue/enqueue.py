"""Producer side: send a report at a level, or a whole backlog at one level.

Run with: ``uv run python -m recipes.priority_queue.enqueue`` (a low backlog, then 5 urgent).
"""

from __future__ import annotations

from recipes.priority_queue.actors import PriorityActors
from recipes.priority_queue.models import Report


def send_report(actors: PriorityActors, report: Report, level: str | None = None) -> str:
    """Validate and enqueue on ``level`` (the actor's default if None); returns the message id.

    Raises ``UnknownLevel`` or a pydantic ``ValidationError`` before anything is enqueued.
    """
    return actors.render.send(report, level=level).message_id


def backlog(actors: PriorityActors, count: int, *, level: str, work_ms: int,
            prefix: str = "bulk") -> list[str]:
    """``count`` reports on one level, in order; returns their message ids in send order."""
    return [send_report(actors, Report(report_id=f"{prefix}-{i}", customer="batch",
                                       work_ms=work_ms), level)
            for i in range(count)]


if __name__ == "__main__":
    from recipes.priority_queue.worker import actors as worker_actors

    low = backlog(worker_actors, 2_000, level=worker_actors.config.lowest, work_ms=50)
    urgent = [send_report(worker_actors, Report(report_id=f"vip-{i}", customer="vip"),
                          worker_actors.config.levels[0]) for i in range(5)]
    print(f"sent {len(low)} low and {len(urgent)} urgent reports")
