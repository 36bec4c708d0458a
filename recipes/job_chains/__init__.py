"""Event-driven chains: validate -> charge -> (email || invoice) -> archive, with compensation."""

QUEUE = "job_chains"
#: Compensation has its own queue so a backlog of new orders never delays an undo.
COMPENSATE_QUEUE = "job_chains_compensate"

#: The order flow. ``BRANCHES`` run in parallel after ``charge``; ``archive`` is the fan-in.
LINEAR = ("validate", "charge")
BRANCHES = ("email", "invoice")
FAN_IN = "archive"
STEPS = (*LINEAR, *BRANCHES, FAN_IN)

STEP_RETRIES = 5
#: A step's idempotency claim: a duplicate of a running step waits (deferred, no attempt
#: counted) up to this long; after a worker crash, the step re-runs once it has expired.
STEP_LEASE_MS = 60_000
MIN_BACKOFF_MS = 200
MAX_BACKOFF_MS = 30_000
#: A running chain past this is failed and compensated by ``reap_overdue`` (a lost message,
#: a purged queue): the last line against "a parent waiting forever".
CHAIN_DEADLINE_S = 3_600
#: Finished chains (completed or failed) are kept this long, then expire.
FINISHED_TTL_S = 7 * 86_400


def chain_keys(namespace: str, chain_id: str) -> dict[str, str]:
    base = f"{namespace}:chain:{{{chain_id}}}"  # hash tag: one chain, one cluster slot
    return {
        "state": base,  # hash: status, order, step:<name>:<field>, error, times
        "history": f"{base}:history",  # list of JSON events, oldest first
        "arrived": f"{base}:arrived",  # set of branches that reached the fan-in
    }


def index_keys(namespace: str) -> dict[str, str]:
    return {
        "all": f"{namespace}:chains",  # zset chain id -> created ms
        "running": f"{namespace}:chains:running",  # zset chain id -> deadline ms
    }


def shop_key(namespace: str, what: str) -> str:
    """The example shop's records (reservations, payments, refunds, outbox, invoices...)."""
    return f"{namespace}:shop:{what}"
