"""FIFO per key: events of one account are applied in order; accounts run in parallel."""

QUEUE = "fifo_ordered"
#: How long a drainer owns an account before another worker may take over (crash bound).
LOCK_TTL_MS = 10_000
#: Renew the lock after this many events (well inside the TTL).
RENEW_EVERY = 50
#: A parked doorbell looks at a busy account's lock this often.
PARK_POLL_MS = 1_000


def keys(namespace: str, account: str) -> dict[str, str]:
    base = f"{namespace}:fifo:{{{account}}}"  # hash tag keeps one account on one cluster slot
    return {
        "seq": f"{base}:seq",
        "events": f"{base}:events",
        "lock": f"{base}:lock",
        "bell": f"{base}:bell",
        "balance": f"{base}:balance",
        "applied": f"{base}:applied",
        "last_seq": f"{base}:last_seq",
    }
