"""Tour demo: 10 accounts x 30 events through 8 threads, then check order and balances."""

from __future__ import annotations

from collections.abc import Callable

from common.broker import CookbookBroker
from common.settings import Settings
from common.worker import running_worker
from recipes.fifo_ordered import QUEUE
from recipes.fifo_ordered.actors import register
from recipes.fifo_ordered.enqueue import burst

ACCOUNTS, EVENTS = 10, 30


def demo(broker: CookbookBroker, settings: Settings, report: Callable[[int, int], None]) -> int:
    actors = register(broker, broker.client, settings.namespace)
    total = ACCOUNTS * EVENTS
    sent = burst(actors, accounts=ACCOUNTS, events=EVENTS)
    with running_worker(broker, queues=[QUEUE], threads=8):
        broker.join(QUEUE, timeout=60_000)
        done = sum(len(actors.mailbox.applied(f"acct-{a}")) for a in range(ACCOUNTS))
        report(done, total)
    for a in range(ACCOUNTS):
        applied = actors.mailbox.applied(f"acct-{a}")
        if applied != list(range(1, EVENTS + 1)):
            raise AssertionError(f"acct-{a} applied out of order or incompletely: {applied[:10]}")
    return sent
