"""Real worker processes: 2 x 8 threads on one key never overlap; a SIGKILLed holder's
lock expires after its TTL and another worker proceeds with a higher fence."""

from __future__ import annotations

from collections.abc import Callable

import psutil
import redis

from common.broker import CookbookBroker
from common.settings import Settings
from recipes.singleton_lock import QUEUE
from recipes.singleton_lock.actors import register
from recipes.singleton_lock.enqueue import burst, send_report
from recipes.singleton_lock.models import ReportJob
from recipes.singleton_lock.resource import verify_exclusive
from tests.support import CliWorker, wait_until

StartCli = Callable[..., CliWorker]

JOBS = 500


def test_500_jobs_on_one_key_never_overlap_under_two_processes(
        broker: CookbookBroker, settings: Settings, redis_client: redis.Redis,
        cli_worker: StartCli) -> None:
    actors = register(broker, redis_client, settings.namespace)
    assert burst(actors, key="one-key", jobs=JOBS, policy="defer") == JOBS
    cli_worker("recipes.singleton_lock.worker", processes=2, threads=8)
    wait_until(lambda: len(actors.runs.jobs()) >= JOBS, timeout=180,
               message=lambda: f"{JOBS} runs (now {len(actors.runs.jobs())})")
    broker.join(QUEUE, timeout=30_000)
    runs = actors.runs.all()
    assert sorted(r["job"] for r in runs) == sorted(f"one-key-{n}" for n in range(JOBS))
    assert all(r["retries"] == 0 for r in runs)
    assert len({r["pid"] for r in runs}) == 2  # both processes took turns holding the key
    # Every enter and exit, in Redis order: strictly alternating, fences strictly growing.
    assert verify_exclusive(actors.store.events()) == JOBS
    counts = actors.store.counts()
    assert counts["enters"] == counts["exits"] == counts["writes"] == JOBS
    assert counts.get("takeovers", 0) == counts.get("refused", 0) == 0
    assert actors.guards["defer"].stats("one-key")["ran"] == JOBS
    assert broker.dead_letters.count() == 0


def test_sigkilled_holder_loses_the_lock_after_its_ttl_and_another_worker_proceeds(
        broker: CookbookBroker, settings: Settings, redis_client: redis.Redis,
        cli_worker: StartCli) -> None:
    ttl_ms = 2_000
    actors = register(broker, redis_client, settings.namespace, ttl_ms=ttl_ms)
    env = {"SINGLETON_LOCK_TTL_MS": str(ttl_ms)}
    workers = [cli_worker("recipes.singleton_lock.worker", processes=1, threads=4, env=env)
               for _ in range(2)]
    send_report(actors, ReportJob(key="k", job_id="victim", value="victim", gate="g"))
    wait_until(lambda: actors.store.counts().get("enters") == 1, timeout=30,
               message="the victim to hold the key")
    [enter] = [e for e in actors.store.events() if e["ev"] == "enter"]
    pid = int(enter["holder"].split(":")[1])
    [holder] = [w for w in workers if psutil.Process(pid).ppid() == w.pid]
    [survivor] = [w for w in workers if w is not holder]
    lock_key = actors.locks.keys("k")["lock"]
    dead_token = redis_client.get(lock_key)
    holder.kill()  # SIGKILL: no release, no exit from the resource
    assert redis_client.get(lock_key) == dead_token  # still held: its TTL has not run out
    send_report(actors, ReportJob(key="k", job_id="next", value="next"))
    actors.store.open_gate("g")
    # Nobody releases the dead holder's lock: it must expire on its own.
    wait_until(lambda: redis_client.get(lock_key) != dead_token, timeout=30,
               message="the dead holder's lock to expire")
    wait_until(lambda: "next" in actors.runs.jobs(), timeout=60,
               message=lambda: f"the survivor to run 'next' ({actors.store.counts()})")
    # The killed job's message is redelivered (common.recovery) and not skipped as a duplicate.
    wait_until(lambda: "victim" in actors.runs.jobs(), timeout=60,
               message="the victim to be redelivered and complete")
    runs = {r["job"]: r for r in actors.runs.all()}
    survivor_pids = {p.pid for p in psutil.Process(survivor.pid).children()}
    assert runs["next"]["pid"] in survivor_pids and runs["victim"]["pid"] in survivor_pids
    assert runs["next"]["fence"] > enter["fence"] and runs["victim"]["fence"] > enter["fence"]
    events = actors.store.events()
    # Exactly one takeover: the dead holder's entry that never exited. After it, clean turns.
    takeovers = [n for n, e in enumerate(events) if e["ev"] == "takeover"]
    assert len(takeovers) == 1 and events[takeovers[0]]["from"].endswith(enter["holder"])
    assert verify_exclusive(events[takeovers[0] + 1:]) == 2
    assert actors.store.value()["job"] in ("next", "victim")  # type: ignore[index]
    assert broker.dead_letters.count() == 0
