"""Tour demo: 10 orders through the chain; 3 of them meet a failure on the way.

Checks that every chain ends in a recorded state: the good and the flaky ones completed,
the declined one and the one whose invoice failed compensated and failed.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from common.broker import CookbookBroker
from common.settings import Settings
from common.worker import running_worker
from recipes.job_chains import COMPENSATE_QUEUE, QUEUE, shop_key
from recipes.job_chains.actors import register
from recipes.job_chains.enqueue import example_order, start_order

EXPECTED = {**{f"ok-{i}": "completed" for i in range(7)}, "flaky": "completed",
            "declined": "failed", "no-invoice": "failed"}


def demo(broker: CookbookBroker, settings: Settings, report: Callable[[int, int], None]) -> int:
    actors = register(broker, broker.client, settings.namespace)
    for chain_id in EXPECTED:
        card = {"flaky": "tok_flaky", "declined": "tok_declined"}.get(chain_id, "tok_visa")
        sku = "NOINVOICE" if chain_id == "no-invoice" else "book"
        start_order(actors, example_order(chain_id, card=card, sku=sku))
    deadline = time.monotonic() + 30
    with running_worker(broker, queues=[QUEUE, COMPENSATE_QUEUE], threads=8):
        while True:
            states = {c: actors.store.get(c) for c in EXPECTED}
            done = sum(1 for s in states.values() if s is not None and s.finished)
            report(done, len(EXPECTED))
            if done == len(EXPECTED) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    got = {c: s.status if s else None for c, s in states.items()}
    if got != EXPECTED:
        raise AssertionError(f"chains did not end as expected: {got}")
    refunds = broker.client.hkeys(shop_key(settings.namespace, "refunds"))
    if refunds != [b"no-invoice"]:
        raise AssertionError(f"only the order whose invoice failed is refunded, got {refunds}")
    return len(EXPECTED)
