"""Typed jobs: an actor whose single argument is a pydantic model.

    class Deposit(BaseModel):
        account: str
        amount_cents: int

    @typed_actor(broker=broker, queue_name="payments", max_retries=3)
    def apply_deposit(job: Deposit) -> None: ...

    apply_deposit.send(Deposit(account="a1", amount_cents=500))

* **At send**: the payload is validated (a model instance is re-validated, a dict is
  parsed). Invalid input raises ``pydantic.ValidationError`` naming the field and nothing is
  enqueued. Only JSON goes on the wire (``model_dump(mode="json")``).
* **At receive**: the JSON is validated again; an old or corrupt payload raises
  ``PermanentError`` and goes straight to the dead-letter queue, with no retries.
* Type checkers see ``send(job: Deposit)`` at the call site.

Copy with: ``common/errors.py``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, Generic, TypeVar, get_type_hints

import dramatiq
from pydantic import BaseModel, ValidationError

from common.errors import PermanentError

M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")


class InvalidJobPayload(PermanentError):
    """A received payload failed validation: a permanent error, never retried."""


class TypedActor(Generic[M, R]):
    """Wraps a Dramatiq actor so that its payload is a pydantic model at both ends."""

    def __init__(self, actor: dramatiq.Actor[Any, Any], model: type[M],
                 fn: Callable[[M], R]) -> None:
        self.actor = actor
        self.model = model
        self.fn = fn

    @property
    def actor_name(self) -> str:
        return self.actor.actor_name

    @property
    def queue_name(self) -> str:
        return self.actor.queue_name

    def validate(self, job: M | Mapping[str, Any]) -> M:
        data = job.model_dump() if isinstance(job, BaseModel) else job
        return self.model.model_validate(data)

    def message(self, job: M | Mapping[str, Any], **options: Any) -> dramatiq.Message[Any]:
        payload = self.validate(job).model_dump(mode="json")
        return self.actor.message_with_options(args=(payload,), **options)

    def send(self, job: M) -> dramatiq.Message[Any]:
        return self.send_with_options(job)

    def send_with_options(self, job: M | Mapping[str, Any], *,
                          delay: int | timedelta | None = None,
                          **options: Any) -> dramatiq.Message[Any]:
        if isinstance(delay, timedelta):
            delay = int(delay.total_seconds() * 1000)
        return self.actor.broker.enqueue(self.message(job, **options), delay=delay)

    def __call__(self, job: M) -> R:
        """Run the job body in this thread (tests, notebooks)."""
        return self.fn(self.validate(job))


def model_of(fn: Callable[..., Any]) -> type[BaseModel]:
    params = list(inspect.signature(fn).parameters)
    if len(params) != 1:
        raise TypeError(f"typed actor {fn.__name__} must take exactly one argument, the job model")
    hint = get_type_hints(fn).get(params[0])
    if not (isinstance(hint, type) and issubclass(hint, BaseModel)):
        raise TypeError(f"{fn.__name__}({params[0]}) must be annotated with a pydantic model")
    return hint


def typed_actor(
    *, broker: dramatiq.Broker, actor_name: str | None = None, queue_name: str = "default",
    priority: int = 0, **options: Any,
) -> Callable[[Callable[[M], R]], TypedActor[M, R]]:
    """Declare ``fn(job: Model)`` as an actor on ``broker`` (explicit: no global broker trap)."""

    def decorate(fn: Callable[[M], R]) -> TypedActor[M, R]:
        model: type[M] = model_of(fn)  # type: ignore[assignment]
        name = actor_name or fn.__name__

        def receive(payload: Any) -> R:
            try:
                job = model.model_validate(payload)
            except ValidationError as exc:
                raise InvalidJobPayload(f"{name}: payload is not a valid {model.__name__}: {exc}") \
                    from None
            return fn(job)

        receive.__name__ = receive.__qualname__ = name
        actor: dramatiq.Actor[Any, Any] = dramatiq.actor(
            broker=broker, actor_name=name, queue_name=queue_name, priority=priority, **options
        )(receive)
        return TypedActor(actor, model, fn)

    return decorate
