"""Evaluate pybreaker's ``CircuitRedisStorage`` against what ``circuit_breaker`` needs.

Not a dependency of the project: run it in a throwaway environment with
``uv run --with pybreaker python bench/pybreaker_eval.py`` (starts its own redis-server).
It measures, with a real Redis and real threads/processes:

1. concurrency through one breaker in one process (8 threads, 100 ms calls);
2. half-open probes let through when 2 processes x 8 threads find the cool-down over;
3. whether failures are counted in a time window or as a consecutive streak;
4. the resolution of the stored ``opened_at`` (cool-down precision).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import multiprocessing
import threading
import time
from typing import Any

import pybreaker  # type: ignore[import-not-found]
import redis

from cookbook.redis_local import RedisServer


def breaker(url: str, **kwargs: Any) -> Any:
    storage = pybreaker.CircuitRedisStorage(pybreaker.STATE_CLOSED, redis.Redis.from_url(url),
                                            namespace="eval")
    return pybreaker.CircuitBreaker(state_storage=storage, **kwargs)


def max_concurrency(url: str) -> int:
    cb = breaker(url, fail_max=5, reset_timeout=2)
    inside, peak, lock = 0, 0, threading.Lock()

    def call() -> None:
        nonlocal inside, peak
        with lock:
            inside += 1
            peak = max(peak, inside)
        time.sleep(0.1)
        with lock:
            inside -= 1

    threads = [threading.Thread(target=cb.call, args=(call,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return peak


def _probe_worker(url: str, calls: Any, per_thread: bool) -> None:
    shared = breaker(url, fail_max=5, reset_timeout=1)

    def slow_fail() -> None:
        with calls.get_lock():
            calls.value += 1
        time.sleep(0.2)
        raise OSError("dependency down")

    def one() -> None:
        # One breaker per thread sidesteps the lock that serializes calls (result 1).
        cb = breaker(url, fail_max=5, reset_timeout=1) if per_thread else shared
        with contextlib.suppress(Exception):
            cb.call(slow_fail)

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def half_open_probes(url: str, per_thread: bool) -> int:
    client = redis.Redis.from_url(url)
    client.flushdb()
    cb = breaker(url, fail_max=5, reset_timeout=1)
    cb.open()
    time.sleep(1.1)  # cool-down over: the next calls find the breaker due for half-open
    calls = multiprocessing.Value("i", 0)
    procs = [multiprocessing.Process(target=_probe_worker, args=(url, calls, per_thread))
             for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    return int(calls.value)


def windowed(url: str) -> bool:
    redis.Redis.from_url(url).flushdb()
    cb = breaker(url, fail_max=3, reset_timeout=60)
    for outcome in (False, False, True, False, False):  # 4 failures, one success between
        with contextlib.suppress(Exception):
            cb.call(lambda ok=outcome: None if ok else (_ for _ in ()).throw(OSError()))
    return cb.current_state == pybreaker.STATE_OPEN


def opened_at_resolution(url: str) -> str:
    cb = breaker(url, fail_max=1, reset_timeout=60)
    cb.open()
    return repr(redis.Redis.from_url(url).get("eval:pybreaker:opened_at"))


def main() -> None:
    with RedisServer() as server:
        url = server.url
        print(f"pybreaker {importlib.metadata.version('pybreaker')}")
        print(f"1. peak concurrent calls, 8 threads, one breaker: {max_concurrency(url)}")
        print(f"2. calls let through in half-open, 2 processes x 8 threads: "
              f"{half_open_probes(url, False)} with one breaker per process, "
              f"{half_open_probes(url, True)} with one per thread (no shared probe limit)")
        print(f"3. opens after 4 failures with one success between (fail_max=3): "
              f"{windowed(url)} (False = consecutive streak, no time window)")
        print(f"4. stored opened_at: {opened_at_resolution(url)} (whole seconds)")


if __name__ == "__main__":
    main()
