"""Retry policy middleware: exponential backoff with jitter, driven by ``common.errors``.

It replaces Dramatiq's ``Retries`` middleware because Dramatiq counts ``RateLimitExceeded``,
``Retry`` and a worker ``Shutdown`` as attempts: a job waiting for a rate-limit slot or a
restart would burn its retries and end in the dead-letter queue without ever failing.

Message options written here: ``retries`` (failed attempts so far, Dramatiq's own name),
``deferrals`` (re-schedules that did not count), ``last_error``.
Retries and deferrals re-send the same message (same ``message_id``, same options), so an
option a middleware or job wrote on an earlier run is still there on the next one.
Actor options read here: ``max_retries``, ``min_backoff``, ``max_backoff`` (ms),
``throws`` (exception types that are permanent), ``max_deferrals``.

Copy with: ``common/errors.py``.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from typing import Any, Literal

import dramatiq
from dramatiq.middleware import Middleware, Shutdown, TimeLimitExceeded
from pydantic import ValidationError

from common.errors import PermanentError, RetryLater

log = logging.getLogger(__name__)

DEFAULT_MAX_RETRIES = 5
DEFAULT_MIN_BACKOFF_MS = 1_000
DEFAULT_MAX_BACKOFF_MS = 5 * 60_000
DEFAULT_MAX_DEFERRALS = 10_000
SHUTDOWN_REQUEUE_MS = 0
RATE_LIMIT_REQUEUE_MS = 1_000

Kind = Literal["retry", "defer", "dead"]


@dataclass(frozen=True)
class Decision:
    kind: Kind
    delay_ms: int = 0
    reason: str = ""


def backoff_ms(retries: int, *, min_ms: int, max_ms: int, rng: random.Random | None = None) -> int:
    """Delay before retry number ``retries`` (1-based): ``min * 2^(n-1)``, capped, "equal jitter".

    Half the delay is fixed and half random, so retries spread out but never fire early.
    """
    rng = rng or random.Random()
    base = min(max_ms, min_ms * 2 ** max(0, retries - 1))
    return int(base / 2 + rng.uniform(0, base / 2))


def classify(exc: BaseException, *, throws: tuple[type[BaseException], ...] = ()) -> Decision:
    """Map an exception to what the retry policy does with the message."""
    if isinstance(exc, RetryLater):
        return Decision("defer", exc.delay_ms, f"{type(exc).__name__}: {exc}")
    if isinstance(exc, dramatiq.RateLimitExceeded):
        return Decision("defer", RATE_LIMIT_REQUEUE_MS, "RateLimitExceeded")
    if isinstance(exc, dramatiq.Retry):
        return Decision("defer", exc.delay or 0, "Retry requested")
    if isinstance(exc, Shutdown):
        return Decision("defer", SHUTDOWN_REQUEUE_MS, "interrupted by worker shutdown")
    if isinstance(exc, PermanentError | ValidationError) or (throws and isinstance(exc, throws)):
        return Decision("dead", reason=f"permanent: {type(exc).__name__}")
    if isinstance(exc, TimeLimitExceeded):
        return Decision("retry", reason="time limit exceeded")
    return Decision("retry", reason=f"{type(exc).__name__}")


class RetryPolicy(Middleware):
    """Counted retries for failures, free re-scheduling for control errors."""

    def __init__(
        self,
        *,
        max_retries: int = DEFAULT_MAX_RETRIES,
        min_backoff: int = DEFAULT_MIN_BACKOFF_MS,
        max_backoff: int = DEFAULT_MAX_BACKOFF_MS,
        max_deferrals: int = DEFAULT_MAX_DEFERRALS,
    ) -> None:
        self.max_retries = max_retries
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self.max_deferrals = max_deferrals

    @property
    def actor_options(self) -> set[str]:
        return {"max_retries", "min_backoff", "max_backoff", "throws", "max_deferrals"}

    def _option(self, broker: dramatiq.Broker, message: Any, name: str, default: Any) -> Any:
        if name in message.options:
            return message.options[name]
        return broker.get_actor(message.actor_name).options.get(name, default)

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: Any,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        if exception is None or message.failed:
            return
        throws = self._option(broker, message, "throws", ()) or ()
        if not isinstance(throws, tuple):
            throws = (throws,)
        decision = classify(exception, throws=throws)
        message.options["last_error"] = f"{type(exception).__name__}: {exception}"[:2_000]

        if decision.kind == "defer":
            deferrals = message.options.get("deferrals", 0) + 1
            if deferrals <= self._option(broker, message, "max_deferrals", self.max_deferrals):
                message.options["deferrals"] = deferrals
                log.info("deferring %s by %d ms (%s)", message.message_id, decision.delay_ms,
                         decision.reason)
                broker.enqueue(message, delay=decision.delay_ms or None)
                return
            decision = Decision("dead", reason=f"deferred {deferrals - 1} times")

        if decision.kind == "retry":
            retries = message.options.get("retries", 0) + 1
            max_retries = self._option(broker, message, "max_retries", self.max_retries)
            if retries <= max_retries:
                message.options["retries"] = retries
                delay = backoff_ms(
                    retries,
                    min_ms=self._option(broker, message, "min_backoff", self.min_backoff),
                    max_ms=self._option(broker, message, "max_backoff", self.max_backoff),
                )
                log.warning("retry %d/%d of %s in %d ms after %s", retries, max_retries,
                            message.message_id, delay, decision.reason)
                broker.enqueue(message, delay=delay)
                return
            message.options["retries"] = retries - 1
            decision = Decision(
                "dead", reason=f"retries exhausted ({max_retries}) after {decision.reason}"
            )

        message.options["dead_reason"] = decision.reason
        # fail() makes the consumer nack: common.deadletter records it on before_nack.
        message.fail()
