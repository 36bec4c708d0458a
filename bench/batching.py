"""Batching bench: bulk enqueue vs a bare ``actor.send`` loop; micro-batches vs one job per item.

1. Producer: jobs/s of ``bulk_send`` (validates every payload, 1,000 messages per round
   trip) against bare Dramatiq ``actor.send`` in a loop (no validation, one round trip each).
2. End to end: items/s from the first send until the last effect landed, through
   ``dramatiq recipes.batching.worker -p 2 -t 8``: ``Batcher.add_many`` + micro-batches of 500
   against one ``batching_apply_one`` job per item sent with ``actor.send``. Both paths apply
   the same effect exactly once (done marks vs idempotency keys).

Starts its own redis-server. Run with: ``uv run python bench/batching.py``
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

import dramatiq

from common.broker import make_broker
from common.settings import load_settings
from cookbook.redis_local import RedisServer
from recipes.batching import SINGLE_QUEUE
from recipes.batching.actors import BatchingActors, register
from recipes.batching.bulk import bulk_send
from recipes.batching.config import BatchConfig
from recipes.batching.enqueue import sample_entries

ROOT = Path(__file__).resolve().parent.parent
NS = "bench-batching"
ENQUEUE_N, ROUNDS = 20_000, 3
SINGLE_N, BATCHED_N, SIZE = 10_000, 100_000, 500


def enqueue_rates(actors: BatchingActors, broker: dramatiq.Broker) -> tuple[float, float]:
    entries = sample_entries(ENQUEUE_N, prefix="q")
    payloads = [e.model_dump(mode="json") for e in entries]
    bare, bulk = [], []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for payload in payloads:
            actors.apply_one.actor.send(payload)
        bare.append(ENQUEUE_N / (time.perf_counter() - started))
        broker.flush(SINGLE_QUEUE)
        started = time.perf_counter()
        bulk_send(actors.apply_one, entries)
        bulk.append(ENQUEUE_N / (time.perf_counter() - started))
        broker.flush(SINGLE_QUEUE)
    return median(bare), median(bulk)


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "dramatiq", "recipes.batching.worker",
                                 "-p", "2", "-t", "8"], env=env, cwd=ROOT, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while log.read_text(errors="replace").count("is ready for action") < 2:
        if time.monotonic() > deadline or proc.poll() is not None:
            raise SystemExit(f"worker did not boot:\n{log.read_text()[-2000:]}")
        time.sleep(0.1)
    return proc


def wait_applied(actors: BatchingActors, total: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while actors.batcher.client.hlen(actors.ledger.keys["applied"]) < total:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {actors.batcher.client.hlen(actors.ledger.keys['applied'])}"
                             f" of {total} applied")
        time.sleep(0.02)


def end_to_end(actors: BatchingActors) -> tuple[float, float, float]:
    singles = [e.model_dump(mode="json") for e in sample_entries(SINGLE_N, prefix="s")]
    started = time.perf_counter()
    for payload in singles:
        actors.apply_one.actor.send(payload)
    wait_applied(actors, SINGLE_N)
    single_rate = SINGLE_N / (time.perf_counter() - started)

    batched = sample_entries(BATCHED_N, prefix="b")
    started = time.perf_counter()
    actors.batcher.add_many(batched)
    add_rate = BATCHED_N / (time.perf_counter() - started)
    wait_applied(actors, SINGLE_N + BATCHED_N)
    batched_rate = BATCHED_N / (time.perf_counter() - started)
    return single_rate, batched_rate, add_rate


def main() -> None:
    with RedisServer() as server, tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(redis_url=server.url, namespace=NS)
        broker = make_broker(settings)
        dramatiq.set_broker(broker)
        config = BatchConfig(size=SIZE, max_age_ms=200)
        actors = register(broker, broker.client, NS, config=config)
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
        bare, bulk = enqueue_rates(actors, broker)
        print(f"enqueue {ENQUEUE_N:,} jobs (median of {ROUNDS}):")
        print(f"  bare Dramatiq actor.send loop   {bare:>9,.0f} jobs/s")
        print(f"  bulk_send (validated, 1k/trip)  {bulk:>9,.0f} jobs/s   x{bulk / bare:.1f}")
        env = {**os.environ, "REDIS_URL": server.url, "COOKBOOK_NAMESPACE": NS,
               "COOKBOOK_BATCHING_SIZE": str(SIZE), "COOKBOOK_BATCHING_MAX_AGE_MS": "200",
               "PYTHONPATH": str(ROOT)}
        worker = start_worker(env, Path(tmp) / "worker.log")
        try:
            single, batched, added = end_to_end(actors)
        finally:
            worker.terminate()
            worker.wait(60)
        print("end to end through 2 worker processes x 8 threads:")
        print(f"  one job per item ({SINGLE_N:,})       {single:>9,.0f} items/s")
        print(f"  micro-batches of {SIZE} ({BATCHED_N:,})  {batched:>9,.0f} items/s   "
              f"x{batched / single:.1f}  (add_many alone: {added:,.0f} items/s)")
        broker.close()


if __name__ == "__main__":
    main()
