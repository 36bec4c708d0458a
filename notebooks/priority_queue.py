"""Generator for notebooks/priority_queue.ipynb (run: uv run python notebooks/priority_queue.py)."""

from make_notebook import write

write("priority_queue", [
    ("md", """
# Priority levels, live

One queue per level: urgent reports overtake a backlog of bulk ones on a busy worker.
This notebook uses `REDIS_URL` if set, else starts a throwaway `redis-server`.
"""),
    ("code", """
from cookbook.redis_local import ensure_redis_url
from common.broker import make_broker
from common.settings import load_settings
from common.worker import running_worker
from recipes.priority_queue import queue_name
from recipes.priority_queue.actors import register
from recipes.priority_queue.enqueue import backlog, send_report
from recipes.priority_queue.events import overtakers
from recipes.priority_queue.models import Report
import time

settings = load_settings(redis_url=ensure_redis_url(), namespace="notebook-priority")
broker = make_broker(settings)
broker.client.delete(*broker.client.keys("notebook-priority:*") or ["-"])
actors = register(broker, broker.client, settings.namespace)
log = actors.events
"""),
    ("md", """
Queue 1,000 low reports of 20 ms, start a worker with 8 threads, and once it is busy send
5 high reports, one at a time. For each one, count the low reports that started between
its send and its start. Each start takes a number from one Redis counter, so the count is
exact.
"""),
    ("code", """
low_ids = backlog(actors, 1_000, level="low", work_ms=20)
results = []
with running_worker(broker, threads=8):
    while log.starts("low") < 16:
        time.sleep(0.01)
    for i in range(5):
        before = log.clock()
        mid = send_report(actors, Report(report_id=f"vip-{i}", customer="vip"), "high")
        while log.starts("high") <= i:
            time.sleep(0.002)
        results.append((mid, before))
        time.sleep(0.1)
    left = broker.client.llen(f"{settings.namespace}:{queue_name('low')}")
    broker.flush(queue_name("low"))
events = log.events()
for mid, before in results:
    print(f"high {mid[:8]}: {overtakers(events, mid, sent_after=before, level='low')} "
          "low reports started before it")
print(f"{left} low reports were still queued behind them")
"""),
    ("md", """
Within one level, the order is FIFO. Here are the send positions of the first 20 low
reports, in the order they started. Neighbours can swap places: their threads took them
from the worker's memory at the same moment.
"""),
    ("code", """
position = {mid: i for i, mid in enumerate(low_ids)}
print([position[e.id] for e in events if e.kind == "start" and e.level == "low"][:20])
"""),
])
