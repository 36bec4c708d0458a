"""Sandboxed CPU work: jobs run in a pool of reused child processes with hard limits.

Constants and the Redis key layout only (every key starts with ``{namespace}:``).
"""

QUEUE = "sandboxed_cpu"
ACTOR = "sandboxed_cpu"

#: Hard wall-clock limit per job, counted from the moment a child takes it; then it is killed.
DEFAULT_TIMEOUT_S = 30.0
#: Address-space limit of each child (``RLIMIT_AS``), in MB.
DEFAULT_MEMORY_MB = 512
#: A child is replaced after this many jobs (bounds leaks in native code; 0 = never).
DEFAULT_MAX_TASKS = 500
#: How long results, progress and attempt counters stay in Redis.
RECORD_TTL_S = 86_400
#: One progress message must fit in a single atomic pipe write (POSIX PIPE_BUF >= 512).
MAX_PROGRESS_BYTES = 512
#: After a job returns, how long the actor waits for its last progress updates to arrive.
PROGRESS_FLUSH_S = 2.0


def keys(namespace: str, job_id: str) -> dict[str, str]:
    base = f"{namespace}:sandboxed_cpu:job:{job_id}"
    return {
        "result": f"{base}:result",
        "progress": f"{base}:progress",
        "attempts": f"{base}:attempts",
    }


def worker_pids_key(namespace: str) -> str:
    """Set of the PIDs of the worker processes that ran jobs (the actor side, not children)."""
    return f"{namespace}:sandboxed_cpu:worker_pids"
