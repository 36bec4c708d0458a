"""Root fixtures: real Redis, a fresh broker per test, in-process and CLI workers.

Redis resolution (SPEC "Real parts"): ``REDIS_URL`` if set (the tests FLUSH that database,
so point it at a scratch one); else a Redis container when a Docker engine answers
(testcontainers); else a throwaway ``redis-server`` from PATH on a free port.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dramatiq
import pytest
import redis

from common.broker import CookbookBroker, make_broker, make_client
from common.settings import Settings, load_settings
from common.worker import running_worker
from cookbook.redis_local import RedisServer, resolve_redis
from tests.support import CliWorker, wait_until

# Short enough that crash-recovery tests finish quickly, long enough for a loaded CI box.
TEST_HEARTBEAT_TIMEOUT_MS = 4_000
TEST_RECOVERY_INTERVAL_MS = 500
TEST_NAMESPACE = "cookbook-test"


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    with resolve_redis() as url:
        yield url


@pytest.fixture
def settings(redis_url: str) -> Settings:
    return load_settings(
        redis_url=redis_url,
        namespace=TEST_NAMESPACE,
        heartbeat_timeout_ms=TEST_HEARTBEAT_TIMEOUT_MS,
        recovery_interval_ms=TEST_RECOVERY_INTERVAL_MS,
    )


@pytest.fixture
def settings_env(settings: Settings) -> dict[str, str]:
    """The same settings as environment variables, for subprocess workers."""
    return {
        "REDIS_URL": settings.redis_url,
        "COOKBOOK_NAMESPACE": settings.namespace,
        "COOKBOOK_HEARTBEAT_TIMEOUT_MS": str(settings.heartbeat_timeout_ms),
        "COOKBOOK_RECOVERY_INTERVAL_MS": str(settings.recovery_interval_ms),
    }


@pytest.fixture
def redis_client(settings: Settings) -> Iterator[redis.Redis]:
    client = make_client(settings)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def broker(settings: Settings, redis_client: redis.Redis) -> Iterator[CookbookBroker]:
    """A fresh broker per test, set as the global broker, ``process_boot`` emitted."""
    broker = make_broker(settings)
    dramatiq.set_broker(broker)
    broker.emit_after("process_boot")
    broker._cookbook_booted = True  # type: ignore[attr-defined]
    yield broker
    broker.close()


@pytest.fixture
def start_worker(broker: CookbookBroker) -> Iterator[Callable[..., dramatiq.Worker]]:
    """``start_worker(queues=None, threads=8)`` starts an in-process worker, stopped at teardown."""
    stack: list[Any] = []

    def start(**kwargs: Any) -> dramatiq.Worker:
        ctx = running_worker(broker, **kwargs)
        worker = ctx.__enter__()
        stack.append(ctx)
        return worker

    yield start
    for ctx in reversed(stack):
        ctx.__exit__(None, None, None)


@pytest.fixture
def cli_worker(settings_env: dict[str, str], tmp_path: Path,
               redis_client: redis.Redis) -> Iterator[Callable[..., CliWorker]]:
    """``cli_worker("recipes.x.worker", processes=2, threads=8)``: a real ``dramatiq`` process."""
    workers: list[CliWorker] = []

    def start(module: str, *, env: dict[str, str] | None = None, **kwargs: Any) -> CliWorker:
        log = tmp_path / f"worker-{len(workers)}.log"
        worker = CliWorker(module, env={**settings_env, **(env or {})}, log_path=log, **kwargs)
        workers.append(worker)
        return worker.start()

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def redis_server_factory() -> Iterator[Callable[..., RedisServer]]:
    """Start a private ``redis-server`` (own port and dir) for fault injection and persistence."""
    servers: list[RedisServer] = []

    def start(**kwargs: Any) -> RedisServer:
        server = RedisServer(**kwargs).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


__all__ = ["wait_until"]
