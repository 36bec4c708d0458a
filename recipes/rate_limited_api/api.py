"""One API call through the shared limiter, and what each answer means for the job.

| answer                 | outcome                                                          |
|------------------------|------------------------------------------------------------------|
| 2xx                    | returned                                                         |
| 429 (+ Retry-After)    | every worker pauses until then; this job waits for its next slot |
|                        | in-thread, or is re-scheduled (``RateLimited``, no attempt)      |
| 5xx, timeout, no conn. | ``TransientError``: retried with backoff, counts an attempt      |
| other 4xx, 3xx        | ``PermanentError``: dead-lettered after this one attempt         |
"""

from __future__ import annotations

import email.utils
import logging
import time

import httpx

from common.errors import PermanentError, RateLimited, TransientError
from recipes.rate_limited_api import DEFAULT_RETRY_AFTER_S, MAX_RETRY_AFTER_S
from recipes.rate_limited_api.limiter import SharedRateLimiter

log = logging.getLogger(__name__)
#: 429s in a row (each a full pause) before the job is handed back to the queue.
MAX_429_IN_A_ROW = 3


def retry_after_s(value: str | None, *, now: float | None = None) -> float:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if value is None or not value.strip():
        return DEFAULT_RETRY_AFTER_S
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return DEFAULT_RETRY_AFTER_S
        if when.tzinfo is None:
            return DEFAULT_RETRY_AFTER_S
        seconds = when.timestamp() - (time.time() if now is None else now)
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def call_api(http: httpx.Client, limiter: SharedRateLimiter, method: str,
             path: str) -> httpx.Response:
    """Send one request in a limiter slot; raise the error type that picks the retry path."""
    what = f"{method} {path}"  # never the full URL: a query string may hold a key
    for _ in range(MAX_429_IN_A_ROW):
        with limiter.slot() as slot:
            try:
                response = http.request(method, path,
                                        headers={"X-Request-Id": str(slot.ticket)})
            except httpx.TransportError as exc:
                raise TransientError(f"{what}: {type(exc).__name__}") from None
            slot.ended()
        status = response.status_code
        if status == 429:
            wait = limiter.pause(retry_after_s(response.headers.get("Retry-After")))
            log.warning("%s: upstream 429, all workers pause %.2f s", what, wait)
            continue  # the next slot() honours the pause: waits here or re-schedules the job
        if status >= 500:
            raise TransientError(f"{what}: upstream answered {status}")
        if not response.is_success:  # other 4xx (and a 3xx we do not follow)
            raise PermanentError(f"{what}: upstream answered {status}")
        return response
    raise RateLimited(f"{what}: upstream answered 429 {MAX_429_IN_A_ROW} times in a row",
                      retry_after_s=DEFAULT_RETRY_AFTER_S)
