"""fifo_ordered: per-account order under 2 worker processes x 8 threads, accounts in parallel."""

from __future__ import annotations

import pytest
import redis
from pydantic import ValidationError

from common.broker import CookbookBroker
from common.settings import Settings
from recipes.fifo_ordered import QUEUE
from recipes.fifo_ordered.actors import register
from recipes.fifo_ordered.enqueue import burst, send_event
from recipes.fifo_ordered.models import AccountEvent
from tests.support import wait_until

ACCOUNTS, EVENTS = 20, 200


def test_each_account_applied_in_order_once_under_two_processes(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis, cli_worker
) -> None:  # type: ignore[no-untyped-def]
    actors = register(broker, redis_client, settings.namespace)
    sent = burst(actors, accounts=ACCOUNTS, events=EVENTS)
    assert sent == ACCOUNTS * EVENTS
    cli_worker("recipes.fifo_ordered.worker", processes=2, threads=8)

    def applied_total() -> int:
        return sum(len(actors.mailbox.applied(f"acct-{a}")) for a in range(ACCOUNTS))

    wait_until(lambda: applied_total() == sent, timeout=120,
               message=lambda: f"all {sent} events applied (now {applied_total()})")
    # Every doorbell was handled; nothing is left queued or in flight.
    broker.join(QUEUE, timeout=30_000)
    for a in range(ACCOUNTS):
        account = f"acct-{a}"
        assert actors.mailbox.applied(account) == list(range(1, EVENTS + 1)), account
        assert actors.mailbox.pending(account) == 0
    assert broker.dead_letters.count() == 0


def test_accounts_proceed_in_parallel(broker: CookbookBroker, settings: Settings,
                                      redis_client: redis.Redis, start_worker) -> None:  # type: ignore[no-untyped-def]
    """Two accounts drain at the same time: each holds its own lock, on its own thread."""
    actors = register(broker, redis_client, settings.namespace)
    per_account = 1_000
    for _ in range(per_account):
        for account in ("left", "right"):
            send_event(actors, AccountEvent(account=account, kind="deposit", amount_cents=1))
    locks = [actors.mailbox.keys(a)["lock"] for a in ("left", "right")]

    def observe() -> str | None:
        if all(redis_client.exists(k) for k in locks):
            return "both draining"
        if actors.mailbox.pending("left") + actors.mailbox.pending("right") == 0:
            return "drained"
        return None

    start_worker(queues=[QUEUE], threads=4)
    assert wait_until(observe, timeout=30, interval=0.001, message="drain") == "both draining"
    wait_until(lambda: len(actors.mailbox.applied("left")) == per_account
               and len(actors.mailbox.applied("right")) == per_account,
               timeout=60, message="both accounts drained")
    assert actors.mailbox.balance("left") == actors.mailbox.balance("right") == per_account


def test_invalid_event_is_rejected_before_anything_is_stored(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis
) -> None:
    actors = register(broker, redis_client, settings.namespace)
    with pytest.raises(ValidationError, match="amount_cents"):
        send_event(actors, AccountEvent.model_construct(account="a", kind="deposit",
                                                        amount_cents=0))
    assert actors.mailbox.pending("a") == 0
    assert redis_client.llen(f"{broker.namespace}:{QUEUE}") == 0


def test_an_account_locked_by_a_dead_holder_is_drained_once_the_lock_expires(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis, start_worker
) -> None:  # type: ignore[no-untyped-def]
    """The holder crashed: nobody will re-check its list, so a doorbell must wait, not vanish."""
    actors = register(broker, redis_client, settings.namespace)
    lock_key = actors.mailbox.keys("orphan")["lock"]
    redis_client.set(lock_key, "token-of-a-dead-worker", px=1_500)
    for _ in range(5):
        send_event(actors, AccountEvent(account="orphan", kind="deposit", amount_cents=10))
    start_worker(queues=[QUEUE], threads=2)
    wait_until(lambda: actors.mailbox.applied("orphan") == [1, 2, 3, 4, 5], timeout=20,
               message="orphaned account drained after the lock expired")
    assert broker.dead_letters.count() == 0
