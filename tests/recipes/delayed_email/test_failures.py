"""SMTP down or greylisting: retried. Recipient refused (5xx): dead-lettered. Bad input: refused."""

from __future__ import annotations

import json

import pytest
import redis
from pydantic import ValidationError

from common.broker import BrokerUnavailable, CookbookBroker, make_broker, make_client
from common.settings import Settings
from recipes.delayed_email import QUEUE
from recipes.delayed_email.actors import register
from recipes.delayed_email.enqueue import cancel, sample_email, send_later
from recipes.delayed_email.models import Email
from recipes.delayed_email.smtp_server import free_port
from tests.recipes.delayed_email.conftest import email_config
from tests.support import wait_until


def _max_retries_waiting(client: redis.Redis, namespace: str) -> int:
    """Highest ``retries`` option among copies waiting on the delay queue."""
    payloads = client.hvals(f"{namespace}:{QUEUE}.DQ.msgs")
    return max((json.loads(p)["options"].get("retries", 0) for p in payloads), default=0)


def test_smtp_down_is_retried_until_the_server_is_back(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis, start_worker,
    smtp_server,
) -> None:  # type: ignore[no-untyped-def]
    port = free_port()  # nothing listens here yet
    actors = register(broker, redis_client, settings.namespace,
                      email_config(port, max_backoff_ms=300))
    send_later(actors, sample_email("patient"), delay_ms=0)
    start_worker(queues=[QUEUE], threads=2)
    wait_until(lambda: _max_retries_waiting(redis_client, settings.namespace) >= 2, timeout=20,
               message="two failed attempts, retry scheduled")
    smtp = smtp_server(port)
    wait_until(lambda: smtp.by_email().get("patient"), timeout=20, message="sent once back")
    broker.join(QUEUE, timeout=20_000)
    assert len(smtp.by_email()["patient"]) == 1
    assert broker.dead_letters.count() == 0


def test_a_greylisted_recipient_is_retried_a_refused_one_is_dead_lettered(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis, start_worker,
    smtp_server,
) -> None:  # type: ignore[no-untyped-def]
    smtp = smtp_server()
    actors = register(broker, redis_client, settings.namespace, email_config(smtp.port))
    send_later(actors, sample_email("grey", to="greylist-me@example.com"), delay_ms=0)
    send_later(actors, sample_email("bounce", to="reject-me@example.com"), delay_ms=0)
    start_worker(queues=[QUEUE], threads=2)
    wait_until(broker.dead_letters.count, timeout=20, message="refused email dead-lettered")
    wait_until(lambda: smtp.by_email().get("grey"), timeout=20, message="greylisted, then sent")
    [letter] = broker.dead_letters.recent()
    assert letter.reason == "permanent: PermanentError" and letter.attempts == 1
    assert "550" in (letter.error or "") and "bounce" in (letter.error or "")
    assert sorted(code for _, code in smtp.refused) == [451, 550]
    # The worker keeps serving, and the refused email's record stays for replay or cancel.
    send_later(actors, sample_email("after"), delay_ms=0)
    wait_until(lambda: smtp.by_email().get("after"), timeout=20, message="later email")
    assert set(smtp.by_email()) == {"grey", "after"}
    assert actors.schedule.get("bounce") is not None
    assert cancel(actors, "bounce") == "cancelled"


@pytest.mark.parametrize(("field", "bad"), [
    ("to", "not-an-address"),
    ("subject", "Hello\r\nBcc: everyone@example.com"),
    ("email_id", "has spaces"),
])
def test_an_invalid_email_is_refused_and_nothing_is_stored(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis, field: str, bad: str,
) -> None:
    actors = register(broker, redis_client, settings.namespace, email_config(free_port()))
    data = {**sample_email("ok").model_dump(), field: bad}
    with pytest.raises(ValidationError, match=field):
        send_later(actors, Email.model_construct(**data), delay_ms=0)
    with pytest.raises(ValueError, match="delay_ms"):
        send_later(actors, sample_email("ok"), delay_ms=-1)
    assert set(actors.schedule.counts().values()) == {0}


def test_a_garbage_job_is_dead_lettered_and_the_worker_goes_on(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis, start_worker,
    smtp_server,
) -> None:  # type: ignore[no-untyped-def]
    smtp = smtp_server()
    actors = register(broker, redis_client, settings.namespace, email_config(smtp.port))
    actors.send.actor.send({"email_id": "", "token": 7})
    send_later(actors, sample_email("fine"), delay_ms=0)
    start_worker(queues=[QUEUE], threads=2)
    wait_until(lambda: smtp.by_email().get("fine"), timeout=20, message="good email sent")
    wait_until(broker.dead_letters.count, timeout=20, message="garbage dead-lettered")
    assert broker.dead_letters.recent()[0].error_type == "InvalidJobPayload"


def test_redis_down_is_a_clear_error_and_nothing_is_half_written(
    settings: Settings, redis_server_factory,
) -> None:  # type: ignore[no-untyped-def]
    server = redis_server_factory()
    own = settings.model_copy(update={"redis_url": server.url})
    client = make_client(own)
    broker = make_broker(own, client=client)
    actors = register(broker, client, own.namespace, email_config(free_port()))
    server.kill()
    with pytest.raises(BrokerUnavailable, match="'down' was not scheduled"):
        send_later(actors, sample_email("down"), delay_ms=0)
    server.start()
    assert set(actors.schedule.counts().values()) == {0}
    send_later(actors, sample_email("down"), delay_ms=0)  # works again once Redis is back
    assert actors.schedule.counts()["queue"] == 1
    broker.close()
