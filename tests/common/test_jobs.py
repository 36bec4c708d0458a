"""Typed jobs: validated at send (nothing enqueued when invalid) and at receive."""

from __future__ import annotations

import json
import uuid

import pytest
import redis
from pydantic import BaseModel, Field, ValidationError

from common.broker import CookbookBroker
from common.jobs import typed_actor
from tests.support import wait_until


class Deposit(BaseModel):
    account: str = Field(min_length=1)
    amount_cents: int = Field(gt=0)


def _declare(broker: CookbookBroker, client: redis.Redis):  # type: ignore[no-untyped-def]
    @typed_actor(broker=broker, queue_name="jobs_test", max_retries=3, min_backoff=50)
    def apply_deposit(job: Deposit) -> None:
        client.rpush("applied", job.model_dump_json())

    return apply_deposit


def queued(client: redis.Redis, broker: CookbookBroker, queue: str) -> int:
    return int(client.llen(f"{broker.namespace}:{queue}"))


def test_invalid_payload_is_rejected_at_send_and_nothing_is_enqueued(
    broker: CookbookBroker, redis_client: redis.Redis
) -> None:
    actor = _declare(broker, redis_client)
    with pytest.raises(ValidationError) as info:
        actor.send_with_options({"account": "a1", "amount_cents": -5})
    assert info.value.errors()[0]["loc"] == ("amount_cents",)
    with pytest.raises(ValidationError, match="account"):
        actor.send(Deposit.model_construct(account="", amount_cents=5))
    assert queued(redis_client, broker, "jobs_test") == 0
    assert redis_client.hlen(f"{broker.namespace}:jobs_test.msgs") == 0


def test_valid_job_round_trips_as_json(broker: CookbookBroker, redis_client: redis.Redis,
                                       start_worker) -> None:  # type: ignore[no-untyped-def]
    actor = _declare(broker, redis_client)
    message = actor.send(Deposit(account="a1", amount_cents=500))
    raw = redis_client.hget(f"{broker.namespace}:jobs_test.msgs",
                            message.options["redis_message_id"])
    assert json.loads(raw)["args"] == [{"account": "a1", "amount_cents": 500}]
    start_worker(queues=["jobs_test"])
    wait_until(lambda: redis_client.llen("applied") == 1, message="job applied")
    assert Deposit.model_validate_json(redis_client.lindex("applied", 0)) == Deposit(
        account="a1", amount_cents=500)


def test_corrupt_messages_are_dead_lettered_and_the_worker_goes_on(
    broker: CookbookBroker, redis_client: redis.Redis, start_worker
) -> None:  # type: ignore[no-untyped-def]
    actor = _declare(broker, redis_client)
    ns, q = broker.namespace, "jobs_test"
    # 1: a well-formed Dramatiq message whose payload fails the model (old schema).
    stale = actor.actor.message_with_options(args=({"account": "a1", "amount": 5},))
    broker.enqueue(stale)
    # 2: bytes that are not JSON at all; 3: JSON that is not a Dramatiq message.
    for raw in (b"\x00\xffnot json", b'{"hello": "world"}'):
        rid = str(uuid.uuid4())
        redis_client.hset(f"{ns}:{q}.msgs", rid, raw)
        redis_client.rpush(f"{ns}:{q}", rid)
    actor.send(Deposit(account="a2", amount_cents=1))
    start_worker(queues=[q])

    wait_until(lambda: redis_client.llen("applied") == 1, message="the good job to run")
    wait_until(lambda: broker.dead_letters.count() == 3, message="3 dead letters")
    letters = {item.reason.split(":")[0]: item for item in broker.dead_letters.recent()}
    assert set(letters) == {"permanent", "undecodable message"}
    stale_letter = broker.dead_letters.get(stale.message_id)
    assert stale_letter is not None
    assert stale_letter.error_type == "InvalidJobPayload"
    assert "amount_cents" in (stale_letter.error or "")
    assert stale_letter.attempts == 1
    # Nothing left in flight or in Dramatiq's own XQ: the store is the one place to look.
    wait_until(lambda: not redis_client.keys(f"{ns}:__acks__.*{q}") or all(
        redis_client.scard(k) == 0 for k in redis_client.keys(f"{ns}:__acks__.*")),
        message="in-flight sets empty")
    assert redis_client.zcard(f"{ns}:{q}.XQ") == 0
    assert redis_client.hlen(f"{ns}:{q}.msgs") == 0
