"""Rate-limited API bench: achieved rate as a share of N at a strict server, 2 x 8 workers.

Both runs send JOBS calls to a fresh ``StrictApi`` allowing N requests in any 1 s window,
through ``dramatiq -p 2 -t 8``:
1. this recipe (``recipes.rate_limited_api.worker``);
2. bare Dramatiq with its ``WindowRateLimiter`` (``bench/rate_limited_api_bare.py``).

Rate = N / mean time between accepted request k and accepted request k + N: the server
wants that gap >= 1 s, so the rate cannot exceed N; the share of N is what the limiter
leaves unused.
Starts its own redis-server. Run with: ``uv run python bench/rate_limited_api.py [N] [JOBS]``
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from common.broker import make_broker
from common.settings import load_settings
from cookbook.redis_local import RedisServer
from recipes.rate_limited_api.actors import register
from recipes.rate_limited_api.config import load_api_settings
from recipes.rate_limited_api.enqueue import send_many
from recipes.rate_limited_api.upstream import StrictApi
from tests.support import CliWorker

N = int(sys.argv[1]) if len(sys.argv) > 1 else 50
JOBS = int(sys.argv[2]) if len(sys.argv) > 2 else 600
LABELS = {"recipe": "recipe (shared Redis limiter)", "bare": "bare Dramatiq + WindowRateLimiter"}


def measure(name: str, module: str, redis_url: str, send: Callable[[StrictApi], None],
            done: Callable[[], int], extra: Callable[[], str]) -> float:
    env = {"REDIS_URL": redis_url, "COOKBOOK_NAMESPACE": f"bench-{name}",
           "RATE_LIMITED_API_RATE": str(N)}
    with StrictApi(N) as api, tempfile.TemporaryDirectory() as tmp:
        env["RATE_LIMITED_API_URL"] = api.url
        os.environ.update(env)
        send(api)
        worker = CliWorker(module, env=env, log_path=Path(tmp) / "worker.log", processes=2,
                           threads=8).start()
        started = time.monotonic()
        try:
            while done() < JOBS:
                if time.monotonic() - started > 20 * JOBS / N + 60:
                    raise SystemExit(f"{name}: only {done()} of {JOBS} done")
                time.sleep(0.05)
        finally:
            worker.stop()
        rate = api.sustained_rate(200)
        print(f"{LABELS[name]:<34} {rate:7.1f}/s = {rate / N:6.1%} of N   429s: "
              f"{api.statuses()[429]:4d}   max in 1 s: {api.max_in_window(1.0):3d}   {extra()}")
        return rate


def main() -> None:
    print(f"{JOBS} jobs, N = {N} req/s, 2 processes x 8 threads (shared 2-core box)")
    with RedisServer() as server:
        settings = load_settings(redis_url=server.url, namespace="bench-recipe")
        broker = make_broker(settings)
        holder: dict[str, object] = {}

        def send_recipe(api: StrictApi) -> None:
            actors = register(broker, broker.client, settings.namespace,
                              load_api_settings(url=api.url, rate=N))
            holder["actors"] = actors
            send_many(actors, JOBS)

        def recipe_done() -> int:
            return holder["actors"].results.count()  # type: ignore[attr-defined]

        ours = measure("recipe", "recipes.rate_limited_api.worker", server.url,
                       send_recipe, recipe_done,
                       lambda: "attempts lost: 0   polls: 0 (3 Redis calls a request)")

        def send_bare(api: StrictApi) -> None:
            from bench import rate_limited_api_bare as bare

            for n in range(JOBS):
                bare.bare_fetch.send(f"item-{n}")

        client = broker.client
        bare_rate = measure(
            "bare", "bench.rate_limited_api_bare", server.url,
            send_bare, lambda: int(client.hlen("bench-bare:done")),
            lambda: f"attempts lost: {int(client.get('bench-bare:attempts_lost') or 0)}   "
                    f"polls: {int(client.get('bench-bare:polls') or 0)}")
        print(f"recipe / bare Dramatiq rate: {ours / bare_rate:.2f}x; "
              f"target >= 95% of N: {'met' if ours >= 0.95 * N else 'NOT met'}")


if __name__ == "__main__":
    main()
