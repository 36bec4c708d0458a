"""Start-up warnings for a Redis that can lose jobs; the shipped redis.conf passes them."""

from __future__ import annotations

import dramatiq
import redis

from common.broker import make_broker
from common.redis_checks import RedisSetupCheck, redis_warnings
from common.settings import Settings
from common.worker import running_worker
from tests.support import ROOT


def test_evicting_policy_and_no_persistence_are_reported(redis_server_factory,
                                                         settings: Settings) -> None:  # type: ignore[no-untyped-def]
    server = redis_server_factory(args=["--maxmemory-policy", "allkeys-lru"])
    client = redis.Redis.from_url(server.url)
    warnings = redis_warnings(client, critical_queues=["payments"])
    assert len(warnings) == 2
    assert "allkeys-lru" in warnings[0] and "noeviction" in warnings[0]
    assert "payments" in warnings[1] and "appendonly yes" in warnings[1]
    assert len(redis_warnings(client)) == 1  # no critical queue: persistence is not required

    # The worker logs them at boot.
    broker = make_broker(settings.model_copy(update={"redis_url": server.url,
                                                     "critical_queues": ("payments",)}))
    dramatiq.set_broker(broker)
    with running_worker(broker, queues=["payments"], threads=1):
        check = next(m for m in broker.middleware if isinstance(m, RedisSetupCheck))
        assert check.warnings == warnings
    broker.close()


def test_shipped_redis_conf_is_safe_for_critical_queues(redis_server_factory) -> None:  # type: ignore[no-untyped-def]
    server = redis_server_factory(config_file=ROOT / "redis.conf")
    client = redis.Redis.from_url(server.url)
    assert client.config_get("appendonly")["appendonly"] in ("yes", b"yes")
    assert redis_warnings(client, critical_queues=["payments"]) == []
