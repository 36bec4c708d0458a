"""Generator for notebooks/rate_limited_api.ipynb (run: uv run python notebooks/rate_limited_api.py)."""

from make_notebook import write

write("rate_limited_api", [
    ("md", """
# Rate-limited API calls, live

Eight worker threads call a strict local HTTP API that allows 20 requests in any 1 s window
and answers `429` beyond it. One limiter in Redis keeps them under it; an upstream `429` with
`Retry-After` pauses them all. Uses `REDIS_URL` if set, else a throwaway `redis-server`.
"""),
    ("code", """
import time

from cookbook.redis_local import ensure_redis_url
from common.broker import make_broker
from common.settings import load_settings
from common.worker import running_worker
from recipes.rate_limited_api import QUEUE
from recipes.rate_limited_api.actors import register
from recipes.rate_limited_api.config import load_api_settings
from recipes.rate_limited_api.enqueue import send_many
from recipes.rate_limited_api.upstream import StrictApi

settings = load_settings(redis_url=ensure_redis_url(), namespace="notebook-ratelimit")
broker = make_broker(settings)
broker.client.delete(*broker.client.keys("notebook-ratelimit:*") or ["-"])
api = StrictApi(20).start()
actors = register(broker, broker.client, settings.namespace,
                  load_api_settings(url=api.url, rate=20))

# One worker for the whole notebook (Dramatiq warns when a broker gets a second Worker).
worker_cm = running_worker(broker, queues=[QUEUE], threads=8)
worker_cm.__enter__()


def run_until(total):
    while actors.results.count() < total:
        time.sleep(0.1)
"""),
    ("md", "Send 60 jobs. The server counts what it saw: no `429`, never more than 20 in 1 s."),
    ("code", """
send_many(actors, 60)
run_until(60)
print("answers:", dict(api.statuses()), "| most in any 1 s:", api.max_in_window(1.0),
      f"| sustained {api.sustained_rate():.1f}/s of 20")
assert api.statuses()[429] == 0 and api.max_in_window(1.0) <= 20
"""),
    ("md", """
Now the API answers one request with `429` and `Retry-After: 2`. The worker that hears it
records a pause in Redis; no thread starts a request until it ends, and the job that got
the `429` is re-scheduled without losing an attempt.
"""),
    ("code", """
api.force_429(retry_after_s=2, after=10)
send_many(actors, 40, prefix="more")
run_until(100)
[(t0, t_end)] = api.forced
arrivals = [s.at for s in api.snapshot()]
print("pause recorded by the workers:", actors.limiter.pauses()[-1])
print(f"requests arriving during the server's 2 s pause: "
      f"{sum(t0 < t < t_end for t in arrivals)} (only ones already on the wire)")
results = actors.results.all()
print("attempts lost:", sum(r["retries"] for r in results.values()),
      "| jobs re-scheduled:", sum(1 for r in results.values() if r["deferrals"]))
"""),
    ("code", """
worker_cm.__exit__(None, None, None)
api.close()
actors.http.close()
"""),
])
