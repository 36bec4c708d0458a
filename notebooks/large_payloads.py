"""Generator for notebooks/large_payloads.ipynb (run: uv run python notebooks/large_payloads.py)."""

from make_notebook import write

write("large_payloads", [
    ("md", """
# Claim check, live

A 20 MB payload is stored once in Redis; the message carries a reference of ~150 bytes.
This notebook uses `REDIS_URL` if set, else starts a throwaway `redis-server`.
"""),
    ("code", """
import hashlib, os
from cookbook.redis_local import ensure_redis_url
from common.broker import make_broker
from common.settings import load_settings
from common.worker import running_worker
from recipes.large_payloads import QUEUE
from recipes.large_payloads.actors import register
from recipes.large_payloads.enqueue import send_document
from recipes.large_payloads.stores import RedisBlobStore

settings = load_settings(redis_url=ensure_redis_url(), namespace="notebook-large")
broker = make_broker(settings)
broker.client.delete(*broker.client.keys("notebook-large:*") or ["-"])
actors = register(broker, broker.client, settings.namespace,
                  store=RedisBlobStore(broker.client, settings.namespace))
"""),
    ("md", "Send a 20 MB document and look at what went on the queue and into the blob store:"),
    ("code", """
data = os.urandom(20 * 1024 * 1024)
message = send_document(actors, "report", data)
print("message on the wire:", len(message.encode()), "bytes")
print("reference:", message.args[0]["payload"])
print("blobs stored:", broker.client.keys("notebook-large:blob:*"))
"""),
    ("md", "A worker reads the blob, checks its SHA-256, processes it and deletes it:"),
    ("code", """
with running_worker(broker, queues=[QUEUE], threads=2):
    broker.join(QUEUE, timeout=30_000)
result = actors.result("report")
assert result.sha256 == hashlib.sha256(data).hexdigest()
print(result)
print("blobs left:", broker.client.keys("notebook-large:blob:*"))
"""),
])
