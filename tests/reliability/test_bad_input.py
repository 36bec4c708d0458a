"""Bad input: poison jobs, garbage on the queue, unknown actors, oversized payloads, fuzzed models.

Every test counts every job: completed + dead-lettered (+ still queued) == sent.
"""

from __future__ import annotations

import json
import uuid

import dramatiq
import pytest
import redis
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from pydantic import BaseModel, Field, ValidationError

from common.broker import CookbookBroker, MessageTooLarge
from common.jobs import typed_actor
from tests.support import wait_until

Q = "bad_input"


def _push_raw(client: redis.Redis, ns: str, raw: bytes | dict[str, object]) -> None:
    """Write straight into Dramatiq's queue layout, as a foreign producer would."""
    rid = str(uuid.uuid4())
    if isinstance(raw, dict):  # a message dict: give it the id Dramatiq's enqueue would
        raw["options"] = {**raw.get("options", {}), "redis_message_id": rid}  # type: ignore[dict-item]
        raw = json.dumps(raw).encode()
    client.hset(f"{ns}:{Q}.msgs", rid, raw)
    client.rpush(f"{ns}:{Q}", rid)


def test_poison_job_gets_exactly_its_attempts_and_others_are_unaffected(
    broker: CookbookBroker, redis_client: redis.Redis, start_worker
) -> None:  # type: ignore[no-untyped-def]
    @dramatiq.actor(broker=broker, queue_name=Q, max_retries=3, min_backoff=10, max_backoff=40)
    def process(n: int) -> None:
        if n == 13:
            redis_client.incr("poison_runs")
            raise ZeroDivisionError("poisoned input 13")
        redis_client.sadd("ok", n)

    for n in range(100):
        process.send(n)
    start_worker(queues=[Q], threads=4)
    wait_until(lambda: redis_client.scard("ok") == 99 and broker.dead_letters.count() == 1,
               timeout=30, message="99 ok + 1 dead")
    assert int(redis_client.get("poison_runs")) == 4  # 1 run + max_retries=3
    letter = broker.dead_letters.recent()[0]
    assert letter.error == "poisoned input 13" and letter.attempts == 4
    assert letter.message is not None and letter.message["args"] == [13]


def test_garbage_wrong_shape_unknown_actor_and_oversized_are_dead_lettered(
    broker: CookbookBroker, redis_client: redis.Redis, start_worker
) -> None:  # type: ignore[no-untyped-def]
    ns = broker.namespace

    @dramatiq.actor(broker=broker, queue_name=Q)
    def fine(n: int) -> None:
        redis_client.sadd("ok", n)

    fine.send(1)
    _push_raw(redis_client, ns, b"\x80\x04\x95 not json, maybe a pickle")
    _push_raw(redis_client, ns, json.dumps({"queue_name": Q, "args": []}).encode())
    ghost = fine.message(2).asdict() | {"actor_name": "no_such_actor"}
    _push_raw(redis_client, ns, ghost)
    huge = fine.message(3).asdict() | {"args": ["x" * (broker.max_message_bytes + 10)]}
    _push_raw(redis_client, ns, huge)
    fine.send(4)
    start_worker(queues=[Q], threads=2)

    wait_until(lambda: broker.dead_letters.count() == 4 and redis_client.scard("ok") == 2,
               timeout=20, message=lambda: f"4 dead letters ({broker.dead_letters.count()})")
    reasons = sorted(letter.reason.split(":")[0] for letter in broker.dead_letters.recent())
    assert reasons == ["message too large", "undecodable message", "undecodable message",
                       "unknown actor 'no_such_actor'"]
    assert {m.decode() for m in redis_client.smembers("ok")} == {"1", "4"}  # worker kept serving
    assert redis_client.hlen(f"{ns}:{Q}.msgs") == 0 and redis_client.llen(f"{ns}:{Q}") == 0
    assert all(redis_client.scard(k) == 0 for k in redis_client.scan_iter(f"{ns}:__acks__.*"))


def test_oversized_message_is_refused_at_send(broker: CookbookBroker,
                                              redis_client: redis.Redis) -> None:
    @dramatiq.actor(broker=broker, queue_name=Q)
    def upload(blob: str) -> None: ...

    with pytest.raises(MessageTooLarge, match="large_payloads"):
        upload.send("x" * broker.max_message_bytes)
    assert redis_client.llen(f"{broker.namespace}:{Q}") == 0


class Order(BaseModel):
    sku: str = Field(min_length=1, max_length=20)
    quantity: int = Field(ge=1, le=1000)
    note: str | None = Field(default=None, max_length=200)
    tags: list[str] = Field(default_factory=list, max_length=5)


payloads = st.fixed_dictionaries(
    {"sku": st.text(max_size=25), "quantity": st.integers(-5, 1_005) | st.text(max_size=3)},
    optional={"note": st.none() | st.text(max_size=210),
              "tags": st.lists(st.text(max_size=5), max_size=7), "extra": st.integers()},
)


def test_typed_payload_round_trips_or_is_rejected_naming_the_field(
    broker: CookbookBroker, redis_client: redis.Redis
) -> None:
    @typed_actor(broker=broker, queue_name="orders_fuzz")
    def place_order(job: Order) -> None: ...

    @hsettings(max_examples=300, deadline=None)
    @given(payload=payloads)
    def check(payload: dict[str, object]) -> None:
        before = redis_client.llen(f"{broker.namespace}:orders_fuzz")
        try:
            message = place_order.send_with_options(payload)
        except ValidationError as exc:
            fields = {str(err["loc"][0]) for err in exc.errors()}
            assert fields and fields <= {"sku", "quantity", "note", "tags"}, exc
            assert redis_client.llen(f"{broker.namespace}:orders_fuzz") == before
            return
        wire = json.loads(message.encode())["args"][0]  # exactly what a worker receives
        assert Order.model_validate(wire) == Order.model_validate(payload)

    check()
