"""Generator for notebooks/singleton_lock.ipynb (run: uv run python notebooks/singleton_lock.py)."""

from make_notebook import write

write("singleton_lock", [
    ("md", """
# Distributed lock and singleton jobs, live

A redis-py lock with a fencing token: every acquisition gets a bigger number, and the
protected resource refuses an older one. This notebook uses `REDIS_URL` if set, else
starts a throwaway `redis-server`.
"""),
    ("code", """
from cookbook.redis_local import ensure_redis_url
from common.broker import make_broker
from common.settings import load_settings
from common.worker import running_worker
from recipes.singleton_lock import QUEUE
from recipes.singleton_lock.actors import register
from recipes.singleton_lock.enqueue import burst
from recipes.singleton_lock.fenced_lock import LockLost
from recipes.singleton_lock.resource import StaleFence, verify_exclusive
import time

settings = load_settings(redis_url=ensure_redis_url(), namespace="notebook-singleton")
broker = make_broker(settings)
broker.client.delete(*broker.client.keys("notebook-singleton:*") or ["-"])
actors = register(broker, broker.client, settings.namespace)
locks, store = actors.locks, actors.store
"""),
    ("md", "A holder that stalls past its TTL (no renewal) loses the key; the next holder gets a "
           "higher fence, and the stale holder's late write is refused."),
    ("code", """
stale = locks.acquire("report", ttl_ms=300, renew=False)
store.enter("stale", stale.fence, "a")
while broker.client.exists(locks.keys("report")["lock"]):  # wait for its TTL to run out
    time.sleep(0.05)
with locks.hold("report") as fresh:
    store.enter("fresh", fresh.fence, "b")
    try:
        store.write("stale", stale.fence, "a", "late write")
    except StaleFence as exc:
        print("refused:", exc)
    store.write("fresh", fresh.fence, "b", "fresh write")
    store.exit("fresh", fresh.fence, "b")
try:
    stale.release()
except LockLost as exc:
    print("the stale holder learns:", exc)
print("stale fence", stale.fence, "fresh fence", fresh.fence, "value", store.value())
"""),
    ("md", "Now 40 singleton jobs on one key through 8 threads (policy `defer`): the resource sees "
           "enter and exit strictly alternate, fences strictly growing."),
    ("code", """
broker.client.delete(*broker.client.keys("notebook-singleton:*") or ["-"])
burst(actors, key="nightly", jobs=40, policy="defer", work_ms=5)
with running_worker(broker, queues=[QUEUE], threads=8):
    broker.join(QUEUE, timeout=60_000)
print("runs:", verify_exclusive(store.events()), "stats:", actors.guards["defer"].stats("nightly"))
"""),
])
