"""Recurring jobs: APScheduler triggers in N scheduler replicas, each tick enqueued once."""

QUEUE = "recurring_cron"
#: The sample actor ticks are sent to when a schedule names no other.
DEFAULT_ACTOR = "cron_report"

#: Misfire policy defaults (per schedule, stored with it). A scheduler that comes back after
#: missing ticks runs ONE catch-up tick (the latest missed one) if it is at most this late.
DEFAULT_COALESCE = True
DEFAULT_MISFIRE_GRACE_S = 30

#: A claimed tick must be enqueued within this lease, else a live replica re-fires it.
CLAIM_LEASE_MS = 5_000
#: How long a sent tick's claim is kept, on top of its grace: a replica whose clock runs up
#: to this far behind still finds the claim and does not fire the tick again.
CLAIM_KEEP_S = 600
#: Each replica re-reads schedule changes, sweeps abandoned claims and heartbeats this often.
CONTROL_INTERVAL_S = 0.5
#: A replica silent for this long is dropped from the replica list (display only).
REPLICA_STALE_S = 10


def keys(namespace: str) -> dict[str, str]:
    base = f"{namespace}:cron"
    return {
        "schedules": f"{base}:schedules",  # hash id -> Schedule JSON
        "version": f"{base}:version",  # INCR on every change: replicas re-sync when it moves
        "last_fire": f"{base}:last_fire",  # hash id -> fire ms of the newest sent tick
        "missed": f"{base}:missed",  # hash id -> ticks dropped as later than their grace
        "pending": f"{base}:pending",  # zset tick id -> claim ms (claimed, not yet sent)
        "replicas": f"{base}:replicas",  # hash replica id -> JSON {pid, started_ms, seen_ms}
    }


def claim_key(namespace: str, tick_id: str) -> str:
    return f"{namespace}:cron:claim:{tick_id}"


def runs_key(namespace: str, schedule_id: str) -> str:
    """The sample actor's delivery log: one entry per tick message received."""
    return f"{namespace}:cron:runs:{schedule_id}"


def tick_id(schedule_id: str, fire_ms: int) -> str:
    return f"{schedule_id}@{fire_ms}"
