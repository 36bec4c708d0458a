"""Worker entry point for the ``dramatiq`` CLI; settings come from the environment.

Run with: ``uv run dramatiq recipes.singleton_lock.worker -p 2 -t 8``
``SINGLETON_LOCK_TTL_MS`` overrides the lock TTL (the tests shorten it to see expiry).
"""

from __future__ import annotations

import os

import dramatiq

from common.broker import make_broker
from common.settings import get_settings
from recipes.singleton_lock import LOCK_TTL_MS
from recipes.singleton_lock.actors import register

settings = get_settings()
broker = make_broker(settings)
dramatiq.set_broker(broker)
actors = register(broker, broker.client, settings.namespace,
                  ttl_ms=int(os.environ.get("SINGLETON_LOCK_TTL_MS", LOCK_TTL_MS)))
