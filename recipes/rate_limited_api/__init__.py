"""Rate-limited API calls: every worker process shares one limiter kept in Redis."""

QUEUE = "rate_limited_api"
#: The limiter and the results ledger live under this prefix (after the namespace).
PREFIX = "ratelimit"
#: Default limiter name: one limiter per upstream API.
DEFAULT_LIMITER = "upstream"
#: A slot that opens within this many seconds is waited for in the worker thread; a later
#: one (an upstream pause) re-schedules the job instead of holding the thread.
DEFAULT_MAX_INLINE_WAIT_S = 1.5
#: Extra time each request keeps its slot, against clock slew between hosts.
DEFAULT_MARGIN_MS = 5
#: An unfinished request (its worker died) holds its slot at most this long.
DEFAULT_LEASE_S = 60.0
#: Limiter keys expire after this long without traffic.
IDLE_TTL_MS = 300_000
#: Retry-After used when an upstream 429 has none (or one we cannot read).
DEFAULT_RETRY_AFTER_S = 1.0
#: Longest upstream pause we honour from a single Retry-After.
MAX_RETRY_AFTER_S = 3_600.0


def limiter_keys(namespace: str, name: str) -> dict[str, str]:
    base = f"{namespace}:{PREFIX}:{{{name}}}"  # hash tag: one limiter, one cluster slot
    return {
        "open": f"{base}:open",  # zset ticket -> lease end (us): requests not finished yet
        "done": f"{base}:done",  # zset ticket -> end of its occupancy (us)
        "last": f"{base}:last",  # start (us) of the latest reservation: starts never go back
        "pause": f"{base}:pause",  # upstream said Retry-After: no start before this (us)
        "seq": f"{base}:seq",  # counter: reservation ids
        "ticket": f"{base}:ticket",  # counter: one ticket per request started (X-Request-Id)
        "pauses": f"{base}:pauses",  # list: recent pauses, newest first (JSON)
    }


def results_key(namespace: str) -> str:
    return f"{namespace}:{PREFIX}:results"
