"""Generator for notebooks/progress_tracking.ipynb (run: uv run python notebooks/progress_tracking.py)."""

from make_notebook import write

write("progress_tracking", [
    ("md", """
# Progress for long jobs, live

A job of 10 steps reports each one to a Redis stream; we follow it while it runs, then
replay it from the middle as a reader that reconnects would.
This notebook uses `REDIS_URL` if set, else starts a throwaway `redis-server`.
"""),
    ("code", """
from cookbook.redis_local import ensure_redis_url
from common.broker import make_broker
from common.settings import load_settings
from common.worker import running_worker
from recipes.progress_tracking import QUEUE
from recipes.progress_tracking.actors import register
from recipes.progress_tracking.enqueue import start_job
from recipes.progress_tracking.models import LongJob

settings = load_settings(redis_url=ensure_redis_url(), namespace="notebook-progress")
broker = make_broker(settings)
broker.client.delete(*broker.client.keys("notebook-progress:*") or ["-"])
actors = register(broker, broker.client, settings.namespace)
"""),
    ("md", "Start a 2 s job and follow its events as they arrive:"),
    ("code", """
message_id = start_job(actors, LongJob(name="report", steps=10, step_ms=200))
with running_worker(broker, queues=[QUEUE], threads=1):
    events = []
    for event in actors.stream.follow(message_id, timeout_s=30):
        events.append(event)
        print(f"{event.seq:>2} {event.kind:<9} {event.percent or 0:5.1f}%  {event.message}")
"""),
    ("md", "A reader that disconnected after step 5 resumes from the stream id it saw last:"),
    ("code", """
fifth = next(e for e in events if e.data.get("step") == 5)
for event in actors.stream.follow(message_id, after=fifth.stream_id, timeout_s=5):
    print(event.seq, event.kind, event.message)
print("snapshot:", actors.stream.state(message_id))
"""),
    ("md", "In a terminal, `uv run cookbook progress <message-id>` draws the same as a live bar."),
])
