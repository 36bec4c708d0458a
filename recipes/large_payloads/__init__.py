"""Claim check: a large payload is stored once outside the message, which carries a reference."""

QUEUE = "large_payloads"
#: Payloads up to this size travel inside the message (base64); larger ones become blobs.
INLINE_LIMIT_BYTES = 64 * 1024
#: A blob outlives every retry of its job (5 retries, 5 min max backoff) with a wide margin,
#: so it is there for a late retry or a dead-letter replay the same day, then expires.
BLOB_TTL_S = 24 * 3_600
#: Blobs are written and read in chunks of this size: neither side holds the whole payload.
CHUNK_BYTES = 1024 * 1024
#: Redis refuses a string above 512 MB (proto-max-bulk-len); stay clear of it.
MAX_BLOB_BYTES = 500 * 1024 * 1024
#: Payloads the worker reads are spooled to a temp file above this size.
SPOOL_MEMORY_BYTES = 8 * 1024 * 1024
#: Environment variable naming a directory: use the file blob store instead of Redis.
BLOB_DIR_ENV = "COOKBOOK_BLOB_DIR"


def blob_key(namespace: str, blob_id: str) -> str:
    return f"{namespace}:blob:{blob_id}"


def results_key(namespace: str) -> str:
    return f"{namespace}:large:results"
