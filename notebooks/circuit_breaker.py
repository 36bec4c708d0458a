"""Generator for notebooks/circuit_breaker.ipynb (run: uv run python notebooks/circuit_breaker.py)."""

from make_notebook import write

write("circuit_breaker", [
    ("md", """
# Circuit breaker, live

A real local HTTP server goes down; the shared breaker opens after 3 failures, jobs wait
without spending attempts, and a probe closes it once the server is back.
This notebook uses `REDIS_URL` if set, else starts a throwaway `redis-server`.
"""),
    ("code", """
import time
from cookbook.redis_local import ensure_redis_url
from common.broker import make_broker
from common.settings import load_settings
from common.worker import running_worker
from recipes.circuit_breaker import QUEUE
from recipes.circuit_breaker.actors import register
from recipes.circuit_breaker.config import ApiConfig, BreakerConfig
from recipes.circuit_breaker.enqueue import send_fetches
from recipes.circuit_breaker.upstream import FlakyApi

settings = load_settings(redis_url=ensure_redis_url(), namespace="notebook-breaker")
broker = make_broker(settings)
broker.client.delete(*broker.client.keys("notebook-breaker:*") or ["-"])
server = FlakyApi(failing=True).start()
actors = register(broker, broker.client, settings.namespace,
                  config=BreakerConfig(failures=3, window_s=10, cooldown_s=1, probes=1,
                                       probe_wait_s=0.3),
                  api=ApiConfig(url=server.url))
"""),
    ("md", "Send 30 jobs while the server answers 503, let it recover after 2 s, wait for all:"),
    ("code", """
send_fetches(actors, 30)
with running_worker(broker, queues=[QUEUE], threads=8):
    time.sleep(2)
    server.failing = False
    deadline = time.monotonic() + 30
    while len(actors.results()) < 30 and time.monotonic() < deadline:
        time.sleep(0.1)
print(len(actors.results()), "jobs done")
"""),
    ("md", "The breaker's log, and what reached the server: a few failures, then silence, "
           "then a probe and the rest."),
    ("code", """
for t in actors.breaker.transitions():
    print(t)
hits = server.snapshot()
print("503 answers:", sum(h.status == 503 for h in hits), "| 200 answers:",
      sum(h.status == 200 for h in hits))
print("attempts spent:", sum(r["retries"] for r in actors.results().values()),
      "| re-schedules (free):", sum(r["deferrals"] for r in actors.results().values()))
server.close()
"""),
])
