"""Generator for notebooks/batching.ipynb (run: uv run python notebooks/batching.py)."""

from make_notebook import write

write("batching", [
    ("md", """
# Bulk enqueue and micro-batches, live

Producer side: `bulk_send` writes 1,000 Dramatiq messages per Redis round trip.
Consumer side: ledger entries wait in Redis, leave in batches by size or age, and each entry
is applied exactly once; entries that fail are retried or dead-lettered one by one.
This notebook uses `REDIS_URL` if set, else starts a throwaway `redis-server`.
"""),
    ("code", """
import time

from cookbook.redis_local import ensure_redis_url
from common.broker import make_broker
from common.settings import load_settings
from common.worker import running_worker
from recipes.batching import QUEUE, SINGLE_QUEUE
from recipes.batching.actors import register
from recipes.batching.bulk import bulk_send
from recipes.batching.config import BatchConfig
from recipes.batching.enqueue import sample_entries
from recipes.batching.models import LedgerEntry

settings = load_settings(redis_url=ensure_redis_url(), namespace="notebook-batching")
broker = make_broker(settings)
broker.client.delete(*broker.client.keys("notebook-batching:*") or ["-"])
config = BatchConfig(size=200, max_age_ms=300, min_backoff_ms=50, max_backoff_ms=200)
actors = register(broker, broker.client, settings.namespace, config=config)
"""),
    ("md", "Bulk enqueue 2,000 one-entry jobs, and compare with a plain `send` loop:"),
    ("code", """
entries = sample_entries(2_000, prefix="single-")
started = time.perf_counter()
sent = bulk_send(actors.apply_one, entries)
bulk_rate = len(sent) / (time.perf_counter() - started)
broker.flush(SINGLE_QUEUE)
started = time.perf_counter()
for e in entries:
    actors.apply_one.actor.send(e.model_dump(mode="json"))
loop_rate = len(entries) / (time.perf_counter() - started)
print(f"bulk_send {bulk_rate:,.0f} jobs/s, send loop {loop_rate:,.0f} jobs/s")
"""),
    ("md", """
Now micro-batches: 1,003 entries, 3 of them for a frozen account. Five full batches leave
at add time; the last 3 entries leave by age once a worker's flush ticker sees them.
"""),
    ("code", """
actors.ledger.freeze("frozen")
poison = [LedgerEntry(entry_id=f"poison-{i}", account="frozen", amount_cents=1) for i in range(3)]
batched = sample_entries(1_000, prefix="batched-") + poison
actors.batcher.add_many(batched)
print("open batches:", len(actors.batcher.open_batches()), "waiting:", actors.batcher.pending())
with running_worker(broker, queues=[QUEUE, SINGLE_QUEUE], threads=8):
    deadline = time.monotonic() + 60
    while len(actors.ledger.applied()) < 3_000 or broker.dead_letters.count() < 3:
        assert time.monotonic() < deadline, "not done in 60 s"
        time.sleep(0.1)
print(actors.batcher.stats())
"""),
    ("md", "Every entry applied exactly once; exactly the 3 poisoned ones are dead letters:"),
    ("code", """
applied = actors.ledger.applied()
assert len(applied) == 3_000 and set(applied.values()) == {1}
for letter in broker.dead_letters.recent():
    print(letter.id, "-", letter.reason)
assert broker.dead_letters.count() == 3
"""),
])
