"""Generator for notebooks/job_chains.ipynb (run: uv run python notebooks/job_chains.py)."""

from make_notebook import write

write("job_chains", [
    ("md", """
# Event-driven chains, live

`validate -> charge -> (email || invoice) -> archive`, built from Dramatiq pipelines and
groups. One order goes through; one is declined at `charge` and gets compensated.
This notebook uses `REDIS_URL` if set, else starts a throwaway `redis-server`.
"""),
    ("code", """
import time

from cookbook.redis_local import ensure_redis_url
from common.broker import make_broker
from common.settings import load_settings
from common.worker import running_worker
from recipes.job_chains import COMPENSATE_QUEUE, QUEUE
from recipes.job_chains.actors import register
from recipes.job_chains.enqueue import example_order, start_order

settings = load_settings(redis_url=ensure_redis_url(), namespace="notebook-chains")
broker = make_broker(settings)
broker.client.delete(*broker.client.keys("notebook-chains:*") or ["-"])
actors = register(broker, broker.client, settings.namespace)
"""),
    ("md", "Start two orders and a worker; wait until both chains have finished."),
    ("code", """
start_order(actors, example_order("nb-ok"))
start_order(actors, example_order("nb-declined", card="tok_declined"))
with running_worker(broker, queues=[QUEUE, COMPENSATE_QUEUE], threads=4):
    while not all(actors.store.get(c).finished for c in ("nb-ok", "nb-declined")):
        time.sleep(0.1)
"""),
    ("md", "The good order: each step's output, passed on to the next ones."),
    ("code", """
ok = actors.store.get("nb-ok")
print(ok.status)
for name, step in ok.steps.items():
    print(f"{name:9} {step.status:9} {step.output}")
assert ok.status == "completed"
"""),
    ("md", "The declined order: `charge` failed for good, `validate`'s reservation was released."),
    ("code", """
bad = actors.store.get("nb-declined")
print(bad.status, bad.failed_step, bad.error)
for event in bad.history:
    print(f"{event.step:9} {event.event}")
assert bad.status == "failed" and bad.steps["validate"].status == "compensated"
"""),
])
