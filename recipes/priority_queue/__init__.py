"""Priority levels: one Redis queue per level, urgent levels noticed fast, FIFO within a level."""

#: Queue of a level is ``f"{QUEUE_PREFIX}.{level}"``; its Redis list is ``<ns>:<queue>``.
QUEUE_PREFIX = "priority_queue"
#: Levels, most urgent first (``COOKBOOK_PRIORITY_LEVELS`` overrides).
DEFAULT_LEVELS = ("high", "normal", "low")
#: Dramatiq actor priority of level i is ``i * PRIORITY_STEP`` (lower runs first in a worker).
PRIORITY_STEP = 10
#: Longest wait of an idle urgent consumer when no doorbell rings (Dramatiq's own: 1,000 ms).
URGENT_IDLE_MS = 500
#: Doorbell rings kept per level (a ring nobody waited for is harmless, just not kept forever).
BELL_MAX = 64
#: Entries kept in the start/end event log (oldest dropped first).
EVENT_LOG_MAX = 50_000


def queue_name(level: str) -> str:
    return f"{QUEUE_PREFIX}.{level}"


def keys(namespace: str) -> dict[str, str]:
    base = f"{namespace}:{QUEUE_PREFIX}"
    return {
        "clock": f"{base}:clock",  # INCR'd once per event: a total order of starts and ends
        "starts": f"{base}:starts",  # hash level -> jobs started
        "events": f"{base}:events",  # list of JSON events, capped at EVENT_LOG_MAX
    }


def bell_key(namespace: str, queue: str) -> str:
    return f"{namespace}:{QUEUE_PREFIX}:bell:{queue}"
