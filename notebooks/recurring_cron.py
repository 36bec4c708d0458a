"""Generator for notebooks/recurring_cron.ipynb (run: uv run python notebooks/recurring_cron.py)."""

from make_notebook import write

write("recurring_cron", [
    ("md", """
# Recurring jobs across scheduler replicas, live

Three in-process scheduler replicas fire the same 0.5 s interval; a claim in Redis lets one
of them enqueue each tick. Then a backfill shows the misfire policy.
This notebook uses `REDIS_URL` if set, else starts a throwaway `redis-server`.
"""),
    ("code", """
import time

from cookbook.redis_local import ensure_redis_url
from common.broker import make_broker
from common.settings import load_settings
from common.worker import running_worker
from recipes.recurring_cron import QUEUE
from recipes.recurring_cron.actors import register
from recipes.recurring_cron.claims import TickLedger
from recipes.recurring_cron.models import Interval, Schedule
from recipes.recurring_cron.scheduler import CronScheduler

settings = load_settings(redis_url=ensure_redis_url(), namespace="notebook-cron")
broker = make_broker(settings)
broker.client.delete(*broker.client.keys("notebook-cron:*") or ["-"])
actors = register(broker, broker.client, settings.namespace)
ledger = TickLedger(broker.client, settings.namespace)
"""),
    ("md", "Start a worker and 3 replicas, add a schedule at run time, and stop one replica halfway."),
    ("code", """
replicas = [CronScheduler(broker, broker.client, settings.namespace, replica_id=f"r{i}").start()
            for i in range(3)]
with running_worker(broker, queues=[QUEUE], threads=4):
    actors.store.put(Schedule(id="half-second", trigger=Interval(every_s=0.5)))
    while len(actors.runs("half-second")) < 4:
        time.sleep(0.1)
    replicas.pop(0).stop()
    while len(actors.runs("half-second")) < 8:
        time.sleep(0.1)
    actors.store.pause("half-second")
    for replica in replicas:
        replica.stop()
    broker.join(QUEUE, timeout=10_000)
"""),
    ("md", "Each tick arrived once, 500 ms apart, and the claim says which replica sent it:"),
    ("code", """
ticks = sorted(actors.runs("half-second"), key=lambda t: t.fire_ms)
for t in ticks:
    print(t.tick_id, ledger.state(t.tick_id))
fires = [t.fire_ms for t in ticks]
assert len(fires) == len(set(fires))
assert {b - a for a, b in zip(fires, fires[1:])} == {500}
"""),
    ("md", """
Misfire policy: a minutely schedule whose last 6 ticks were missed (no scheduler ran).
With the default `coalesce=True`, a replica that comes up runs **one** catch-up tick, which
reports the 5 ticks before it in `missed_before`.
"""),
    ("code", """
now = int(time.time() * 1000)
anchor = now - 6 * 60_000 - 5_000
actors.store.put(Schedule(id="minutely", trigger=Interval(every_s=60, anchor_ms=anchor),
                          since_ms=anchor))
replica = CronScheduler(broker, broker.client, settings.namespace).start()
with running_worker(broker, queues=[QUEUE], threads=4):
    while not actors.runs("minutely"):
        time.sleep(0.1)
    replica.stop()
    broker.join(QUEUE, timeout=10_000)
print(actors.runs("minutely"))
assert [t.missed_before for t in actors.runs("minutely")] == [5]
"""),
])
