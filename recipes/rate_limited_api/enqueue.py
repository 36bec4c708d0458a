"""Producer side: one job per item to fetch.

Run with: ``uv run python -m recipes.rate_limited_api.enqueue`` (sends 200 jobs).
"""

from __future__ import annotations

from recipes.rate_limited_api.actors import RateLimitedActors
from recipes.rate_limited_api.models import FetchItem


def send_fetch(actors: RateLimitedActors, item_id: str) -> None:
    """Validate and enqueue; a bad id raises a pydantic error naming ``item_id``."""
    actors.fetch.send(FetchItem(item_id=item_id))


def send_many(actors: RateLimitedActors, count: int, *, prefix: str = "item") -> list[str]:
    ids = [f"{prefix}-{n}" for n in range(count)]
    for item_id in ids:
        send_fetch(actors, item_id)
    return ids


if __name__ == "__main__":
    from recipes.rate_limited_api.worker import actors as worker_actors

    print(f"sent {len(send_many(worker_actors, 200))} jobs")
