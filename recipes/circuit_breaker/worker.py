"""Worker entry point for the ``dramatiq`` CLI; settings come from the environment.

Run with: ``uv run dramatiq recipes.circuit_breaker.worker -p 2 -t 8``
(``COOKBOOK_BREAKER_API_URL`` names the dependency, ``COOKBOOK_BREAKER_*`` tune the breaker).
"""

from __future__ import annotations

import dramatiq

from common.broker import make_broker
from common.settings import get_settings
from recipes.circuit_breaker.actors import register

settings = get_settings()
broker = make_broker(settings)
dramatiq.set_broker(broker)
actors = register(broker, broker.client, settings.namespace)
