"""A rate limiter shared by every worker process, kept in Redis (see ``lua.py`` for the rule).

``slot()`` reserves the next free start time in one Lua call, sleeps until it, then
confirms the start (``start`` gives the slot back if an upstream pause began meanwhile): no
polling, and waiting threads are served in reservation order. When the next start is
further away than ``max_wait_s`` (an upstream pause), nothing is reserved and ``RateLimited``
is raised so the retry policy re-schedules the job for then without counting an attempt.

Why not the ``limits`` library or Dramatiq's rate limiters: they count a request when it is
admitted, using the worker's clock, and say "no" without a time to come back, so callers
poll; a strict server that counts arrivals sees admission jitter as bursts over the limit.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis

from common.errors import RateLimited
from recipes.rate_limited_api import (
    DEFAULT_LEASE_S,
    DEFAULT_MARGIN_MS,
    DEFAULT_MAX_INLINE_WAIT_S,
    IDLE_TTL_MS,
    limiter_keys,
)
from recipes.rate_limited_api.lua import FINISH, PAUSE, RESERVE, START

US = 1_000_000


class Slot:
    """A started request: ``ticket`` numbers it (send it as ``X-Request-Id``)."""

    def __init__(self, ticket: int) -> None:
        self.ticket = ticket
        self.ended_at: float | None = None

    def ended(self) -> None:
        self.ended_at = time.monotonic()


class SharedRateLimiter:
    """At most ``limit`` requests in any ``period_s`` window, across all processes."""

    def __init__(self, client: redis.Redis, namespace: str, name: str, *, limit: int,
                 period_s: float = 1.0, margin_ms: int = DEFAULT_MARGIN_MS,
                 lease_s: float = DEFAULT_LEASE_S,
                 max_wait_s: float = DEFAULT_MAX_INLINE_WAIT_S) -> None:
        if limit < 1 or period_s <= 0 or margin_ms < 0 or max_wait_s < 0:
            raise ValueError("limit must be >= 1, period_s > 0, margin_ms and max_wait_s >= 0")
        if lease_s <= period_s:
            raise ValueError("lease_s must exceed period_s (it bounds a dead worker's slot)")
        self.client = client
        self.name = name
        self.limit = limit
        self.window_us = int(period_s * US) + margin_ms * 1_000
        self.margin_us = margin_ms * 1_000
        self.lease_us = int(lease_s * US)
        self.max_wait_s = max_wait_s
        self.keys = limiter_keys(namespace, name)
        self._reserve = client.register_script(RESERVE)
        self._start = client.register_script(START)
        self._finish = client.register_script(FINISH)
        self._pause = client.register_script(PAUSE)

    def reserve(self) -> tuple[int, float]:
        """``(id, wait_s)``; id 0: nothing reserved (wait too long), -1: every slot in use."""
        k = self.keys
        rid, wait_us = self._reserve(
            keys=[k["open"], k["done"], k["last"], k["pause"], k["seq"]],
            args=[self.limit, self.window_us, self.lease_us, int(self.max_wait_s * US),
                  IDLE_TTL_MS])
        return int(rid), max(0, int(wait_us)) / US

    def start(self, rid: int) -> tuple[int, float]:
        """``(ticket, 0)`` to go ahead, or ``(0, wait_s)``: a pause began, slot given back."""
        ticket, wait_us = self._start(keys=[self.keys["open"], self.keys["pause"],
                                            self.keys["ticket"]], args=[rid, IDLE_TTL_MS])
        return int(ticket), int(wait_us) / US

    def finish(self, rid: int, *, ended: float | None = None) -> None:
        """The response is back (or the call failed): the slot frees one window later.

        ``ended`` is the ``time.monotonic()`` when the response arrived; without it, now.
        """
        ago = 0.0 if ended is None else max(0.0, time.monotonic() - ended)
        self._finish(keys=[self.keys["open"], self.keys["done"]],
                     args=[rid, self.window_us, IDLE_TTL_MS, int(ago * US)])

    def _too_long(self, wait_s: float) -> RateLimited:
        return RateLimited(f"limiter {self.name!r}: next slot in {wait_s:.2f} s",
                           retry_after_s=wait_s)

    @contextmanager
    def slot(self) -> Iterator[Slot]:
        """Wait for a start time, yield the request's ``Slot``, free the slot on exit.

        Call ``slot.ended()`` as soon as the response is in: the slot frees a window after
        that instant instead of after the exit, which is what keeps throughput near N.
        """
        while True:
            rid, wait_s = self.reserve()
            if rid == 0 or wait_s > self.max_wait_s:
                raise self._too_long(wait_s)
            if rid < 0:  # all slots held by unfinished requests: none frees sooner
                time.sleep(wait_s)
                continue
            try:
                time.sleep(wait_s)
                ticket, paused_s = self.start(rid)
            except BaseException:  # interrupted while waiting: do not hold the slot
                self.finish(rid)
                raise
            if ticket > 0:
                break
            if paused_s > self.max_wait_s:
                raise self._too_long(paused_s)
        slot = Slot(ticket)
        try:
            yield slot
        finally:
            self.finish(rid, ended=slot.ended_at)

    def pause(self, retry_after_s: float) -> float:
        """Upstream said wait: no process starts a request for ``retry_after_s`` (+ margin)."""
        k = self.keys
        wait_us = self._pause(keys=[k["pause"], k["ticket"], k["pauses"]],
                              args=[int(retry_after_s * US) + self.margin_us])
        return int(wait_us) / US

    def pauses(self) -> list[dict[str, Any]]:
        """Recent pauses, newest first: ``at_us``, ``until_us`` (Redis clock), ``ticket``."""
        raw: list[bytes] = self.client.lrange(self.keys["pauses"], 0, -1)  # type: ignore[assignment]
        return [json.loads(item) for item in raw]

    def tickets_issued(self) -> int:
        """Requests started through this limiter (one ticket each)."""
        return int(self.client.get(self.keys["ticket"]) or 0)
