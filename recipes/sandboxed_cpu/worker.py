"""Worker entry point for the ``dramatiq`` CLI; settings come from the environment.

Run with: ``uv run dramatiq recipes.sandboxed_cpu.worker -p 1 -t 4``
(``COOKBOOK_SANDBOX_PROCESSES``, ``_MEMORY_MB``, ``_TIMEOUT_S``, ``_MAX_TASKS`` tune the pool).
"""

from __future__ import annotations

import dramatiq

from common.broker import make_broker
from common.settings import get_settings
from recipes.sandboxed_cpu.actors import register
from recipes.sandboxed_cpu.config import SandboxSettings, make_sandbox

settings = get_settings()
broker = make_broker(settings)
dramatiq.set_broker(broker)
# Built here but started at worker boot, in each worker process (see middleware.py).
sandbox = make_sandbox(SandboxSettings(), redis_url=settings.redis_url,
                       namespace=settings.namespace)
actors = register(broker, broker.client, settings.namespace, sandbox)
