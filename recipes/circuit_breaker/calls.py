"""The guarded call: what counts as a dependency failure and what does not.

Failure (counts toward opening, retried with backoff): connection errors, timeouts, 5xx.
Not a failure of the dependency: 4xx (our request is wrong: permanent, dead-lettered) and
429 (it is alive but busy: re-scheduled after Retry-After, no attempt spent).
"""

from __future__ import annotations

from typing import Any

import httpx

from common.errors import PermanentError, RateLimited, TransientError
from recipes.circuit_breaker.breaker import CircuitBreaker


class DependencyDown(TransientError):
    """The dependency failed (5xx, timeout, refused): a real attempt, counted."""


def fetch(http: httpx.Client, breaker: CircuitBreaker, base_url: str, item: str) -> Any:
    admission = breaker.acquire()  # BreakerOpen -> re-scheduled, no attempt spent
    try:
        response = http.get(f"{base_url}/items/{item}", headers={"X-Breaker": admission.header})
    except httpx.TransportError as exc:
        breaker.failure(admission)
        raise DependencyDown(f"{breaker.dependency}: {type(exc).__name__}: {exc}") from None
    if response.status_code >= 500:
        breaker.failure(admission)
        raise DependencyDown(f"{breaker.dependency} answered {response.status_code}")
    breaker.success(admission)
    if response.status_code == 429:
        retry_after = float(response.headers.get("Retry-After", "1"))
        raise RateLimited(f"{breaker.dependency} rate-limited us", retry_after_s=retry_after)
    if response.status_code >= 400:
        raise PermanentError(f"{breaker.dependency} refused {item!r}: {response.status_code}")
    return response.json()
