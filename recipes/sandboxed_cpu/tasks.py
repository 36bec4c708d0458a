"""The functions a job may run in the sandbox, by name (the message carries only JSON).

``burn`` is real CPU work; ``segfault``, ``exit``, ``allocate`` and ``spin`` misbehave on
purpose so tests and the tour can prove the sandbox contains them. In your project, keep
the registry idea and replace the functions.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable
from typing import Any

from common.errors import PermanentError
from recipes.sandboxed_cpu import progress

CHUNK_MB = 8


def burn(n: int) -> int:
    """Pure-Python CPU work, ``n`` loop steps (about 100 ms per 2M steps here)."""
    acc, step = 0, max(1, n // 10)
    for i in range(n):
        acc = (acc + i * i) % 1_000_003
        if i % step == step - 1:
            progress.report(i + 1, n)
    return acc


def noop() -> int:
    return 0


def segfault() -> int:
    return len(ctypes.string_at(0))  # reads address 0: SIGSEGV in the child


def hard_exit(code: int = 3) -> int:
    os._exit(code)  # no cleanup, no exception: the child just ends


def allocate(mb: int) -> int:
    """Hold ``mb`` MB in 8 MB chunks, so the limit stops it early instead of one huge ask."""
    chunks = [bytearray(CHUNK_MB * 1024 * 1024) for _ in range(max(1, mb // CHUNK_MB))]
    return sum(len(c) for c in chunks) // (1024 * 1024)


class OddError(Exception):
    """Needs two arguments, so it cannot be unpickled from its ``args``: the kind of
    exception that breaks a whole pebble pool if it crosses the pipe as an object."""

    def __init__(self, code: int, detail: str) -> None:
        super().__init__(f"odd error {code}: {detail}")


def fail(permanent: int) -> int:
    if permanent:
        raise PermanentError("bad input: this job can never succeed")
    raise OddError(7, "an exception object that does not unpickle")


def spin() -> int:
    while True:
        pass


TASKS: dict[str, Callable[..., int]] = {
    "burn": burn, "noop": noop, "segfault": segfault, "exit": hard_exit,
    "allocate": allocate, "spin": spin, "fail": fail,
}


def call(job_id: str, name: str, args: list[int]) -> dict[str, Any]:
    """Runs in the child: look the task up, run it, say which child did."""
    progress.set_job(job_id)
    try:
        value = TASKS[name](*args)
    finally:
        progress.set_job(None)
    return {"value": value, "child_pid": os.getpid()}
