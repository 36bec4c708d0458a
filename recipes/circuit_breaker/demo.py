"""Tour demo: a dependency goes down; the breaker opens, jobs wait without spending attempts,
a probe closes it once the dependency is back, and every job completes."""

from __future__ import annotations

import time
from collections.abc import Callable

from common.broker import CookbookBroker
from common.settings import Settings
from common.worker import running_worker
from recipes.circuit_breaker import QUEUE
from recipes.circuit_breaker.actors import register
from recipes.circuit_breaker.config import ApiConfig, BreakerConfig
from recipes.circuit_breaker.enqueue import send_fetches
from recipes.circuit_breaker.upstream import FlakyApi

JOBS = 60


def demo(broker: CookbookBroker, settings: Settings, report: Callable[[int, int], None]) -> int:
    server = FlakyApi(failing=True).start()
    try:
        actors = register(broker, broker.client, settings.namespace,
                          config=BreakerConfig(failures=3, window_s=10, cooldown_s=1,
                                               probes=1, probe_wait_s=0.3),
                          api=ApiConfig(url=server.url))
        send_fetches(actors, JOBS)
        with running_worker(broker, queues=[QUEUE], threads=8):
            _wait(lambda: bool(actors.breaker.transitions()), "the breaker to open")
            failed_calls = len(server.snapshot())
            server.failing = False  # the dependency recovers
            _wait(lambda: len(actors.results()) == JOBS, "every job to complete",
                  lambda: report(len(actors.results()), JOBS))
        events = [t["event"] for t in actors.breaker.transitions()]
        if events[-1] != "closed" or "half_open" not in events:
            raise AssertionError(f"expected open -> half_open -> closed, got {events}")
        if failed_calls > 3 + 8:  # K failures plus calls already in flight on 8 threads
            raise AssertionError(f"{failed_calls} calls reached the failing dependency")
        retries = sum(r["retries"] for r in actors.results().values())
        failures = sum(h.status == 503 for h in server.snapshot())
        if retries != failures:
            raise AssertionError(f"{retries} attempts spent for {failures} failed calls")
        return JOBS
    finally:
        server.close()


def _wait(predicate: Callable[[], bool], what: str,
          tick: Callable[[], None] | None = None, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if tick:
            tick()
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
    if tick:
        tick()
