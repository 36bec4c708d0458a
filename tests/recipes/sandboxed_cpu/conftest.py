"""Fixtures for sandboxed_cpu: a producer-side registration and a small in-process sandbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from common.broker import CookbookBroker
from common.settings import Settings
from recipes.sandboxed_cpu.actors import SandboxedActors, register
from recipes.sandboxed_cpu.config import SandboxSettings, make_sandbox

# Small limits: the memory bomb stops at 256 MB, a spinning job after 1.5 s.
SANDBOX_ENV = {"COOKBOOK_SANDBOX_PROCESSES": "2", "COOKBOOK_SANDBOX_MEMORY_MB": "256",
               "COOKBOOK_SANDBOX_TIMEOUT_S": "20"}


@pytest.fixture
def actors(broker: CookbookBroker, settings: Settings,
           redis_client: redis.Redis) -> Iterator[SandboxedActors]:
    """The actor on the test broker; its sandbox starts only if a worker runs here."""
    config = SandboxSettings(processes=2, memory_mb=256, timeout_s=20)
    sandbox = make_sandbox(config, redis_url=settings.redis_url, namespace=settings.namespace)
    yield register(broker, redis_client, settings.namespace, sandbox, min_backoff=100)
    sandbox.stop()
