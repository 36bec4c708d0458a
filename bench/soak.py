"""Soak: mixed recipe load with periodic SIGKILL of a worker; nothing lost, nothing doubled.

Starts its own redis-server and two ``dramatiq bench.soak_app`` worker groups, keeps sending
idempotent jobs, FIFO account events and poison jobs, and SIGKILLs one worker group every
``--kill-every`` seconds (restarting it). At the end it drains and accounts for every job:
effects == sent idempotent jobs (each exactly once), every account applied in order, every
poison job dead-lettered. Samples jobs/s, worker RSS and Redis memory, plotted to a PNG.

Run with: ``uv run python bench/soak.py --minutes 30`` (CI does not run it).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

from bench.soak_report import plot, summary
from common.settings import load_settings
from cookbook.redis_local import RedisServer
from recipes.fifo_ordered.enqueue import send_event
from recipes.fifo_ordered.models import AccountEvent

ROOT = Path(__file__).resolve().parent.parent
ACCOUNTS = 10


def start_group(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "dramatiq", "bench.soak_app", "-p", "1",
                             "-t", "8", "-Q", "soak", "fifo_ordered"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def rss_mb(proc: subprocess.Popen[bytes]) -> float:
    try:
        parent = psutil.Process(proc.pid)
        return sum(p.memory_info().rss for p in [parent, *parent.children(True)]) / 2**20
    except psutil.Error:
        return 0.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--kill-every", type=float, default=30)
    ap.add_argument("--rate", type=int, default=150, help="jobs sent per second")
    ap.add_argument("--png", default=str(ROOT / "bench" / "results" / "soak.png"))
    args = ap.parse_args()
    server = RedisServer(config_file=ROOT / "redis.conf").start()
    settings = load_settings(redis_url=server.url, namespace="soak",
                             heartbeat_timeout_ms=5_000, recovery_interval_ms=500)
    env = {**os.environ, "REDIS_URL": server.url, "COOKBOOK_NAMESPACE": "soak",
           "COOKBOOK_HEARTBEAT_TIMEOUT_MS": "5000", "COOKBOOK_RECOVERY_INTERVAL_MS": "500",
           "PYTHONPATH": str(ROOT)}
    os.environ.update(env)  # soak_app builds its broker from the environment at import
    import importlib

    app = importlib.import_module("bench.soak_app")
    broker, effect, poison, fifo = app.broker, app.effect, app.poison, app.fifo
    groups = [start_group(env), start_group(env)]
    sent = {"effect": 0, "poison": 0, "fifo": 0}
    samples: list[dict[str, float]] = []
    kills = 0
    end = time.monotonic() + args.minutes * 60
    next_kill = time.monotonic() + args.kill_every
    last_sample, last_done = time.monotonic(), 0
    while time.monotonic() < end:
        tick = time.monotonic()
        for _ in range(args.rate // 10):
            effect.send(f"e{sent['effect']}", 20)
            sent["effect"] += 1
        for a in range(ACCOUNTS // 2):
            send_event(fifo, AccountEvent(account=f"acct-{(sent['fifo'] + a) % ACCOUNTS}",
                                          kind="deposit", amount_cents=1))
            sent["fifo"] += 1
        if sent["effect"] % 500 == 0:
            poison.send(f"p{sent['poison']}")
            sent["poison"] += 1
        if tick >= next_kill:
            victim = groups.pop(0)
            os.killpg(victim.pid, signal.SIGKILL)
            victim.wait()
            groups.append(start_group(env))
            kills += 1
            next_kill = tick + args.kill_every
        if tick - last_sample >= 5:
            done = int(broker.client.hlen("soak:soak:effects"))
            samples.append({"t": tick, "jobs_per_s": (done - last_done) / (tick - last_sample),
                            "rss_mb": sum(rss_mb(g) for g in groups),
                            "redis_mb": int(broker.client.info("memory")["used_memory"]) / 2**20})
            last_sample, last_done = tick, done
        time.sleep(max(0.0, 0.1 - (time.monotonic() - tick)))
    print(summary(broker, sent, kills, ACCOUNTS, settings.recovery_bound_s))
    plot(samples, args.png)
    for g in groups:
        os.killpg(g.pid, signal.SIGTERM)
        g.wait(60)
    server.close()


if __name__ == "__main__":
    main()
