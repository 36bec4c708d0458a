"""Progress for long jobs: events in a Redis stream any process can follow and resume."""

QUEUE = "progress_tracking"
#: Events kept per job (exact MAXLEN trimming): a reader further behind sees a gap it can count.
STREAM_MAXLEN = 1_000
#: While a job runs, every write pushes the expiry out: a job abandoned by a dead worker
#: leaves its stream for a day at most.
RUNNING_TTL_S = 24 * 3_600
#: After the final state (completed / failed) the stream stays readable this long.
FINAL_TTL_S = 3_600
#: Event kinds that end a job's stream.
FINAL_KINDS = frozenset({"completed", "failed"})


def keys(namespace: str, message_id: str) -> dict[str, str]:
    base = f"{namespace}:progress:{{{message_id}}}"  # hash tag: both keys on one cluster slot
    return {"events": f"{base}:events", "state": f"{base}:state"}
