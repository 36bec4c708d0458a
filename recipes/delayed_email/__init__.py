"""Delayed email: short delays on Dramatiq's delay queue, long schedules in a Redis sorted set."""

QUEUE = "delayed_email"
#: Delays up to this go on Dramatiq's delay queue; longer ones wait in the Redis schedule.
SHORT_DELAY_MAX_MS = 10 * 60_000
#: A send must finish inside this lease: at least 8 x the SMTP timeout (5 s by default).
#: Only after a crash mid-send does anything wait for it (the redelivered copy).
IDEM_LEASE_MS = 60_000
#: Keep "this email was sent" for a week: later duplicates of it are still recognised.
IDEM_TTL_S = 7 * 86_400
#: How often each worker process's promoter looks for due emails, and how many per pass.
PROMOTE_INTERVAL_MS = 250
PROMOTE_BATCH = 500


def idem_name(email_id: str) -> str:
    """The idempotency key name (``common.idempotency`` stores it as ``<ns>:idem:<name>``)."""
    return f"email:{email_id}"


def keys(namespace: str) -> dict[str, str]:
    base = f"{namespace}:email"
    return {
        "records": f"{base}:records",    # hash: email id -> Record JSON (until sent/cancelled)
        "schedule": f"{base}:schedule",  # zset: email id -> due ms (long path only)
        "outbox": f"{base}:outbox",      # hash: email id -> encoded Dramatiq message (long path)
    }
