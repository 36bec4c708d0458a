"""Structured (JSON) logs that carry the message id, actor, queue and attempt.

``configure_logging()`` installs a JSON formatter on the root logger; the
``LogContext`` middleware puts the current message's fields into every log record
written while it runs, from any module, through a ``contextvars`` variable.

Copy alone: standard library + dramatiq.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from collections.abc import Callable
from typing import Any

import dramatiq
from dramatiq.middleware import Middleware

_current: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "cookbook_job", default=None
)
_FIELDS = ("message_id", "actor", "queue", "attempt")


class JobContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        job = _current.get()
        for field in _FIELDS:
            setattr(record, field, job.get(field) if job else None)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for field in _FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                entry[field] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: int | str = logging.INFO, *, json_output: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(JobContextFilter())
    handler.setFormatter(JsonFormatter() if json_output else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s [%(actor)s %(message_id)s #%(attempt)s] %(message)s"
    ))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def current_job() -> dict[str, Any] | None:
    """The fields of the message this thread is processing, if any."""
    return _current.get()


class LogContext(Middleware):
    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        _current.set({
            "message_id": message.message_id,
            "actor": message.actor_name,
            "queue": message.queue_name,
            "attempt": message.options.get("retries", 0) + 1,
            "started": time.monotonic(),
        })

    def after_process_message(self, broker: dramatiq.Broker, message: Any, *,
                              result: Any = None, exception: BaseException | None = None) -> None:
        _current.set(None)

    after_skip_message = after_process_message


def _safe(arg: Any) -> Any:
    if isinstance(arg, dramatiq.Message) or type(arg).__name__ == "MessageProxy":
        return f"{arg.actor_name}#{arg.message_id}"
    return arg


_previous_factory: Callable[..., logging.LogRecord] | None = None


def install_message_redaction() -> None:
    """Keep job payloads out of every log line, whoever configures logging.

    Dramatiq logs messages with their arguments ("Failed to process message
    signup('ada@example.com', password='...')"); payloads may hold secrets or personal data.
    This record factory replaces any message passed as a log argument with ``actor#id``.
    """
    global _previous_factory
    if _previous_factory is not None:
        return
    _previous_factory = logging.getLogRecordFactory()
    previous = _previous_factory

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(_safe(a) for a in record.args)
        return record

    logging.setLogRecordFactory(factory)
