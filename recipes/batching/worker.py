"""Worker entry point for the ``dramatiq`` CLI; settings come from the environment.

Run with: ``uv run dramatiq recipes.batching.worker -p 2 -t 8``
Batcher tunables: ``COOKBOOK_BATCHING_SIZE``, ``..._MAX_AGE_MS``, ``..._LEASE_MS`` etc.
(see ``recipes/batching/config.py``); producers must use the same size and age.
"""

from __future__ import annotations

import dramatiq

from common.broker import make_broker
from common.settings import get_settings
from recipes.batching.actors import register
from recipes.batching.config import BatchConfig

settings = get_settings()
broker = make_broker(settings)
dramatiq.set_broker(broker)
actors = register(broker, broker.client, settings.namespace, config=BatchConfig())
