"""Broker factory: a RedisBroker with an explicit connection pool and a documented stack.

Why not ``RedisBroker(url=...)``: with ``url=`` every other client option (pool size,
timeouts, retries) is silently ignored, so the pool is built here and passed as ``client``.

What this broker adds to Dramatiq's:
* **Fail fast.** ``send()`` while Redis is unreachable raises ``BrokerUnavailable`` within
  about 2 s (short connect timeout, one quick retry) naming the host, never the password.
* **Undecodable messages** (garbage bytes, JSON of the wrong shape) are dead-lettered with
  their reason and removed; stock Dramatiq leaves them stuck in the in-flight set forever.
* **Fork safety.** redis-py pools notice a fork (pid check) and open fresh connections in
  the child; each ``dramatiq`` worker process imports the module and builds its own broker.
* **Reconnects.** Consumer errors map to ``ConnectionClosed``, which makes Dramatiq's
  consumer threads reconnect every second until Redis is back.

Middleware stack (order matters: ``after_*`` hooks run bottom-up):
AgeLimit, TimeLimit, ShutdownNotifications, Callbacks, Pipelines, CurrentMessage,
GracefulShutdown, CrashRecovery, DeadLetters, LogContext, RedisSetupCheck, RetryPolicy,
then ``extra``.

Copy with: settings.py, errors.py, retry.py, deadletter.py, recovery.py, shutdown.py,
logging.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.errors import BrokerConnectionError, BrokerError
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    CurrentMessage,
    Middleware,
    Pipelines,
    ShutdownNotifications,
    TimeLimit,
)
from redis.backoff import ConstantBackoff
from redis.retry import Retry

from common.consumer import CookbookConsumer
from common.deadletter import DeadLetter, DeadLetters, DeadLetterStore
from common.logging import LogContext, install_message_redaction
from common.recovery import CrashRecovery
from common.redis_checks import RedisSetupCheck
from common.retry import RetryPolicy
from common.settings import Settings, get_settings
from common.shutdown import GracefulShutdown

log = logging.getLogger(__name__)
_REDIS_DOWN = (redis.ConnectionError, redis.TimeoutError)


class BrokerUnavailable(BrokerConnectionError):
    """Redis could not be reached (or refused the credentials); nothing was enqueued."""


class BrokerFull(BrokerError):
    """Redis is at ``maxmemory`` with ``noeviction``: it refuses writes, nothing was enqueued."""


class MessageTooLarge(ValueError):
    """The encoded message is over ``COOKBOOK_MAX_MESSAGE_BYTES``: use a claim check."""


def redis_failure(exc: redis.RedisError) -> tuple[type[BrokerError], str, str] | None:
    """Which broker error a failed Redis write becomes: (class, what Redis did, detail).

    None when the error is not about reaching or filling Redis.

    Shared by every path that writes jobs (``enqueue``, bulk writes, Lua schedulers) so a
    caller sees the same error classes whichever path failed.
    """
    if isinstance(exc, redis.AuthenticationError):
        return BrokerUnavailable, "refused the credentials", type(exc).__name__
    if isinstance(exc, _REDIS_DOWN):
        return BrokerUnavailable, "is unreachable", f"{type(exc).__name__}: {exc}"
    if isinstance(exc, redis.exceptions.OutOfMemoryError) or str(exc).startswith("OOM"):
        return BrokerFull, "is out of memory", "maxmemory reached, noeviction"
    return None


class CookbookBroker(RedisBroker):
    """RedisBroker that fails fast on send and dead-letters undecodable messages."""

    safe_url: str = "redis"
    dead_letters: DeadLetterStore
    max_message_bytes: int = 1_048_576

    @property
    def consumer_class(self) -> type[CookbookConsumer]:
        return CookbookConsumer

    def enqueue(self, message: dramatiq.Message[Any], *, delay: int | None = None) -> Any:
        try:
            return super().enqueue(message, delay=delay)
        except redis.RedisError as exc:
            mapped = redis_failure(exc)
            if mapped is None:
                raise
            error, text, detail = mapped
            raise error(f"Redis at {self.safe_url} {text}; message {message.message_id} for "
                        f"{message.actor_name!r} was not enqueued ({detail})") from None

    def do_enqueue(self, queue_name: str, redis_id: str, data: bytes) -> Any:
        if len(data) > self.max_message_bytes:
            raise MessageTooLarge(
                f"message for queue {queue_name!r} is {len(data)} bytes, over the "
                f"{self.max_message_bytes}-byte limit (COOKBOOK_MAX_MESSAGE_BYTES); store the "
                "payload outside the message (see recipes/large_payloads)")
        return self._dispatch("enqueue")(queue_name, redis_id, data)

    def do_fetch(self, queue_name: str, count: int) -> list[bytes]:
        """Fetch as Dramatiq does, then dead-letter payloads over the size limit unread."""
        payloads: list[bytes] = self._dispatch("fetch")(queue_name, count)
        if not any(p is not None and len(p) > self.max_message_bytes for p in payloads):
            return payloads
        keep = []
        for payload in payloads:
            if payload is not None and len(payload) > self.max_message_bytes:
                self.reject_raw(queue_name, payload, "MessageTooLarge",
                                f"message too large: {len(payload)} bytes > "
                                f"{self.max_message_bytes}")
            else:
                keep.append(payload)
        return keep

    def reject_raw(self, queue_name: str, raw: bytes, error_type: str, reason: str) -> None:
        """Dead-letter a fetched payload this worker cannot or must not process, then ack it."""
        acks = f"{self.namespace}:__acks__.{self.broker_id}.{queue_name}"
        messages = f"{self.namespace}:{queue_name}.msgs"
        # Dramatiq's fetch returns payloads without ids: find the id by length, then content.
        redis_id = next((i for i in self.client.smembers(acks)
                         if self.client.hstrlen(messages, i) == len(raw)
                         and self.client.hget(messages, i) == raw), None)
        recorded = False
        for middleware in self.middleware:
            if isinstance(middleware, DeadLetters):
                middleware.record_raw(self, queue_name, raw, error_type, reason)
                recorded = True
        if redis_id is not None:
            rid = redis_id.decode() if isinstance(redis_id, bytes) else redis_id
            (self.do_ack if recorded else self.do_nack)(queue_name, rid)
        log.error("dead-lettered a message on %s: %s", queue_name, reason)


def make_client(settings: Settings | None = None, *, pool_size: int | None = None) -> redis.Redis:
    """A redis client with an explicit, bounded pool and fail-fast timeouts (bytes replies)."""
    settings = settings or get_settings()
    pool = redis.ConnectionPool.from_url(
        settings.redis_url,
        max_connections=pool_size or settings.pool_size,
        socket_connect_timeout=settings.connect_timeout_s,
        socket_timeout=settings.socket_timeout_s,
        socket_keepalive=True,
        health_check_interval=15,
        retry=Retry(ConstantBackoff(0.1), retries=1),
        retry_on_error=[redis.ConnectionError, redis.TimeoutError],
    )
    # Waiting for a free pooled connection must not hang forever either.
    return redis.Redis(connection_pool=pool)


def make_broker(
    settings: Settings | None = None,
    *,
    client: redis.Redis | None = None,
    extra_middleware: Sequence[Middleware] = (),
    on_dead: Callable[[DeadLetter], None] | None = None,
    retry_policy: RetryPolicy | None = None,
    time_limit_ms: int = 10 * 60_000,
) -> CookbookBroker:
    """Build the broker every recipe uses. Call ``dramatiq.set_broker`` before declaring actors."""
    settings = settings or get_settings()
    install_message_redaction()
    client = client or make_client(settings)
    store = DeadLetterStore(
        client, settings.namespace,
        max_age_days=settings.dead_letter_max_age_days, max_count=settings.dead_letter_max_count,
    )
    middleware: list[Middleware] = [
        AgeLimit(),
        TimeLimit(time_limit=time_limit_ms),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        CurrentMessage(),
        GracefulShutdown(),
        CrashRecovery(heartbeat_timeout_ms=settings.heartbeat_timeout_ms,
                      interval_ms=settings.recovery_interval_ms),
        DeadLetters(store, on_dead=on_dead),
        LogContext(),
        RedisSetupCheck(settings.critical_queues),
        retry_policy or RetryPolicy(),
        *extra_middleware,
    ]
    broker = CookbookBroker(
        client=client,
        namespace=settings.namespace,
        middleware=middleware,
        heartbeat_timeout=settings.heartbeat_timeout_ms,
    )
    broker.safe_url = settings.redis_url_safe
    broker.max_message_bytes = settings.max_message_bytes
    broker.dead_letters = store
    return broker

