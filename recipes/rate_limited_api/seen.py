"""What the strict API saw: one record per request, and the window arithmetic on them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Seen:
    at: float  # time.monotonic() at arrival
    path: str
    status: int
    request_id: str | None


def max_in_window(arrivals: Iterable[float], window_s: float) -> int:
    """Most arrivals in any half-open window ``(t - window_s, t]``."""
    times = sorted(arrivals)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while times[lo] <= t - window_s:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def sustained_rate(arrivals: Iterable[float], limit: int) -> float:
    """Requests per second as a sliding window sees them: ``limit`` over the mean time
    between request ``k`` and request ``k + limit`` (a strict server needs >= its period)."""
    times = sorted(arrivals)
    gaps = [b - a for a, b in zip(times, times[limit:], strict=False)]
    return limit * len(gaps) / sum(gaps) if gaps and sum(gaps) > 0 else 0.0
