"""Code that runs inside each pool child: limits at start, and the envelope around each job.

Kept apart from the parent-side code so the forkserver preloads as little as possible.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import resource
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from common.errors import PermanentError

PR_SET_PDEATHSIG = 1  # linux/prctl.h
#: Every envelope carries this mark: a result without it means the child did not finish.
MARK = "sandboxed_cpu/envelope/1"
#: What ``os._exit(0)`` during a job becomes. Pebble reads status 0 as a child retiring
#: normally and would wait for the time limit; a non-zero status is reported at once.
EXIT_ZERO_IN_JOB = 213

_real_exit = os._exit
_in_job = False


def limit_memory(memory_mb: int) -> None:
    """Cap the address space: a bigger allocation raises MemoryError in this child only."""
    limit = memory_mb * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def die_with_parent() -> None:
    """Linux: SIGKILL this child when its parent dies, so a SIGKILLed worker leaves no
    orphan spinning on a CPU (a child busy in a loop never reads its closed pipe)."""
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _guarded_exit(status: int) -> NoReturn:
    _real_exit(EXIT_ZERO_IN_JOB if _in_job and status == 0 else status)


def init_child(memory_mb: int | None, hook: Callable[..., Any] | None,
               hook_args: Sequence[Any]) -> None:
    """Pebble's ``initializer``: runs once per child, before any job."""
    die_with_parent()
    if memory_mb:
        limit_memory(memory_mb)
    os._exit = _guarded_exit
    if hook is not None:
        hook(*hook_args)


def envelope(fn: Callable[..., Any], args: Sequence[Any]) -> dict[str, Any]:
    """Run one job and always return plain data: an exception object from job code may not
    unpickle in the parent, and pebble then marks the whole pool broken."""
    global _in_job
    _in_job = True
    out: dict[str, Any] = {"mark": MARK, "child_pid": os.getpid()}
    try:
        return {**out, "ok": True, "value": fn(*args)}
    except SystemExit as exc:  # sys.exit() in job code: the child would have ended
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        return {**out, "ok": False, "kind": "exit", "code": code}
    except MemoryError:
        return {**out, "ok": False, "kind": "memory"}
    except Exception as exc:
        kind = "permanent" if isinstance(exc, PermanentError) else "error"
        return {**out, "ok": False, "kind": kind, "type": type(exc).__name__,
                "message": str(exc)[:2_000]}
    finally:
        _in_job = False
