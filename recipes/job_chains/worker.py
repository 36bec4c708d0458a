"""Worker entry point for the ``dramatiq`` CLI; settings come from the environment.

Run with: ``uv run dramatiq recipes.job_chains.worker -p 2 -t 8``
"""

from __future__ import annotations

import os

import dramatiq

from common.broker import make_broker
from common.settings import get_settings
from recipes.job_chains import STEP_LEASE_MS
from recipes.job_chains.actors import register

settings = get_settings()
broker = make_broker(settings)
dramatiq.set_broker(broker)
# Set it above your slowest step: a duplicate of a step still running waits this long.
lease_ms = int(os.environ.get("COOKBOOK_CHAIN_STEP_LEASE_MS", STEP_LEASE_MS))
actors = register(broker, broker.client, settings.namespace, step_lease_ms=lease_ms)
