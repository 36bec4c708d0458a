"""A pebble ``ProcessPool`` with a hard time limit, a memory limit and typed failures.

The pool belongs to one worker process: it is made lazily (or by the ``SandboxLifecycle``
middleware at worker boot), never at import, so a ``dramatiq`` parent never forks it.
Children start from a **forkserver**, a clean single-threaded process: forking the worker
itself (pebble's default on Linux) would copy a process whose other threads may hold locks
(logging, redis pool, allocator) at that instant, and the child could deadlock on them.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Callable, Sequence
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from pebble import ProcessExpired, ProcessPool

from recipes.sandboxed_cpu import DEFAULT_MAX_TASKS, DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_S
from recipes.sandboxed_cpu.child import EXIT_ZERO_IN_JOB, MARK, envelope, init_child
from recipes.sandboxed_cpu.errors import (
    SandboxCrashed,
    SandboxJobError,
    SandboxJobFailed,
    SandboxMemoryExceeded,
    SandboxTimeout,
    SandboxUnavailable,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


class Sandbox:
    def __init__(self, *, processes: int = 2, memory_mb: int | None = DEFAULT_MEMORY_MB,
                 timeout_s: float = DEFAULT_TIMEOUT_S, max_tasks: int = DEFAULT_MAX_TASKS,
                 start_method: str = "forkserver", preload: Sequence[str] = (),
                 child_hook: Callable[..., Any] | None = None,
                 child_hook_args: Sequence[Any] = ()) -> None:
        if processes < 1 or timeout_s <= 0 or max_tasks < 0:
            raise ValueError("need processes >= 1, timeout_s > 0 and max_tasks >= 0")
        if memory_mb is not None and memory_mb < 64:
            raise ValueError(f"memory_mb={memory_mb} is too small for a Python child (>= 64)")
        self.processes, self.memory_mb, self.timeout_s = processes, memory_mb, timeout_s
        self.max_tasks, self.start_method = max_tasks, start_method
        self.preload = ["recipes.sandboxed_cpu.child", *preload]
        self._initargs = (memory_mb, child_hook, tuple(child_hook_args))
        self._pool: ProcessPool | None = None
        self._lock = threading.Lock()

    def start(self) -> ProcessPool:
        with self._lock:
            if self._pool is not None and not self._pool.active:
                # Pebble marks the whole pool broken when a child dies with no job on it.
                log.warning("sandbox pool is broken; replacing it")
                self._pool.stop()
                self._pool = None
            if self._pool is None:
                context = multiprocessing.get_context(self.start_method)
                if self.start_method == "forkserver":
                    # Imported once in the forkserver, so each new child forks in milliseconds.
                    context.set_forkserver_preload(self.preload)
                self._pool = ProcessPool(max_workers=self.processes, max_tasks=self.max_tasks,
                                         initializer=init_child, initargs=self._initargs,
                                         context=context)
            return self._pool

    def stop(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.stop()
            pool.join(timeout=10)

    def _discard(self, pool: ProcessPool) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.stop()

    def run(self, fn: Callable[..., T], *args: Any, timeout_s: float | None = None,
            name: str | None = None) -> T:
        """Run ``fn(*args)`` in a child; return its result or raise a ``Sandbox*`` error.

        ``fn``, its arguments and its result must pickle (module-level function, plain data).
        """
        task = name or str(getattr(fn, "__name__", "job"))
        limit = timeout_s or self.timeout_s
        pool = self.start()
        try:
            future = pool.schedule(envelope, args=(fn, args), timeout=limit)
        except RuntimeError as exc:  # the pool broke or stopped between start() and here
            self._discard(pool)
            raise SandboxUnavailable(f"sandbox pool not running ({exc}); retry") from None
        try:
            out = future.result()
        except ProcessExpired as exc:
            code = 0 if exc.exitcode == EXIT_ZERO_IN_JOB else exc.exitcode
            raise SandboxCrashed(task, code) from None
        except TimeoutError:  # job code's own errors come back in the envelope instead
            raise SandboxTimeout(task, limit) from None
        except BrokenProcessPool as exc:
            log.error("sandbox pool broke (%s); a new one is made for the next job", exc)
            self._discard(pool)
            raise SandboxUnavailable(f"sandbox pool broke while running {task}") from None
        except BaseException:
            # Worker shutdown or Dramatiq's time limit hit this thread: stop the child too.
            future.cancel()
            raise
        return self._unwrap(task, out)

    def _unwrap(self, task: str, out: Any) -> Any:
        if not isinstance(out, dict) or out.get("mark") != MARK:
            raise SandboxCrashed(task, 0)  # no envelope: the child did not finish the job
        if out["ok"]:
            return out["value"]
        kind = out["kind"]
        if kind == "exit":
            raise SandboxCrashed(task, out["code"])
        if kind == "memory":
            raise SandboxMemoryExceeded(task, self.memory_mb)
        error = SandboxJobFailed if kind == "permanent" else SandboxJobError
        raise error(task, out["type"], out["message"])
