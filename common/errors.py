"""Error taxonomy: the type of an exception picks the retry strategy.

| raised                          | outcome                                              |
|---------------------------------|------------------------------------------------------|
| ``TransientError`` (or anything | retried with exponential backoff + jitter, counts an |
| not listed here)                | attempt; dead-lettered when attempts run out         |
| ``PermanentError``              | dead-lettered at once, no retry                      |
| ``RetryLater`` / ``RateLimited``| re-scheduled for ``delay_ms``; **no attempt counted** |
| ``Interrupted``                 | re-queued now (worker shutting down); no attempt     |

Copy alone: standard library + dramatiq.
"""

from __future__ import annotations

import time

import dramatiq


class JobError(Exception):
    """Base class for errors a job raises on purpose."""


class TransientError(JobError):
    """Might work if tried again later (timeouts, 5xx, connection resets)."""


class PermanentError(JobError):
    """Will never work for this input (bad data, 4xx, missing record): dead-letter now."""


class RetryLater(JobError, dramatiq.Retry):
    """Control flow, not a failure: run this job again at a later time.

    Used for rate limits, open circuit breakers and held locks. The retry policy
    re-schedules the message without counting an attempt. (It is also a ``dramatiq.Retry``
    so Dramatiq's worker does not log it as an unhandled error with a traceback.)
    """

    def __init__(self, reason: str, *, delay_ms: int = 1_000) -> None:
        self.reason = reason
        self.delay_ms = max(0, int(delay_ms))
        super().__init__(reason, delay=self.delay_ms)

    @classmethod
    def at(cls, reason: str, when_epoch_s: float) -> RetryLater:
        return cls(reason, delay_ms=int((when_epoch_s - time.time()) * 1000))


class RateLimited(RetryLater):
    """The job hit a rate limit; ``retry_after_s`` says when a slot opens."""

    def __init__(self, reason: str, *, retry_after_s: float) -> None:
        super().__init__(reason, delay_ms=int(retry_after_s * 1000))
        self.retry_after_s = retry_after_s


class Interrupted(RetryLater):
    """The worker is shutting down; the job saved a checkpoint and wants to resume later."""

    def __init__(self, reason: str = "worker shutting down") -> None:
        super().__init__(reason, delay_ms=0)
