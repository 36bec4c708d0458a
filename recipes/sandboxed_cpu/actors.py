"""The actor: run a registered task in the sandbox, record the outcome in Redis.

Run with: ``uv run dramatiq recipes.sandboxed_cpu.worker -p 1 -t 4``
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import dramatiq
import redis

from common.jobs import TypedActor, typed_actor
from recipes.sandboxed_cpu import QUEUE, RESULT_TTL_S, SANDBOX_MAX_RETRIES, keys, progress
from recipes.sandboxed_cpu.middleware import SandboxLifecycle
from recipes.sandboxed_cpu.models import CpuJob
from recipes.sandboxed_cpu.sandbox import Sandbox
from recipes.sandboxed_cpu.tasks import call


@dataclass(frozen=True)
class SandboxedActors:
    run: TypedActor[CpuJob, None]
    sandbox: Sandbox
    client: redis.Redis
    namespace: str

    def result(self, job_id: str) -> dict[str, Any] | None:
        raw = self.client.hget(keys(self.namespace)["results"], job_id)
        return None if raw is None else json.loads(raw)

    def progress(self, job_id: str) -> dict[str, int] | None:
        return progress.read(self.client, self.namespace, job_id)

    def worker_pids(self) -> set[int]:
        return {int(p) for p in self.client.smembers(keys(self.namespace)["worker_pids"])}

    def boots(self) -> list[int]:
        return [int(p) for p in self.client.lrange(keys(self.namespace)["boots"], 0, -1)]


def register(broker: dramatiq.Broker, client: redis.Redis, namespace: str, sandbox: Sandbox,
             **options: Any) -> SandboxedActors:
    broker.add_middleware(SandboxLifecycle(sandbox, client, namespace))
    k = keys(namespace)
    options = {"max_retries": SANDBOX_MAX_RETRIES, "min_backoff": 500, **options}

    @typed_actor(broker=broker, queue_name=QUEUE, actor_name="sandboxed_cpu", **options)
    def sandboxed_cpu(job: CpuJob) -> None:
        worker_pid = os.getpid()  # the proof: this process survives every failing job
        client.sadd(k["worker_pids"], worker_pid)
        out = sandbox.run(call, job.job_id, job.task, job.args, timeout_s=job.timeout_s,
                          name=f"{job.task}[{job.job_id}]")
        pipe = client.pipeline(transaction=True)
        pipe.hset(k["results"], job.job_id, json.dumps({**out, "worker_pid": worker_pid}))
        pipe.expire(k["results"], RESULT_TTL_S)
        pipe.execute()

    return SandboxedActors(run=sandboxed_cpu, sandbox=sandbox, client=client,
                           namespace=namespace)
