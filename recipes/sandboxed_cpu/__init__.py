"""Sandboxed CPU work: jobs run in a pool of reused child processes with hard limits."""

QUEUE = "sandboxed_cpu"
#: Hard wall-clock limit per job (the child is killed), unless the job asks for less.
DEFAULT_TIMEOUT_S = 30.0
#: Address-space limit of each child (RLIMIT_AS): a MemoryError or a dead child past it.
DEFAULT_MEMORY_MB = 512
#: A child is replaced after this many jobs, so leaks and fragmentation cannot pile up.
DEFAULT_MAX_TASKS = 200
#: Retries after a crash or a timeout (see README: one retry tells a fluke from poison).
SANDBOX_MAX_RETRIES = 1
#: Progress and results are kept this long after the last write.
RESULT_TTL_S = 24 * 3_600


def keys(namespace: str) -> dict[str, str]:
    base = f"{namespace}:sandbox"
    return {
        "results": f"{base}:results",  # hash job_id -> JSON outcome
        "worker_pids": f"{base}:worker_pids",  # set of worker PIDs that ran the actor
        "boots": f"{base}:boots",  # list of worker PIDs, one entry per worker boot
    }


def progress_key(namespace: str, job_id: str) -> str:
    return f"{namespace}:sandbox:progress:{job_id}"
