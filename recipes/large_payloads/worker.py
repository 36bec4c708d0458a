"""Worker entry point for the ``dramatiq`` CLI; settings come from the environment.

Run with: ``uv run dramatiq recipes.large_payloads.worker -p 2 -t 8``
(set ``COOKBOOK_BLOB_DIR=/shared/dir`` to keep blobs in a directory instead of Redis).
"""

from __future__ import annotations

import dramatiq

from common.broker import make_broker
from common.settings import get_settings
from recipes.large_payloads.actors import register

settings = get_settings()
broker = make_broker(settings)
dramatiq.set_broker(broker)
actors = register(broker, broker.client, settings.namespace)
