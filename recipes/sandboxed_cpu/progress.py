"""Progress from inside a child, written straight to Redis (best effort).

Why Redis and not a ``multiprocessing.Queue``: the sandbox kills children (time limit),
and a child killed while its queue feeder holds the queue's shared lock leaves that lock
taken for ever; every other child's progress then blocks (the multiprocessing docs warn
that terminating a process can break the queues and locks it was using). A Redis
connection dies with its child and harms nobody else. Readers (the actor, a CLI, the
dashboard) read the same hash.
"""

from __future__ import annotations

import logging
import os
import time

import redis

from recipes.sandboxed_cpu import RESULT_TTL_S, progress_key

log = logging.getLogger(__name__)
_target: tuple[redis.Redis, str] | None = None
_job_id: str | None = None


def init_progress(redis_url: str, namespace: str) -> None:
    """Child hook (``Sandbox(child_hook=...)``): where this child reports progress."""
    global _target
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=2)
    _target = (client, namespace)


def set_job(job_id: str | None) -> None:
    global _job_id
    _job_id = job_id


def report(done: int, total: int) -> None:
    """Called by job code in the child; never fails the job."""
    if _target is None or _job_id is None:
        return
    client, namespace = _target
    key = progress_key(namespace, _job_id)
    try:
        pipe = client.pipeline(transaction=True)
        pipe.hset(key, mapping={"done": done, "total": total, "child_pid": os.getpid(),
                                "at_ms": int(time.time() * 1000)})
        pipe.expire(key, RESULT_TTL_S)
        pipe.execute()
    except redis.RedisError as exc:
        log.warning("progress for %s not written: %s", _job_id, exc)


def read(client: redis.Redis, namespace: str, job_id: str) -> dict[str, int] | None:
    raw: dict[bytes, bytes] = client.hgetall(progress_key(namespace, job_id))  # type: ignore[assignment]
    return {k.decode(): int(v) for k, v in raw.items()} or None
