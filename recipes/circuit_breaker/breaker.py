"""A circuit breaker whose state lives in Redis, shared by every worker process and thread.

    admission = breaker.acquire()    # raises BreakerOpen (a RetryLater) while open
    try:
        call_the_dependency()
    except DependencyDown:
        breaker.failure(admission)
        raise
    breaker.success(admission)

Closed: every call goes through; K failures within W seconds open the breaker.
Open: no call for ``cooldown_s``; jobs are re-scheduled for when it may close.
Half-open: M probes go through; one success closes it, one failure re-opens it.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import redis

from common.errors import RetryLater
from recipes.circuit_breaker import LOG_MAXLEN, keys
from recipes.circuit_breaker.config import BreakerConfig
from recipes.circuit_breaker.lua import ACQUIRE, FAILURE, SUCCESS

#: Waits get up to this share added at random, so deferred jobs do not all return at once.
JITTER = 0.2


class BreakerOpen(RetryLater):
    """The dependency's breaker is open (or its probes are busy): try again after ``delay_ms``."""


@dataclass(frozen=True)
class Admission:
    kind: Literal["call", "probe"]
    generation: int
    token: str

    @property
    def header(self) -> str:
        """Sent along with the call so the dependency (and the tests) see who let it through."""
        return f"{self.kind}:{self.generation}"


class CircuitBreaker:
    def __init__(self, client: redis.Redis, namespace: str, dependency: str,
                 config: BreakerConfig | None = None) -> None:
        self.client = client
        self.dependency = dependency
        self.config = config or BreakerConfig()
        self.keys = keys(namespace, dependency)
        self._keys = [self.keys[k] for k in ("state", "failures", "probes", "log")]
        self._acquire = client.register_script(ACQUIRE)
        self._success = client.register_script(SUCCESS)
        self._failure = client.register_script(FAILURE)

    def acquire(self) -> Admission:
        """Let a call through, or raise ``BreakerOpen`` saying when to come back."""
        c = self.config
        token = uuid.uuid4().hex
        kind, wait_ms, gen = self._acquire(keys=self._keys, args=[
            LOG_MAXLEN, _ms(c.cooldown_s), c.probes, _ms(c.probe_lease_s), _ms(c.probe_wait_s),
            token])
        kind = kind.decode() if isinstance(kind, bytes) else kind
        if kind == "wait":
            delay = int(wait_ms) + int(random.uniform(0, JITTER) * int(wait_ms))
            raise BreakerOpen(f"circuit for {self.dependency} is open; retry in {delay} ms",
                              delay_ms=delay)
        return Admission("probe" if kind == "probe" else "call", int(gen), token)

    def success(self, admission: Admission) -> str:
        if admission.kind == "call":
            return "closed"  # a closed breaker has nothing to record for a success
        return self._s(self._success(keys=self._keys, args=[
            LOG_MAXLEN, admission.generation, admission.kind]))

    def failure(self, admission: Admission) -> str:
        c = self.config
        return self._s(self._failure(keys=self._keys, args=[
            LOG_MAXLEN, admission.generation, admission.kind, admission.token, c.failures,
            _ms(c.window_s), _ms(c.cooldown_s)]))

    @contextmanager
    def guard(self, is_failure: Callable[[BaseException], bool] = lambda exc: True,
              ) -> Iterator[Admission]:
        """``with breaker.guard():`` - an exception for which ``is_failure`` holds counts."""
        admission = self.acquire()
        try:
            yield admission
        except BaseException as exc:
            if is_failure(exc):
                self.failure(admission)
            else:
                self.success(admission)
            raise
        self.success(admission)

    def state(self) -> dict[str, str]:
        raw: dict[bytes, bytes] = self.client.hgetall(self.keys["state"])  # type: ignore[assignment]
        return {k.decode(): v.decode() for k, v in raw.items()} or {"state": "closed", "gen": "0"}

    def transitions(self) -> list[dict[str, Any]]:
        """The log: ``{"event": opened|half_open|closed, "gen", "at_ms", "until_ms"}``."""
        entries: Any = self.client.xrange(self.keys["log"])
        out = []
        for _id, fields in entries:
            f = {k.decode(): v.decode() for k, v in fields.items()}
            out.append({"event": f["event"], "gen": int(f["gen"]), "at_ms": int(f["at_ms"]),
                        "until_ms": int(f["until_ms"])})
        return out

    @staticmethod
    def _s(value: bytes | str) -> str:
        return value.decode() if isinstance(value, bytes) else value


def _ms(seconds: float) -> int:
    return int(seconds * 1000)
