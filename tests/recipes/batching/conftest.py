"""Fixtures for the batching tests: the recipe registered with a test-sized config."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import redis

from common.broker import CookbookBroker
from common.settings import Settings
from recipes.batching import QUEUE
from recipes.batching.actors import BatchingActors, register
from recipes.batching.config import BatchConfig


def config_env(config: BatchConfig) -> dict[str, str]:
    """The same config for a ``dramatiq recipes.batching.worker`` subprocess."""
    return {f"COOKBOOK_BATCHING_{name.upper()}": str(value)
            for name, value in config.model_dump().items()}


@pytest.fixture
def batching(broker: CookbookBroker, settings: Settings,
             redis_client: redis.Redis) -> Callable[..., BatchingActors]:
    """``batching(size=..., max_age_ms=...)``: register the recipe on the test broker."""

    def make(**overrides: Any) -> BatchingActors:
        overrides.setdefault("min_backoff_ms", 50)
        overrides.setdefault("max_backoff_ms", 200)
        return register(broker, redis_client, settings.namespace,
                        config=BatchConfig(**overrides))

    return make


def settled(actors: BatchingActors, broker: CookbookBroker) -> bool:
    """Nothing waiting, no open batch, no batch job queued or delayed."""
    return (actors.batcher.pending() == 0 and not actors.batcher.open_batches()
            and broker.do_qsize(QUEUE) == 0)  # counts the delay queue and in-flight too
