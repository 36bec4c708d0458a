"""Long jobs checkpoint on shutdown and resume; logs carry the job's fields; idempotency keys."""

from __future__ import annotations

import json
import logging

import dramatiq
import pytest
import redis

from common.broker import CookbookBroker
from common.errors import RetryLater
from common.idempotency import Idempotency
from common.logging import JobContextFilter, JsonFormatter
from common.settings import Settings
from tests.support import wait_until


def test_long_job_stops_at_a_step_on_sigterm_and_resumes_without_losing_an_attempt(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis, cli_worker
) -> None:  # type: ignore[no-untyped-def]
    ns, steps = settings.namespace, 20

    @dramatiq.actor(broker=broker, queue_name="long", actor_name="long_job")
    def long_job(job_id: str, steps: int, step_ms: int) -> None: ...

    long_job.send("L", steps, 200)
    first = cli_worker("tests.common.worker_app", processes=1, threads=1,
                       queues=["long"])
    wait_until(lambda: redis_client.llen(f"{ns}:steps:L") >= 3, timeout=30, message="3 steps")
    first.terminate()
    assert first.wait(30) == 0
    done_before = [int(s) for s in redis_client.lrange(f"{ns}:steps:L", 0, -1)]
    assert 3 <= len(done_before) < steps, "the job should stop early, between steps"
    assert not redis_client.sismember(f"{ns}:finished", "L")
    assert broker.dead_letters.count() == 0  # max_retries=0, yet not dead: no attempt spent

    cli_worker("tests.common.worker_app", processes=1, threads=1, queues=["long"])
    wait_until(lambda: redis_client.sismember(f"{ns}:finished", "L"), timeout=30,
               message="job resumes and finishes")
    all_steps = [int(s) for s in redis_client.lrange(f"{ns}:steps:L", 0, -1)]
    assert all_steps == list(range(steps)), "each step exactly once, in order"
    assert not redis_client.keys(f"{ns}:checkpoint:*"), "checkpoint cleared on success"


def test_log_records_carry_message_id_actor_queue_and_attempt(
    broker: CookbookBroker, start_worker, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    logger = logging.getLogger("recipe.test")
    sent: list[str] = []

    @dramatiq.actor(broker=broker, queue_name="logq", max_retries=1, min_backoff=10,
                    max_backoff=20)
    def noisy() -> None:
        logger.warning("working hard")
        if len(sent) == 0:
            sent.append("failed once")
            raise RuntimeError("first try fails")

    caplog.handler.addFilter(JobContextFilter())
    with caplog.at_level(logging.WARNING, logger="recipe.test"):
        message = noisy.send()
        start_worker(queues=["logq"])
        wait_until(lambda: len([r for r in caplog.records if r.name == "recipe.test"]) == 2,
                   message="two log lines")
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records
             if r.name == "recipe.test"]
    assert [line["attempt"] for line in lines] == [1, 2]
    for line in lines:
        assert line["message_id"] == message.message_id
        assert line["actor"] == "noisy" and line["queue"] == "logq"
        assert line["msg"] == "working hard" and line["level"] == "WARNING"


def test_idempotency_once_skips_done_work_and_defers_while_held(
    redis_client: redis.Redis, settings: Settings
) -> None:
    idem = Idempotency(redis_client, settings.namespace, lease_ms=5_000)
    effects: list[str] = []
    with idem.once("email-1") as claim:
        assert claim is not None
        effects.append("sent")
    with idem.once("email-1") as claim:
        assert claim is None  # already done: the redelivery does nothing
    held = idem.claim("email-2")
    with pytest.raises(RetryLater) as info, idem.once("email-2"):
        pass
    assert 0 < info.value.delay_ms <= 5_000
    idem.release(held)
    with pytest.raises(ValueError), idem.once("email-2"):
        raise ValueError("send failed")
    assert not idem.is_done("email-2")  # released on failure, so a retry can run
    assert effects == ["sent"]
