"""Delayed email bench: lateness on both paths, and worker memory with 1,000,000 scheduled.

1. Lateness (SMTP server receive time minus due time), p50/p99, through
   ``dramatiq recipes.delayed_email.worker -p 2 -t 8``: emails at 0-10 s on Dramatiq's
   delay queue and on the Redis schedule; and bare Dramatiq ``send_with_options(delay=)``
   (``bench/delayed_email_bare.py``) in the same run.
2. Memory: RSS of one worker process (``-p 1 -t 8``) before and after 1,000,000 emails are
   scheduled days ahead on the Redis schedule; and bare Dramatiq with 100,000 delayed
   messages a day ahead (its delay consumer prefetches up to 1,000 x threads into RAM).

Starts its own redis-server and SMTP server. Run with: ``uv run python bench/delayed_email.py
[SCHEDULED] [LATENESS_N]`` (defaults 1000000 and 1000).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dramatiq
import psutil

from common.broker import make_broker
from common.settings import load_settings
from cookbook.redis_local import RedisServer
from recipes.delayed_email.actors import DelayedEmailActors, register
from recipes.delayed_email.config import EmailConfig
from recipes.delayed_email.enqueue import sample_email, sample_emails
from recipes.delayed_email.smtp_server import RecordingSmtp

ROOT = Path(__file__).resolve().parent.parent
NS = "bench-email"
DAY_MS = 86_400_000


def start_worker(module: str, env: dict[str, str], processes: int, log: Path) -> psutil.Process:
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "dramatiq", module, "-p", str(processes),
                                 "-t", "8"], env=env, cwd=ROOT, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while log.read_text(errors="replace").count("is ready for action") < processes:
        if time.monotonic() > deadline or proc.poll() is not None:
            raise SystemExit(f"{module} did not boot:\n{log.read_text()[-2000:]}")
        time.sleep(0.1)
    return psutil.Process(proc.pid)


def stop(proc: psutil.Process) -> None:
    os.killpg(proc.pid, 15)
    proc.wait(30)


def rss_mb(proc: psutil.Process) -> float:
    return sum(c.memory_info().rss for c in proc.children(recursive=True)) / 2**20


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def wait_for(smtp: RecordingSmtp, ids: set[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not ids <= set(smtp.by_email()):
        if time.monotonic() > deadline:
            raise SystemExit(f"{len(ids - set(smtp.by_email()))} emails never arrived")
        time.sleep(0.1)


def lateness(actors: DelayedEmailActors, smtp: RecordingSmtp, n: int) -> dict[str, list[float]]:
    rng, due = random.Random(7), {}
    for i in range(n):
        for via in ("delay", "schedule"):
            record = actors.schedule.schedule(sample_email(f"{via}-{i}"),
                                              delay_ms=rng.randint(0, 10_000), via=via)
            due[record.email.email_id] = record.due_ms
    wait_for(smtp, set(due))
    out: dict[str, list[float]] = {"delay": [], "schedule": []}
    for email_id, items in smtp.by_email().items():
        if email_id in due:
            out[email_id.split("-")[0]].append(items[0].at * 1000 - due[email_id])
    return out


def bare_lateness(smtp: RecordingSmtp, n: int) -> list[float]:
    import bench.delayed_email_bare as bare

    rng, due = random.Random(7), {}
    for i in range(n):
        delay = rng.randint(0, 10_000)
        due[f"bare-{i}"] = int(time.time() * 1000) + delay
        bare.bare_send.send_with_options(args=(f"bare-{i}", due[f"bare-{i}"]), delay=delay)
    wait_for(smtp, set(due))
    return [smtp.by_email()[k][0].at * 1000 - v for k, v in due.items()]


def main() -> None:
    scheduled = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000
    server = RedisServer().start()
    smtp = RecordingSmtp().start()
    settings = load_settings(redis_url=server.url, namespace=NS)
    env = {**os.environ, "REDIS_URL": server.url, "COOKBOOK_NAMESPACE": NS,
           "DELAYED_EMAIL_SMTP_PORT": str(smtp.port), "PYTHONPATH": str(ROOT)}
    os.environ.update({k: env[k] for k in ("REDIS_URL", "COOKBOOK_NAMESPACE",
                                            "DELAYED_EMAIL_SMTP_PORT")})  # for the bare module
    broker = make_broker(settings)
    dramatiq.set_broker(broker)
    actors = register(broker, broker.client, NS, EmailConfig(smtp_port=smtp.port))
    logs = Path(tempfile.mkdtemp(prefix="bench-email-"))
    try:
        worker = start_worker("recipes.delayed_email.worker", env, 2, logs / "recipe.log")
        late = lateness(actors, smtp, n)
        stop(worker)
        bare_worker = start_worker("bench.delayed_email_bare", env, 2, logs / "bare.log")
        late["bare Dramatiq delay"] = bare_lateness(smtp, n)
        stop(bare_worker)
        print(f"lateness over {n} emails each, delays 0-10 s, 2 processes x 8 threads (ms):")
        for name, values in late.items():
            print(f"  {name:<20} p50 {pct(values, 0.5):7.0f}  p99 {pct(values, 0.99):7.0f}  "
                  f"max {max(values):7.0f}  min {min(values):6.0f}")
        memory(actors, env, logs, scheduled)
    finally:
        smtp.stop()
        server.close()


def memory(actors: DelayedEmailActors, env: dict[str, str], logs: Path, scheduled: int) -> None:
    import bench.delayed_email_bare as bare

    redis_client = actors.schedule.client
    worker = start_worker("recipes.delayed_email.worker", env, 1, logs / "rss.log")
    time.sleep(3)
    before, used_before = rss_mb(worker), int(redis_client.info("memory")["used_memory"])
    started, peak = time.monotonic(), before
    for start in range(0, scheduled, 50_000):
        actors.schedule.schedule_many(sample_emails(min(50_000, scheduled - start),
                                                    prefix=f"far-{start}-"), delay_ms=3 * DAY_MS)
        peak = max(peak, rss_mb(worker))
    took = time.monotonic() - started
    time.sleep(3)
    after = rss_mb(worker)
    used = int(redis_client.info("memory")["used_memory"]) - used_before
    counts = actors.schedule.counts()
    stop(worker)
    print(f"recipe worker RSS: {before:.1f} MB before, {after:.1f} MB after {scheduled:,} "
          f"scheduled days ahead (peak {peak:.1f}); schedule {counts['schedule']:,}, "
          f"delay queue {counts['delay_queue_msgs']}; scheduling {scheduled / took:,.0f}/s; "
          f"Redis +{used / 2**20:.0f} MB ({used / max(scheduled, 1):.0f} B/email)")
    bare_n = min(scheduled, 100_000)
    bare_worker = start_worker("bench.delayed_email_bare", env, 1, logs / "bare-rss.log")
    time.sleep(3)
    before = rss_mb(bare_worker)
    for i in range(bare_n):
        bare.bare_send.send_with_options(args=(f"bfar-{i}", 0), delay=DAY_MS)
    time.sleep(5)
    after, left = rss_mb(bare_worker), redis_client.llen(f"{NS}:bare_email.DQ")
    stop(bare_worker)
    print(f"bare Dramatiq worker RSS: {before:.1f} MB before, {after:.1f} MB after {bare_n:,} "
          f"delayed a day ahead; it holds {bare_n - int(left):,} of them in memory")


if __name__ == "__main__":
    main()
