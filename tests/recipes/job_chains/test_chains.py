"""job_chains: outputs flow on, failures compensate and end the chain, the fan-in fires once."""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis
from dramatiq.middleware import Middleware
from pydantic import ValidationError

from common.broker import CookbookBroker
from common.settings import Settings
from recipes.job_chains import COMPENSATE_QUEUE, QUEUE, index_keys, shop_key
from recipes.job_chains.actors import ChainActors, register
from recipes.job_chains.enqueue import example_order, start_order
from recipes.job_chains.models import ChainState, Order
from tests.support import wait_until

QUEUES = [QUEUE, COMPENSATE_QUEUE]


@pytest.fixture
def actors(broker: CookbookBroker, settings: Settings, redis_client: redis.Redis) -> ChainActors:
    return register(broker, redis_client, settings.namespace)


def finished(actors: ChainActors, chain_id: str, timeout: float = 60) -> ChainState:
    def done() -> ChainState | None:
        state = actors.store.get(chain_id)
        return state if state is not None and state.finished else None

    return wait_until(done, timeout=timeout, message=lambda: f"chain {chain_id} finished: "
                      f"{actors.store.get(chain_id)}")


def shop(redis_client: redis.Redis, settings: Settings, what: str, order_id: str) -> Any:
    raw = redis_client.hget(shop_key(settings.namespace, what), order_id)
    return None if raw is None else json.loads(raw)


def events(state: ChainState, step: str, event: str) -> int:
    return sum(1 for e in state.history if e.step == step and e.event == event)


def test_happy_path_passes_each_steps_output_on(
    actors: ChainActors, settings: Settings, redis_client: redis.Redis, cli_worker
) -> None:  # type: ignore[no-untyped-def]
    assert start_order(actors, example_order("o-1"))
    cli_worker("recipes.job_chains.worker", processes=2, threads=4, queues=QUEUES)
    state = finished(actors, "o-1")
    assert state.status == "completed" and state.error is None
    out = {name: step.output or {} for name, step in state.steps.items()}
    assert all(step.status == "done" and step.attempts == 1 for step in state.steps.values())
    assert out["validate"]["total_cents"] == 2 * 1_250 + 3 * 199
    assert out["charge"]["amount_cents"] == out["validate"]["total_cents"]  # validate -> charge
    assert out["invoice"]["payment_id"] == out["charge"]["payment_id"]  # charge -> invoice
    assert out["charge"]["payment_id"] in shop(redis_client, settings, "outbox", "o-1")["body"]
    assert out["archive"] == {"payment_id": out["charge"]["payment_id"],  # both -> archive
                              "invoice_number": out["invoice"]["invoice_number"],
                              "outbox_id": out["email"]["outbox_id"]}
    order = [f"{e.step}:{e.event}" for e in state.history]
    assert order.index("archive:started") > max(order.index("email:done"),
                                                order.index("invoice:done"))
    assert redis_client.zcard(index_keys(settings.namespace)["running"]) == 0
    assert redis_client.ttl(actors.store.keys("o-1")["state"]) > 0  # finished chains expire
    assert actors.broker.dead_letters.count() == 0  # type: ignore[attr-defined]


def test_permanent_failure_in_charge_compensates_and_marks_the_chain_failed(
    actors: ChainActors, settings: Settings, redis_client: redis.Redis, start_worker
) -> None:  # type: ignore[no-untyped-def]
    assert start_order(actors, example_order("o-declined", card="tok_declined"))
    start_worker(queues=QUEUES, threads=4)
    state = finished(actors, "o-declined")
    assert state.status == "failed" and state.failed_step == "charge"
    assert state.error is not None and "card declined" in state.error
    steps = state.steps
    assert steps["charge"].status == "failed" and steps["charge"].attempts == 1  # no retries
    assert steps["validate"].status == "compensated"
    assert shop(redis_client, settings, "reservations", "o-declined") is None  # stock released
    assert shop(redis_client, settings, "payments", "o-declined") is None
    assert all(steps[s].status is None for s in ("email", "invoice", "archive"))
    assert events(state, "validate", "compensated") == 1
    assert state.history[-1].event == "failed" and state.finished_ms is not None
    letters = actors.broker.dead_letters.recent()  # type: ignore[attr-defined]
    assert [(d.actor, d.reason) for d in letters] == [("chain_charge", "permanent: "
                                                                       "PermanentError")]
    assert redis_client.zcard(index_keys(settings.namespace)["running"]) == 0


def test_a_failed_branch_after_payment_refunds_and_fails_the_chain(
    actors: ChainActors, settings: Settings, redis_client: redis.Redis, start_worker
) -> None:  # type: ignore[no-untyped-def]
    assert start_order(actors, example_order("o-noinv", sku="NOINVOICE"))
    start_worker(queues=QUEUES, threads=4)
    state = finished(actors, "o-noinv")
    assert state.status == "failed" and state.failed_step == "invoice"
    assert state.steps["charge"].status == "compensated"
    payment = shop(redis_client, settings, "payments", "o-noinv")
    assert shop(redis_client, settings, "refunds", "o-noinv")["amount_cents"] == \
        payment["amount_cents"]
    # The parallel email branch either never ran or was undone, even if it finished late.
    wait_until(lambda: actors.store.get("o-noinv").steps["email"].status  # type: ignore[union-attr]
               in (None, "compensated"), timeout=30, message="email branch settled")
    if actors.store.get("o-noinv").steps["email"].status == "compensated":  # type: ignore[union-attr]
        assert shop(redis_client, settings, "cancellations", "o-noinv") is not None
    assert state.steps["archive"].status is None


def test_transient_failure_is_retried_and_the_chain_completes(
    actors: ChainActors, start_worker
) -> None:  # type: ignore[no-untyped-def]
    assert start_order(actors, example_order("o-flaky", card="tok_flaky"))
    start_worker(queues=QUEUES, threads=4)
    state = finished(actors, "o-flaky")
    assert state.status == "completed"
    assert state.steps["charge"].attempts == 2 and "timed out" in (state.steps["charge"].error
                                                                    or "")


class DeliverFanInTwice(Middleware):
    """Fault injection: every fan-in message is enqueued a second time, same message id."""

    def after_enqueue(self, broker: Any, message: Any, delay: int | None) -> None:
        if message.actor_name == "chain_archive" and not message.options.get("test_copy"):
            broker.enqueue(message.copy(options={"test_copy": True}), delay=delay)


def arrivals(actors: ChainActors, chain_id: str) -> int:
    state = actors.store.get(chain_id)
    assert state is not None
    return events(state, "email", "arrived") + events(state, "invoice", "arrived")


def test_fan_in_delivered_twice_runs_the_fan_in_step_once(
    actors: ChainActors, settings: Settings, redis_client: redis.Redis, start_worker
) -> None:  # type: ignore[no-untyped-def]
    actors.broker.add_middleware(DeliverFanInTwice())
    ids = [f"o-dup-{i}" for i in range(10)]
    for chain_id in ids:
        assert start_order(actors, example_order(chain_id))
    start_worker(queues=QUEUES, threads=8)
    for chain_id in ids:
        state = finished(actors, chain_id)
        assert state.status == "completed"
        assert events(state, "archive", "started") == 1 and state.steps["archive"].attempts == 1
        # Each branch really reached the fan-in twice (a copy that met the first one's
        # in-flight claim is deferred and arrives once more).
        wait_until(lambda c=chain_id: arrivals(actors, c) >= 4, timeout=30,  # type: ignore[misc]
                   message="4 fan-in deliveries")
    assert redis_client.hlen(shop_key(settings.namespace, "archive")) == len(ids)
    assert actors.broker.dead_letters.count() == 0  # type: ignore[attr-defined]


def test_invalid_order_is_refused_before_a_chain_exists(actors: ChainActors,
                                                        redis_client: redis.Redis) -> None:
    bad = example_order("o-bad").model_dump() | {"email": "not-an-address"}
    with pytest.raises(ValidationError, match="email"):
        start_order(actors, Order.model_construct(**bad))
    assert actors.store.get("o-bad") is None
    assert redis_client.llen(f"{actors.store.namespace}:{QUEUE}") == 0


def test_the_same_order_started_twice_runs_one_chain(actors: ChainActors,
                                                     start_worker) -> None:  # type: ignore[no-untyped-def]
    assert start_order(actors, example_order("o-twice"))
    assert not start_order(actors, example_order("o-twice"))
    start_worker(queues=QUEUES, threads=4)
    state = finished(actors, "o-twice")
    assert state.status == "completed" and events(state, "chain", "started") == 1
    assert all(step.attempts == 1 for step in state.steps.values())
