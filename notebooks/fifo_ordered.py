"""Generator for notebooks/fifo_ordered.ipynb (run: uv run python notebooks/fifo_ordered.py)."""

from make_notebook import write

write("fifo_ordered", [
    ("md", """
# FIFO per key, live

Events of one account are applied in order while 8 threads work; accounts run in parallel.
This notebook uses `REDIS_URL` if set, else starts a throwaway `redis-server`.
"""),
    ("code", """
from cookbook.redis_local import ensure_redis_url
from common.broker import make_broker
from common.settings import load_settings
from common.worker import running_worker
from recipes.fifo_ordered import QUEUE
from recipes.fifo_ordered.actors import register
from recipes.fifo_ordered.enqueue import burst

settings = load_settings(redis_url=ensure_redis_url(), namespace="notebook-fifo")
broker = make_broker(settings)
broker.client.delete(*broker.client.keys("notebook-fifo:*") or ["-"])
actors = register(broker, broker.client, settings.namespace)
"""),
    ("md", "Send 5 accounts x 50 events, interleaved, then let a worker with 8 threads drain them."),
    ("code", """
sent = burst(actors, accounts=5, events=50)
with running_worker(broker, queues=[QUEUE], threads=8):
    broker.join(QUEUE, timeout=30_000)
print("sent", sent)
"""),
    ("md", "Each account's applied sequence numbers are exactly 1..50, in order:"),
    ("code", """
for a in range(5):
    applied = actors.mailbox.applied(f"acct-{a}")
    assert applied == list(range(1, 51)), applied
    print(f"acct-{a}: {len(applied)} events in order, balance {actors.mailbox.balance(f'acct-{a}')}")
"""),
])
