"""Batching: bulk enqueue on the producer side, micro-batches on the consumer side."""

QUEUE = "batching"
#: Flush a micro-batch once it holds this many items ...
DEFAULT_SIZE = 500
#: ... or once its oldest item is this old (ms).
DEFAULT_MAX_AGE_MS = 1_000
#: How long one batch job owns a batch before a redelivered copy may take over (crash bound).
DEFAULT_LEASE_MS = 60_000
#: Failed attempts an item may have before it goes to the dead-letter queue.
DEFAULT_MAX_ITEM_RETRIES = 3
DEFAULT_MIN_BACKOFF_MS = 200
DEFAULT_MAX_BACKOFF_MS = 60_000
#: Messages per Redis round trip in bulk enqueue, items per Lua call when adding.
CHUNK = 1_000


def batcher_keys(namespace: str, name: str) -> dict[str, str]:
    base = f"{namespace}:batching:{name}"
    return {
        "pending": f"{base}:pending",  # list of "<seq>:<added_ms>:<attempts>:<json>" entries
        "seq": f"{base}:seq",
        "open": f"{base}:open",  # zset batch_id -> flushed_at ms
        "stats": f"{base}:stats",
        "batch_prefix": f"{base}:b:",
    }


def batch_keys(namespace: str, name: str, batch_id: str) -> dict[str, str]:
    base = f"{batcher_keys(namespace, name)['batch_prefix']}{batch_id}"
    return {"items": base, "done": f"{base}:done", "lease": f"{base}:lease"}


def ledger_keys(namespace: str) -> dict[str, str]:
    base = f"{namespace}:batching:ledger"
    return {
        "balances": f"{base}:balances",
        "applied": f"{base}:applied",  # entry_id -> times applied (the exactly-once proof)
        "seen": f"{base}:seen",  # entry_id -> times handed to the handler (observation only)
        "frozen": f"{base}:frozen",  # accounts whose entries are refused for good
        "unavailable": f"{base}:unavailable",  # accounts whose entries fail for now
    }


#: The actor that runs one micro-batch, and the one that puts a replayed item back.
BATCH_ACTOR = "batching_process"
READD_ACTOR = "batching_readd"
#: One job per item (the baseline in the bench, and the target of the bulk-enqueue examples).
SINGLE_QUEUE = "batching_single"
