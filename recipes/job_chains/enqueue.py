"""Producer side: start an order chain; fail chains that ran past their deadline.

Run with: ``uv run python -m recipes.job_chains.enqueue`` (starts three example orders).
"""

from __future__ import annotations

from recipes.job_chains import STEPS
from recipes.job_chains.actors import ChainActors
from recipes.job_chains.flow import order_pipeline
from recipes.job_chains.models import Compensate, Item, Order


def start_order(actors: ChainActors, order: Order) -> bool:
    """Validate, record the chain, send its first message. False if the order already has one.

    The order id is the chain id, so starting the same order twice starts one chain.
    """
    order = Order.model_validate(order.model_dump(warnings=False))
    if not actors.store.create(order):
        return False
    order_pipeline(actors, order.order_id).run()
    return True


def reap_overdue(actors: ChainActors, now_ms: int | None = None) -> list[str]:
    """Fail and compensate chains still running past their deadline; returns their ids.

    A chain whose message was lost outside Dramatiq's guarantees (a purged queue, a crash
    between ``create`` and the first send) would otherwise stay ``running`` forever. Run this
    periodically (for example as a ``recurring_cron`` schedule).
    """
    overdue = actors.store.overdue(now_ms)
    for chain_id in overdue:
        state = actors.store.get(chain_id)
        stuck = next((s for s in STEPS if state and state.steps[s].status != "done"), "chain")
        actors.compensate.send(Compensate(chain_id=chain_id, step=stuck,
                                          reason="deadline exceeded: the chain stopped moving"))
    return overdue


def example_order(order_id: str, card: str = "tok_visa", sku: str = "book") -> Order:
    return Order(order_id=order_id, email=f"{order_id}@example.com", card=card,
                 items=[Item(sku=sku, qty=2, price_cents=1_250),
                        Item(sku="pen", qty=3, price_cents=199)])


if __name__ == "__main__":
    from recipes.job_chains.worker import actors as worker_actors

    for order in (example_order("order-ok"), example_order("order-declined", "tok_declined"),
                  example_order("order-flaky", "tok_flaky")):
        print(order.order_id, "started" if start_order(worker_actors, order) else "exists")
    print("follow one: uv run python -m recipes.job_chains.status order-ok --wait")
