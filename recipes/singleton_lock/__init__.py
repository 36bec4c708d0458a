"""Distributed lock with owner token, TTL, renewal and fencing; singleton actors; dedup."""

QUEUE = "singleton_lock"
#: Lock lifetime without renewal: how long a crashed holder blocks the key.
LOCK_TTL_MS = 10_000
#: The renewer resets the TTL this many times per TTL (every TTL/3).
RENEWALS_PER_TTL = 3
#: ``defer``/``keep-latest``: how long a duplicate polls for the lock before re-scheduling.
WAIT_MS = 2_000
#: Poll interval while waiting for the lock (redis-py ``Lock.acquire(sleep=...)``).
POLL_MS = 5
#: Upper bound for one re-schedule of a deferred duplicate.
MAX_DEFER_MS = 1_000
#: Debounce keys outlive their quiet window by this much, so a late wake-up still finds them.
DEBOUNCE_GRACE_MS = 3_600_000

POLICIES = ("skip", "defer", "keep-latest")
DEDUP_MODES = ("queued", "throttle", "debounce")


def keys(namespace: str, key: str) -> dict[str, str]:
    """Keys of one singleton key; the hash tag keeps them on one cluster slot."""
    base = f"{namespace}:singleton:{{{key}}}"
    return {
        "lock": f"{base}:lock",
        # Never expires: a fencing token must keep growing for the key's whole life.
        "fence": f"{base}:fence",
        "version": f"{base}:version",  # keep-latest: send-order counter
        "seen": f"{base}:seen",  # keep-latest: newest version that reached a worker
        "stats": f"{base}:stats",
    }


def dedup_key(namespace: str, dedup_id: str) -> str:
    return f"{namespace}:singleton:dedup:{dedup_id}"


def resource_keys(namespace: str, name: str) -> dict[str, str]:
    base = f"{namespace}:singleton:resource:{{{name}}}"
    return {part: f"{base}:{part}" for part in
            ("highest", "current", "events", "value", "counts", "gates")}


def runs_key(namespace: str) -> str:
    return f"{namespace}:singleton:runs"


#: A job waiting on a gate gives up waiting after this long (a forgotten gate cannot wedge it).
GATE_MAX_S = 60.0
#: Work loop step: how often a long job checks its lease and the shutdown flag.
STEP_S = 0.02
