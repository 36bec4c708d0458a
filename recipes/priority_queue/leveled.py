"""One job type, sent at a chosen level: one typed actor per level.

Dramatiq binds an actor to one queue, and orders the messages a worker holds in memory by
the *actor's* priority, so each level gets its own actor (``<name>_<level>``) on the level's
queue with priority ``index * PRIORITY_STEP``. Every job type at one level has the same
priority, so a worker's in-memory order within a level stays FIFO.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, TypeVar

import dramatiq
from dramatiq.middleware import CurrentMessage
from pydantic import BaseModel

from common.jobs import TypedActor, model_of, typed_actor
from recipes.priority_queue import PRIORITY_STEP, queue_name
from recipes.priority_queue.events import EventLog

M = TypeVar("M", bound=BaseModel)


class UnknownLevel(ValueError):
    """A send named a level this deployment does not have; nothing was enqueued."""


@dataclass(frozen=True)
class LeveledActor(Generic[M]):
    name: str
    levels: tuple[str, ...]
    default_level: str
    actors: dict[str, TypedActor[M, None]]

    def actor(self, level: str) -> TypedActor[M, None]:
        try:
            return self.actors[level]
        except KeyError:
            raise UnknownLevel(f"{self.name}: unknown priority level {level!r}; "
                               f"levels are {', '.join(self.levels)}") from None

    def send(self, job: M, *, level: str | None = None,
             delay: int | timedelta | None = None) -> dramatiq.Message[Any]:
        """Validate ``job`` and enqueue it on ``level``'s queue (``default_level`` if None)."""
        return self.actor(level or self.default_level).send_with_options(job, delay=delay)

    def queue(self, level: str) -> str:
        return self.actor(level).queue_name


def leveled_actor(
    *, broker: dramatiq.Broker, name: str, levels: tuple[str, ...], events: EventLog,
    default_level: str | None = None, **options: Any,
) -> Callable[[Callable[[M], None]], LeveledActor[M]]:
    """Declare ``fn(job: Model)`` once per level; every start and end goes to ``events``."""

    def decorate(fn: Callable[[M], None]) -> LeveledActor[M]:
        model = model_of(fn)
        actors = {
            level: typed_actor(broker=broker, actor_name=f"{name}_{level}",
                               queue_name=queue_name(level), priority=index * PRIORITY_STEP,
                               **options)(_logged(fn, model, level, events))
            for index, level in enumerate(levels)
        }
        default = default_level or levels[len(levels) // 2]
        if default not in actors:
            raise UnknownLevel(f"{name}: default level {default!r} is not one of {levels}")
        return LeveledActor(name, levels, default, actors)

    return decorate


def _logged(fn: Callable[[M], None], model: type[BaseModel], level: str,
            events: EventLog) -> Callable[[M], None]:
    def run(job: M) -> None:
        current = CurrentMessage.get_current_message()
        message_id = current.message_id if current is not None else "direct-call"
        events.record("start", level, message_id)
        try:
            fn(job)
        finally:
            events.record("end", level, message_id)

    # typed_actor reads the model from the annotation of the single parameter.
    run.__annotations__ = {"job": model, "return": None}
    run.__name__ = run.__qualname__ = fn.__name__
    return run
