"""Lifecycle events for actors declared with ``progress=True``: started, retrying, deferred,
completed, failed. The job itself only reports its steps (``Reporter.update``).

It sits *before* ``RetryPolicy`` in the stack, so its ``after_process_message`` runs after
the retry decision (Dramatiq runs ``after_*`` hooks bottom-up) and knows whether the job
failed for good (``message.failed``) or will run again.
"""

from __future__ import annotations

import logging
from typing import Any

import dramatiq
from dramatiq.middleware import CurrentMessage, Middleware

from common.retry import RetryPolicy, classify
from recipes.progress_tracking.models import Kind
from recipes.progress_tracking.stream import ProgressStream

log = logging.getLogger(__name__)


class ProgressEvents(Middleware):
    @property
    def actor_options(self) -> set[str]:
        return {"progress"}

    def _stream(self, broker: dramatiq.Broker) -> ProgressStream:
        return ProgressStream(broker.client, broker.namespace)  # type: ignore[attr-defined]

    def _tracked(self, broker: dramatiq.Broker, message: Any) -> bool:
        try:
            return bool(broker.get_actor(message.actor_name).options.get("progress"))
        except dramatiq.ActorNotFound:
            return False

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        if self._tracked(broker, message):
            self._stream(broker).publish(message.message_id, "started",
                                         attempt=_attempt(message))

    def after_process_message(self, broker: dramatiq.Broker, message: Any, *,
                              result: Any = None, exception: BaseException | None = None) -> None:
        if not self._tracked(broker, message):
            return
        stream, attempt = self._stream(broker), _attempt(message)
        if exception is None:
            stream.publish(message.message_id, "completed", percent=100.0, attempt=attempt)
            return
        error = f"{type(exception).__name__}: {exception}"[:500]
        kind: Kind
        if message.failed:
            kind = "failed"
            error = f"{message.options.get('dead_reason', 'failed')} ({error})"
        elif classify(exception).kind == "defer":
            kind = "deferred"
        else:
            kind = "retrying"
        stream.publish(message.message_id, kind, message=error, attempt=attempt)


def _attempt(message: Any) -> int:
    return int(message.options.get("retries", 0)) + 1


def install(broker: dramatiq.Broker) -> None:
    """Add ``ProgressEvents`` once, just before ``RetryPolicy`` (see the module docstring)."""
    if not any(isinstance(m, ProgressEvents) for m in broker.middleware):
        has_policy = any(isinstance(m, RetryPolicy) for m in broker.middleware)
        broker.add_middleware(ProgressEvents(), before=RetryPolicy if has_policy else None)


class Reporter:
    """What a job calls between steps: ``reporter.update(40, "resizing", {"done": 4})``."""

    def __init__(self, stream: ProgressStream) -> None:
        self.stream = stream

    def update(self, percent: float, message: str = "", data: dict[str, Any] | None = None) -> str:
        current = CurrentMessage.get_current_message()
        if current is None:
            raise RuntimeError("Reporter.update needs a running message (CurrentMessage)")
        return self.stream.publish(current.message_id, "progress", percent=percent,
                                   message=message, data=data, attempt=_attempt(current))
