"""Producer side: put an event in the account's mailbox, then ring the doorbell.

Run with: ``uv run python -m recipes.fifo_ordered.enqueue`` (sends a small burst).
"""

from __future__ import annotations

import random

from recipes.fifo_ordered.actors import FifoActors
from recipes.fifo_ordered.models import AccountEvent, Drain


def send_event(actors: FifoActors, event: AccountEvent) -> int:
    """Validate, append in order, ring the doorbell. Returns the event's sequence number."""
    event = AccountEvent.model_validate(event.model_dump())
    seq = actors.mailbox.push(event)
    actors.drain.send(Drain(account=event.account))
    return seq


def burst(actors: FifoActors, *, accounts: int, events: int, seed: int = 7) -> int:
    """Interleave ``events`` events for each of ``accounts`` accounts; returns how many sent."""
    rng = random.Random(seed)
    sent = 0
    for _ in range(events):
        for a in range(accounts):
            send_event(actors, AccountEvent(account=f"acct-{a}",
                                            kind="deposit" if rng.random() < 0.7 else "withdraw",
                                            amount_cents=rng.randint(1, 10_000)))
            sent += 1
    return sent


if __name__ == "__main__":
    from recipes.fifo_ordered.worker import actors as worker_actors

    print(f"sent {burst(worker_actors, accounts=5, events=20)} events")
