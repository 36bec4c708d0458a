"""Tour demo: CPU jobs interleaved with a segfault, two hard exits, a memory bomb and an
endless loop; every normal job succeeds, each fault is dead-lettered with its own error
type, and the worker process (this one) is the one that ran them all."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from common.broker import CookbookBroker
from common.settings import Settings
from common.worker import running_worker
from recipes.sandboxed_cpu import QUEUE
from recipes.sandboxed_cpu.actors import register
from recipes.sandboxed_cpu.config import SandboxSettings, make_sandbox
from recipes.sandboxed_cpu.enqueue import send_mix

EXPECTED = {"segfault": "SandboxCrashed", "exit3": "SandboxCrashed", "exit0": "SandboxCrashed",
            "allocate": "SandboxMemoryExceeded", "spin": "SandboxTimeout"}


def demo(broker: CookbookBroker, settings: Settings, report: Callable[[int, int], None]) -> int:
    config = SandboxSettings(processes=2, memory_mb=256, timeout_s=20)
    sandbox = make_sandbox(config, redis_url=settings.redis_url, namespace=settings.namespace)
    actors = register(broker, broker.client, settings.namespace, sandbox, min_backoff=100)
    normal, faults = send_mix(actors, rounds=1)
    total = len(normal) + len(faults)
    try:
        with running_worker(broker, queues=[QUEUE], threads=4):
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                done = sum(actors.result(j) is not None for j in normal)
                report(done + broker.dead_letters.count(), total)
                if done == len(normal) and broker.dead_letters.count() == len(faults):
                    break
                time.sleep(0.2)
    finally:
        sandbox.stop()
    for job_id in normal:
        result = actors.result(job_id)
        if result is None or result["worker_pid"] != os.getpid():
            raise AssertionError(f"{job_id}: {result}")
    letters = {str(letter.message["args"][0]["job_id"]): letter
               for letter in broker.dead_letters.recent(limit=100) if letter.message}
    for job_id, label in faults.items():
        letter = letters.get(job_id)
        if letter is None or letter.error_type != EXPECTED[label]:
            raise AssertionError(f"{job_id}: expected {EXPECTED[label]}, got {letter}")
    if actors.worker_pids() != {os.getpid()}:
        raise AssertionError(f"jobs ran in worker processes {actors.worker_pids()}")
    report(total, total)
    return total
