"""rate_limited_api: 5xx retried then done, 404 dead-lettered at once, bad input refused."""

from __future__ import annotations

import pytest
import redis
from pydantic import ValidationError

from common.broker import CookbookBroker
from common.settings import Settings, SettingsError
from recipes.rate_limited_api import QUEUE
from recipes.rate_limited_api.actors import register
from recipes.rate_limited_api.api import retry_after_s
from recipes.rate_limited_api.config import load_api_settings
from recipes.rate_limited_api.enqueue import send_fetch
from tests.support import wait_until


def test_5xx_is_retried_with_backoff_then_succeeds(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis, strict_api,
    start_worker,
) -> None:  # type: ignore[no-untyped-def]
    api = strict_api(limit=50)
    api.fail_next("flaky", times=2, status=503)
    actors = register(broker, redis_client, settings.namespace,
                      load_api_settings(url=api.url, min_backoff_ms=50, max_backoff_ms=200))
    send_fetch(actors, "flaky")
    start_worker(queues=[QUEUE], threads=2)
    wait_until(lambda: actors.results.count() == 1, timeout=30, message="flaky fetched")
    assert [s.status for s in api.snapshot()] == [503, 503, 200]
    assert actors.results.all()["flaky"] == {"data": {"id": "flaky"}, "retries": 2,
                                             "deferrals": 0}
    assert broker.dead_letters.count() == 0


def test_404_is_dead_lettered_after_one_attempt_and_the_worker_goes_on(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis, strict_api,
    start_worker,
) -> None:  # type: ignore[no-untyped-def]
    api = strict_api(limit=50)
    api.missing.add("gone")
    actors = register(broker, redis_client, settings.namespace,
                      load_api_settings(url=api.url, min_backoff_ms=50))
    send_fetch(actors, "gone")
    send_fetch(actors, "fine")
    start_worker(queues=[QUEUE], threads=2)
    wait_until(lambda: broker.dead_letters.count() == 1 and actors.results.count() == 1,
               timeout=30, message="one dead letter and one result")
    [letter] = broker.dead_letters.recent()
    assert letter.actor == "rate_limited_fetch"
    assert letter.error_type == "PermanentError"
    assert "GET /items/gone: upstream answered 404" in (letter.error or "")
    assert letter.attempts == 1  # one run, no retry: the first failure was final
    assert [s.path for s in api.snapshot()].count("/items/gone") == 1
    assert "fine" in actors.results.all()


def test_invalid_item_id_is_refused_at_send(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis
) -> None:
    actors = register(broker, redis_client, settings.namespace, load_api_settings())
    with pytest.raises(ValidationError, match="item_id"):
        send_fetch(actors, "../admin?drop=1")
    assert redis_client.llen(f"{broker.namespace}:{QUEUE}") == 0


def test_bad_api_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RATE_LIMITED_API_RATE", "0")
    with pytest.raises(SettingsError, match="RATE_LIMITED_API_RATE"):
        load_api_settings()
    with pytest.raises(SettingsError, match="RATE_LIMITED_API_URL"):
        load_api_settings(url="ftp://example.com", rate=5)


@pytest.mark.parametrize(("header", "expected"), [
    ("2", 2.0), (" 7 ", 7.0), (None, 1.0), ("soon", 1.0), ("-3", 1.0), ("999999", 3600.0),
    ("Wed, 21 Oct 2015 07:28:10 GMT", 10.0),
])
def test_retry_after_header_is_read_as_seconds_or_date(header: str | None,
                                                      expected: float) -> None:
    assert retry_after_s(header, now=1445412480.0) == expected
