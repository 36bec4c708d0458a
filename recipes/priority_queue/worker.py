"""Worker entry point for the ``dramatiq`` CLI; settings come from the environment.

Run with: ``uv run dramatiq recipes.priority_queue.worker -p 2 -t 8`` (every level), or one
worker group per level set with ``-Q``, e.g. ``-Q priority_queue.high priority_queue.normal``.
Tunables: ``COOKBOOK_PRIORITY_LEVELS``, ``..._URGENT_POLL_MS``, ``..._RESERVED_THREADS``
(see ``recipes/priority_queue/config.py``).
"""

from __future__ import annotations

import dramatiq

from common.broker import make_broker
from common.settings import get_settings
from recipes.priority_queue.actors import register
from recipes.priority_queue.config import PriorityConfig

settings = get_settings()
broker = make_broker(settings)
dramatiq.set_broker(broker)
actors = register(broker, broker.client, settings.namespace, config=PriorityConfig())
