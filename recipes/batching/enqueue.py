"""Producer side: add ledger entries to the micro-batcher, or bulk-enqueue one job each.

Run with: ``uv run python -m recipes.batching.enqueue`` (adds 2,000 entries, bulk-sends 1,000).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import dramatiq

from recipes.batching.actors import BatchingActors
from recipes.batching.bulk import bulk_send
from recipes.batching.models import LedgerEntry


def add_entries(actors: BatchingActors, entries: Sequence[LedgerEntry]) -> int:
    """Validate every entry, then add them for micro-batching. Returns how many were added."""
    actors.batcher.add_many(entries)
    return len(entries)


def send_entries(actors: BatchingActors,
                 entries: Sequence[LedgerEntry]) -> list[dramatiq.Message[Any]]:
    """One job per entry, sent in bulk (1,000 messages per round trip)."""
    return bulk_send(actors.apply_one, entries)


def sample_entries(count: int, *, accounts: int = 10, prefix: str = "e",
                   seed: int = 7) -> list[LedgerEntry]:
    rng = random.Random(seed)
    return [LedgerEntry(entry_id=f"{prefix}{i}", account=f"acct-{i % accounts}",
                        amount_cents=rng.choice([-1, 1]) * rng.randint(1, 10_000))
            for i in range(count)]


if __name__ == "__main__":
    from recipes.batching.worker import actors as worker_actors

    print(f"added {add_entries(worker_actors, sample_entries(2_000))} entries for batching")
    sent = send_entries(worker_actors, sample_entries(1_000, prefix="single-"))
    print(f"bulk-sent {len(sent)} one-per-entry jobs")
