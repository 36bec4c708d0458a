"""Sandboxed CPU bench: what the pebble sandbox costs and what it buys.

1. Throughput: 16 pure-Python jobs of ~100 ms through an in-process worker with 4 threads:
   bare Dramatiq (the job runs in a worker thread, under the GIL) against the sandboxed
   actor with 1 and 2 pool processes.
2. Overhead: a trivial job (``noop``) end to end, bare Dramatiq against the sandboxed
   actor (1 worker thread, so jobs run one after another), and ``Sandbox.run`` alone.

Starts its own redis-server. Run with: ``uv run python bench/sandboxed_cpu.py``
"""

from __future__ import annotations

import time
from collections.abc import Callable
from statistics import median

import dramatiq

from common.broker import make_broker
from common.settings import load_settings
from common.worker import running_worker
from cookbook.redis_local import RedisServer
from recipes.sandboxed_cpu import QUEUE
from recipes.sandboxed_cpu.actors import register
from recipes.sandboxed_cpu.models import CpuJob
from recipes.sandboxed_cpu.sandbox import Sandbox
from recipes.sandboxed_cpu.tasks import burn, call

CPU_JOBS, NOOP_JOBS = 16, 300


def calibrate(target_s: float = 0.1) -> int:
    steps = 200_000
    started = time.perf_counter()
    burn(steps)
    return int(steps * target_s / (time.perf_counter() - started))


def run_jobs(url: str, ns: str, processes: int | None, task: str, args: list[int], n: int,
             threads: int) -> float:
    """Seconds from the first send until ``n`` jobs finished (``processes=None``: bare)."""
    broker = make_broker(load_settings(redis_url=url, namespace=ns))
    client = broker.client
    counter = f"{ns}:done"
    if processes is None:
        @dramatiq.actor(broker=broker, queue_name=QUEUE, actor_name="bare")
        def bare(job: dict[str, object]) -> None:
            call(str(job["job_id"]), str(job["task"]), list(job["args"]))  # type: ignore[call-overload]
            client.incr(counter)

        send: Callable[[CpuJob], object] = lambda job: bare.send(job.model_dump())  # noqa: E731
        sandbox = None
    else:
        sandbox = Sandbox(processes=processes, preload=["recipes.sandboxed_cpu.tasks"])
        actors = register(broker, client, ns, sandbox)
        send = actors.run.send
    with running_worker(broker, queues=[QUEUE], threads=threads):
        if sandbox is not None:
            sandbox.run(call, "warm", "noop", [])  # pool start is not per-job cost
            results = f"{ns}:sandbox:results"
        started = time.perf_counter()
        for i in range(n):
            send(CpuJob(job_id=f"j{i}", task=task, args=args))  # type: ignore[arg-type]
        done = (lambda: int(client.get(counter) or 0)) if sandbox is None \
            else (lambda: client.hlen(results))
        while done() < n:
            time.sleep(0.002)
        elapsed = time.perf_counter() - started
    if sandbox is not None:
        sandbox.stop()
    client.flushdb()
    return elapsed


def main() -> None:
    steps = calibrate()
    print(f"burn({steps:,}) takes ~100 ms here; {CPU_JOBS} jobs, 4 worker threads")
    with RedisServer() as server:
        url = server.url
        cpu = {name: median(run_jobs(url, f"b{p}-{r}", p, "burn", [steps], CPU_JOBS, 4)
                            for r in range(3))
               for name, p in (("bare", None), ("pool=1", 1), ("pool=2", 2))}
        for name, secs in cpu.items():
            print(f"  {name:7} {CPU_JOBS / secs:6.2f} jobs/s  ({secs:.2f} s,"
                  f" x{cpu['bare'] / secs:.2f} vs bare)")
        noop = {name: median(run_jobs(url, f"n{p}-{r}", p, "noop", [], NOOP_JOBS, 1)
                             for r in range(3))
                for name, p in (("bare", None), ("pool=1", 1))}
        per = {name: secs / NOOP_JOBS * 1000 for name, secs in noop.items()}
        print(f"trivial job end to end, 1 thread: bare {per['bare']:.2f} ms/job, sandboxed"
              f" {per['pool=1']:.2f} ms/job (+{per['pool=1'] - per['bare']:.2f} ms)")
    sandbox = Sandbox(processes=1, preload=["recipes.sandboxed_cpu.tasks"])
    sandbox.run(call, "warm", "noop", [])
    started = time.perf_counter()
    for i in range(NOOP_JOBS):
        sandbox.run(call, str(i), "noop", [])
    print(f"Sandbox.run(noop) alone: {(time.perf_counter() - started) / NOOP_JOBS * 1000:.2f}"
          " ms/job")
    sandbox.stop()


if __name__ == "__main__":
    main()
