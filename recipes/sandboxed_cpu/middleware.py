"""Ties the pool's life to the worker's: started at worker boot, stopped after shutdown."""

from __future__ import annotations

import os

import dramatiq
import redis
from dramatiq.middleware import Middleware

from recipes.sandboxed_cpu import keys
from recipes.sandboxed_cpu.sandbox import Sandbox


class SandboxLifecycle(Middleware):
    def __init__(self, sandbox: Sandbox, client: redis.Redis, namespace: str) -> None:
        self.sandbox, self.client, self.keys = sandbox, client, keys(namespace)

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        # Here, in the worker process: a pool made at import would be forked by the CLI parent.
        self.sandbox.start()
        self.client.rpush(self.keys["boots"], os.getpid())

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        # "after", not "before": worker threads have finished their in-flight jobs by now.
        self.sandbox.stop()
