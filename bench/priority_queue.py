"""Priority bench: start latency of urgent jobs behind a 10,000-job backlog, 2 x 8 workers.

Three runs, each: 10,000 low jobs of 50 ms queued, ``dramatiq -p 2 -t 8`` busy on them,
then 50 high jobs sent one by one, 100-400 ms apart (so urgent consumers go idle):
1. bare Dramatiq, one shared queue (high and low actors differ only by actor priority);
2. bare Dramatiq, one queue per level, stock worker settings (1 s idle backoff);
3. this recipe (one queue per level, urgent consumers poll at most every 20 ms).
Latency = first line of the job body minus the send (one machine, one clock). "Overtaken"
= low jobs that started between a high job's send and its start. "idle cmd/s" = Redis
commands per second of the same 2 worker processes once every queue is empty.
Starts its own redis-server. Run with: ``uv run python bench/priority_queue.py``
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

from common.broker import make_broker
from common.settings import load_settings
from cookbook.redis_local import RedisServer
from recipes.priority_queue import queue_name
from recipes.priority_queue.actors import register
from recipes.priority_queue.enqueue import backlog, send_report
from recipes.priority_queue.models import Report
from tests.support import CliWorker

LOW, LOW_MS, HIGH, PROCESSES, THREADS = 10_000, 50, 50, 2, 8
Start = tuple[str, str, float, int]  # level, job id, epoch ms, position in the start order


@dataclass
class Variant:
    name: str
    module: str
    env: dict[str, str]
    client: redis.Redis
    low_queues: list[str]  # Redis keys to delete to drop the backlog
    send_backlog: Callable[[], None]
    send_high: Callable[[int], str]
    starts: Callable[[], list[Start]]
    mark: Callable[[], int]  # cheap: the position the next start will be after


def wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out: {what}")
        time.sleep(0.005)


def bare(url: str, mode: str) -> Variant:
    ns = f"bench-bare-{mode}"
    client = redis.Redis.from_url(url)
    broker = RedisBroker(client=client, namespace=ns)
    low_q, high_q = ("pq_shared", "pq_shared") if mode == "shared" else ("pq_low", "pq_high")

    def send(actor: str, queue: str, job_id: str, work_ms: int) -> None:
        broker.enqueue(dramatiq.Message(queue_name=queue, actor_name=actor,
                                        args=(job_id, work_ms), kwargs={}, options={}))

    def send_backlog() -> None:
        for i in range(LOW):
            send("bare_low", low_q, f"l{i}", LOW_MS)

    def send_high(i: int) -> str:
        send("bare_high", high_q, f"h{i}", 0)
        return f"h{i}"

    def starts() -> list[Start]:
        raw: list[bytes] = client.lrange(f"{ns}:starts", 0, -1)  # type: ignore[assignment]
        return [(lv, i, float(t), n) for n, (lv, i, t) in
                enumerate((r.decode().split(":") for r in raw), start=1)]

    return Variant(f"{'one shared queue' if mode == 'shared' else 'queue per level'}"
                   " (bare Dramatiq)", "bench.priority_queue_bare",
                   {"REDIS_URL": url, "COOKBOOK_NAMESPACE": ns, "PQ_BARE_MODE": mode}, client,
                   [f"{ns}:{low_q}"],
                   send_backlog, send_high, starts, lambda: int(client.llen(f"{ns}:starts")))


def recipe(url: str) -> Variant:
    ns = "bench-recipe"
    broker = make_broker(load_settings(redis_url=url, namespace=ns))
    dramatiq.set_broker(broker)
    actors = register(broker, broker.client, ns)

    def send_backlog() -> None:
        backlog(actors, LOW, level="low", work_ms=LOW_MS)

    def send_high(i: int) -> str:
        return send_report(actors, Report(report_id=f"h{i}", customer="vip"), "high")

    def starts() -> list[Start]:
        return [(e.level, e.id, e.ts, e.n) for e in actors.events.events() if e.kind == "start"]

    return Variant("this recipe", "recipes.priority_queue.worker",
                   {"REDIS_URL": url, "COOKBOOK_NAMESPACE": ns}, broker.client,
                   [f"{ns}:{queue_name('low')}"],
                   send_backlog, send_high, starts, actors.events.clock)


def measure(v: Variant) -> dict[str, float]:
    v.send_backlog()
    with tempfile.TemporaryDirectory() as tmp:
        worker = CliWorker(v.module, env=v.env, log_path=Path(tmp) / "w.log",
                           processes=PROCESSES, threads=THREADS).start()
        try:
            wait(lambda: len(v.starts()) >= 2 * PROCESSES * THREADS, 60, "workers busy")
            rng, sent, began = random.Random(1), [], time.time() * 1000
            for i in range(HIGH):
                time.sleep(rng.uniform(0.1, 0.4))
                before, sent_ms = v.mark(), time.time() * 1000
                sent.append((v.send_high(i), sent_ms, before))
            wait(lambda: sum(s[0] == "high" for s in v.starts()) >= HIGH, 900, v.name)
            log = v.starts()
            v.client.delete(*v.low_queues)  # drop the rest of the backlog
            time.sleep(3)  # in-flight jobs end; idle consumers settle at their slowest poll
            before_cmds = int(v.client.info("stats")["total_commands_processed"])
            time.sleep(5)
            idle = (int(v.client.info("stats")["total_commands_processed"]) - before_cmds) / 5
        finally:
            worker.stop()
    where = {job_id: (pos, ts) for level, job_id, ts, pos in log if level == "high"}
    latency, overtaken = [], []
    for job_id, sent_ms, before in sent:
        mine, started_ms = where[job_id]
        latency.append(started_ms - sent_ms)
        overtaken.append(sum(lv == "low" and before < pos < mine for lv, _, _, pos in log))
    last_high = max(ts for level, _, ts, _ in log if level == "high")
    lows = sum(level == "low" and began <= ts <= last_high for level, _, ts, _ in log)
    q = statistics.quantiles(latency, n=100)
    return {"p50": q[49], "p99": q[98], "over_p50": statistics.median(overtaken),
            "over_max": max(overtaken), "low_per_s": lows / ((last_high - began) / 1000),
            "idle": idle}


def main() -> None:
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    with RedisServer() as server:
        runs = [bare(server.url, "shared"), bare(server.url, "split"), recipe(server.url)]
        results = {v.name: measure(v) for v in runs}
    print(f"{HIGH} high jobs behind {LOW:,} low jobs of {LOW_MS} ms, {PROCESSES} x {THREADS}:")
    print(f"{'':34}{'p50 ms':>9}{'p99 ms':>9}{'overtaken p50/max':>19}{'low/s':>7}"
          f"{'idle cmd/s':>11}")
    for name, r in results.items():
        print(f"{name:34}{r['p50']:9.0f}{r['p99']:9.0f}{r['over_p50']:11.0f} /{r['over_max']:6.0f}"
              f"{r['low_per_s']:7.0f}{r['idle']:11.0f}")
    mine, shared = results["this recipe"], results[runs[0].name]
    print(f"recipe p50 is {shared['p50'] / max(mine['p50'], 0.1):,.0f}x lower than one shared "
          f"queue; {results[runs[1].name]['p50'] / max(mine['p50'], 0.1):,.1f}x lower than "
          "stock per-level queues")


if __name__ == "__main__":
    main()
