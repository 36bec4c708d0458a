"""Worker entry point for the ``dramatiq`` CLI; settings come from the environment.

Run with: ``RATE_LIMITED_API_URL=http://127.0.0.1:8080 RATE_LIMITED_API_RATE=50 \\
uv run dramatiq recipes.rate_limited_api.worker -p 2 -t 8``
"""

from __future__ import annotations

import dramatiq

from common.broker import make_broker
from common.settings import get_settings
from recipes.rate_limited_api.actors import register
from recipes.rate_limited_api.config import load_api_settings

settings = get_settings()
broker = make_broker(settings)
dramatiq.set_broker(broker)
actors = register(broker, broker.client, settings.namespace, load_api_settings())
