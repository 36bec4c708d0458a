"""Worker module mixing several recipes' actors: ``dramatiq tests.reliability.app``."""

from __future__ import annotations

from recipes.batching.actors import register as register_batching
from recipes.fifo_ordered.actors import register as register_fifo
from tests.common.worker_app import broker, client, ns  # the idempotent ``work`` actor

fifo = register_fifo(broker, client, ns)
batching = register_batching(broker, client, ns)
