"""The shared limiter on its own: exact under arrival jitter, dead holders, pauses."""

from __future__ import annotations

import threading
from collections import Counter

import httpx
import pytest
import redis

from common.errors import RateLimited
from common.settings import Settings
from recipes.rate_limited_api.limiter import SharedRateLimiter
from recipes.rate_limited_api.seen import max_in_window, sustained_rate
from tests.support import wait_until


def test_random_delays_between_start_arrival_and_answer_never_break_the_limit(
    settings: Settings, redis_client: redis.Redis, strict_api
) -> None:  # type: ignore[no-untyped-def]
    """Each request holds its slot until a window after its answer, so however late it
    reached the server, no window there holds more than N. A limiter that counts requests
    when it admits them (``limits``, Dramatiq's) fails this at once."""
    api = strict_api(limit=20)
    api.jitter_s = 0.08
    limiter = SharedRateLimiter(redis_client, settings.namespace, "jitter", limit=20)
    todo = list(range(120))
    lock = threading.Lock()

    def work() -> None:
        with httpx.Client(base_url=api.url) as http:
            while True:
                with lock:
                    if not todo:
                        return
                    n = todo.pop()
                with limiter.slot() as slot:
                    http.get(f"/items/i{n}", headers={"X-Request-Id": str(slot.ticket)})
                    slot.ended()

    threads = [threading.Thread(target=work) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert api.statuses() == Counter({200: 120})
    assert api.max_in_window(1.0) <= 20
    assert limiter.tickets_issued() == 120


def test_a_dead_workers_slot_frees_when_its_lease_ends(
    settings: Settings, redis_client: redis.Redis
) -> None:
    limiter = SharedRateLimiter(redis_client, settings.namespace, "lease", limit=1,
                                lease_s=1.5)
    rid, wait = limiter.reserve()
    assert rid > 0 and wait == 0
    assert limiter.start(rid)[0] > 0  # ... and the worker dies here: no finish()
    assert limiter.reserve()[0] == -1  # the one slot is held by an unfinished request
    wait_until(lambda: limiter.reserve()[0] > 0, timeout=15, interval=0.2,
               message="the dead request's lease to end")


def test_a_pause_gives_back_reserved_slots_and_reschedules_long_waits(
    settings: Settings, redis_client: redis.Redis
) -> None:
    limiter = SharedRateLimiter(redis_client, settings.namespace, "pause", limit=5)
    rid, _ = limiter.reserve()
    assert limiter.pause(2) > 1.9
    ticket, wait = limiter.start(rid)  # reserved before the pause, started after it
    assert ticket == 0 and wait > 1.9
    assert redis_client.zcard(limiter.keys["open"]) == 0
    with pytest.raises(RateLimited) as info, limiter.slot():
        pass
    assert 1.5 < info.value.retry_after_s <= 2.01
    assert limiter.tickets_issued() == 0
    assert limiter.pauses()[0]["ticket"] == 0


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="limit"):
        SharedRateLimiter(None, "ns", "x", limit=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="lease_s"):
        SharedRateLimiter(None, "ns", "x", limit=1, lease_s=1.0)  # type: ignore[arg-type]


def test_the_servers_window_arithmetic() -> None:
    """The proofs lean on these two: check them on arrivals whose answer is known."""
    assert max_in_window([0.0, 0.5, 0.999, 1.0], 1.0) == 3  # 0.0 is out of (0.0, 1.0]
    assert max_in_window([0.0, 0.5, 0.999, 1.0], 1.001) == 4
    assert max_in_window([], 1.0) == 0
    evenly = [k * 0.0201 for k in range(500)]  # 50 apart = 1.005 s: never 51 in 1 s
    assert max_in_window(evenly, 1.0) == 50
    assert max_in_window(evenly, 1.01) == 51
    assert abs(sustained_rate(evenly, 50) - 1 / 0.0201) < 1e-6
    bursts = [second + k * 1e-4 for second in range(10) for k in range(50)]
    assert abs(sustained_rate(bursts, 50) - 50.0) < 1e-6  # 50 at once, once a second
