"""Producer side: one ``fetch_item`` job per item.

Run with: ``uv run python -m recipes.circuit_breaker.enqueue`` (sends 100 jobs).
"""

from __future__ import annotations

from recipes.circuit_breaker.actors import BreakerActors
from recipes.circuit_breaker.models import FetchItem


def send_fetches(actors: BreakerActors, count: int, *, prefix: str = "item") -> list[str]:
    """Send ``count`` jobs; returns the item ids."""
    items = [f"{prefix}-{i}" for i in range(count)]
    for item in items:
        actors.fetch_item.send(FetchItem(item=item))
    return items


if __name__ == "__main__":
    from recipes.circuit_breaker.worker import actors as worker_actors

    print(f"sent {len(send_fetches(worker_actors, 100))} jobs")
