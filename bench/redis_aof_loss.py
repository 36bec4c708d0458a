"""How much does ``appendfsync`` lose when Redis is SIGKILLed mid-stream?

For each policy: start redis-server with the project's redis.conf, send jobs from 4 threads
for ~2 s, SIGKILL Redis, restart it from the AOF, and count acknowledged sends that are gone.
Prints sends/s and lost acknowledged sends per policy (and the loss as milliseconds of sends).

Run with: ``uv run python bench/redis_aof_loss.py [rounds]``
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import dramatiq

from common.broker import BrokerUnavailable, make_broker
from common.settings import load_settings
from cookbook.redis_local import RedisServer

ROOT = Path(__file__).resolve().parent.parent
THREADS = 4
RUN_S = 2.0


def one_round(policy: str) -> tuple[float, int, int]:
    server = RedisServer(config_file=ROOT / "redis.conf", args=["--appendfsync", policy]).start()
    broker = make_broker(load_settings(redis_url=server.url, namespace="bench"))

    @dramatiq.actor(broker=broker, queue_name="aof")
    def job(n: str) -> None: ...

    acked: list[str] = []
    lock = threading.Lock()

    def produce(t: int) -> None:
        n = 0
        while True:
            try:
                job.send(f"{t}-{n}")
            except BrokerUnavailable:
                return
            with lock:
                acked.append(f"{t}-{n}")
            n += 1

    threads = [threading.Thread(target=produce, args=(t,)) for t in range(THREADS)]
    started = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(RUN_S)
    server.kill()
    elapsed = time.monotonic() - started
    for t in threads:
        t.join(10)
    server.start()
    stored = {v.split(b'"args":["', 1)[1].split(b'"', 1)[0].decode()
              for v in broker.client.hvals("bench:aof.msgs")}
    lost = len(set(acked) - stored)
    broker.close()
    server.close()
    return len(acked) / elapsed, len(acked), lost


def main(rounds: int = 3) -> None:
    print(f"{'policy':<10}{'sends/s':>10}{'acked':>10}{'lost':>8}{'lost as ms':>12}")
    for policy in ("always", "everysec", "no"):
        for _ in range(rounds):
            rate, acked, lost = one_round(policy)
            print(f"{policy:<10}{rate:>10.0f}{acked:>10}{lost:>8}{lost / rate * 1000:>12.1f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
