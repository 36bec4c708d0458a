"""The progress stream: one Lua call per event (write + snapshot + retention), and a reader.

Why a stream and not pub/sub: a pub/sub message is lost by anyone not connected at that
instant, while a stream keeps events with ids, so a reader that disconnects resumes with
``XREAD`` from the last id it saw (BullMQ's ``QueueEvents`` does the same).
Keys: ``<ns>:progress:{<message id>}:events`` (stream) and ``...:state`` (latest snapshot).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import redis

from recipes.progress_tracking import FINAL_KINDS, FINAL_TTL_S, RUNNING_TTL_S, STREAM_MAXLEN, keys
from recipes.progress_tracking.models import Kind, ProgressEvent

MAX_DATA_BYTES = 4_096
RECONNECT_FOR_S = 60.0

# KEYS: events, state. ARGV: kind, percent ('' = none), message, data, attempt, maxlen, ttl.
_PUBLISH = """
local seq = redis.call('hincrby', KEYS[2], 'seq', 1)
local t = redis.call('time')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local id = redis.call('xadd', KEYS[1], 'MAXLEN', ARGV[6], '*', 'seq', seq, 'kind', ARGV[1],
  'percent', ARGV[2], 'message', ARGV[3], 'data', ARGV[4], 'attempt', ARGV[5], 'ts', ms)
redis.call('hset', KEYS[2], 'kind', ARGV[1], 'message', ARGV[3], 'attempt', ARGV[5],
  'updated_ms', ms, 'last_id', id)
if ARGV[2] ~= '' then redis.call('hset', KEYS[2], 'percent', ARGV[2], 'data', ARGV[4]) end
redis.call('expire', KEYS[1], ARGV[7])
redis.call('expire', KEYS[2], ARGV[7])
return id
"""


class ProgressTimeout(TimeoutError):
    """No event arrived within the reader's timeout (unknown id, not started, or expired)."""


class ProgressStream:
    def __init__(self, client: redis.Redis, namespace: str, *, maxlen: int = STREAM_MAXLEN,
                 running_ttl_s: int = RUNNING_TTL_S, final_ttl_s: int = FINAL_TTL_S) -> None:
        self.client = client
        self.namespace = namespace
        self.maxlen = maxlen
        self.running_ttl_s = running_ttl_s
        self.final_ttl_s = final_ttl_s
        self._publish = client.register_script(_PUBLISH)

    def keys(self, message_id: str) -> dict[str, str]:
        return keys(self.namespace, message_id)

    def publish(self, message_id: str, kind: Kind, *, percent: float | None = None,
                message: str = "", data: dict[str, Any] | None = None, attempt: int = 1) -> str:
        """Append one event; returns its stream id. Bad values raise ``ValueError``."""
        if percent is not None and not 0 <= percent <= 100:
            raise ValueError(f"progress percent must be within 0..100, got {percent}")
        body = json.dumps(data or {}, separators=(",", ":"))  # TypeError if not JSON
        if len(body) > MAX_DATA_BYTES:
            raise ValueError(f"progress data is {len(body)} bytes of JSON, over {MAX_DATA_BYTES}")
        k = self.keys(message_id)
        ttl = self.final_ttl_s if kind in FINAL_KINDS else self.running_ttl_s
        pct = "" if percent is None else repr(float(percent))
        raw = self._publish(keys=[k["events"], k["state"]],
                            args=[kind, pct, message[:500], body, attempt, self.maxlen, ttl])
        return raw.decode() if isinstance(raw, bytes) else str(raw)

    def history(self, message_id: str) -> list[ProgressEvent]:
        entries: Any = self.client.xrange(self.keys(message_id)["events"])
        return [_event(i, f) for i, f in entries]

    def state(self, message_id: str) -> dict[str, str]:
        raw: dict[bytes, bytes] = self.client.hgetall(self.keys(message_id)["state"])  # type: ignore[assignment]
        return {k.decode(): v.decode() for k, v in raw.items()}

    def follow(self, message_id: str, *, after: str = "0-0", block_ms: int = 1_000,
               timeout_s: float | None = None,
               reconnect_for_s: float = RECONNECT_FOR_S) -> Iterator[ProgressEvent]:
        """Yield events after ``after`` as they come, until the final one.

        Survives disconnects: on a connection error it retries for ``reconnect_for_s`` and
        goes on from the last id it yielded, so no event is skipped or repeated.
        """
        stream = self.keys(message_id)["events"]
        last, expected = after, 1 if after == "0-0" else self._seq_after(stream, after)
        quiet_since = time.monotonic()
        down_since: float | None = None
        while True:
            try:
                reply = self.client.xread({stream: last}, count=100, block=block_ms)
            except (redis.ConnectionError, redis.TimeoutError):
                down_since = down_since or time.monotonic()
                if time.monotonic() - down_since > reconnect_for_s:
                    raise
                time.sleep(0.2)
                continue
            down_since = None
            entries: Any = reply[0][1] if reply else []  # type: ignore[index]
            for entry_id, fields in entries:
                event = _event(entry_id, fields)
                if expected is not None and event.seq > expected:
                    event.missed = event.seq - expected
                expected, last = event.seq + 1, event.stream_id
                quiet_since = time.monotonic()
                yield event
                if event.final:
                    return
            if timeout_s is not None and time.monotonic() - quiet_since > timeout_s:
                raise ProgressTimeout(f"no progress event for message {message_id} in "
                                      f"{timeout_s:g}s (unknown id, not started, or expired)")

    def _seq_after(self, stream: str, after: str) -> int | None:
        """The seq expected after entry ``after``; None if it was trimmed (gap unknown)."""
        entries: Any = self.client.xrange(stream, after, after)
        return _event(*entries[0]).seq + 1 if entries else None


def _s(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _event(entry_id: Any, fields: Any) -> ProgressEvent:  # redis-py replies are untyped
    f = {_s(k): _s(v) for k, v in fields.items()}
    return ProgressEvent(stream_id=_s(entry_id), seq=int(f["seq"]), kind=f["kind"],  # type: ignore[arg-type]
                         percent=float(f["percent"]) if f.get("percent") else None,
                         message=f.get("message", ""), data=json.loads(f.get("data") or "{}"),
                         attempt=int(f.get("attempt", 1)), ts_ms=int(f.get("ts", 0)))
