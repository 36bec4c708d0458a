"""One error type per way a sandboxed job can fail; the base class picks retry or dead-letter.

| error                   | means                                   | policy                    |
|-------------------------|-----------------------------------------|---------------------------|
| `SandboxTimeout`        | over the hard time limit; child killed  | transient, bounded retries|
| `SandboxCrashed`        | child died: signal (segfault) or exit   | transient, bounded retries|
| `SandboxMemoryExceeded` | MemoryError under the child's RLIMIT_AS | permanent: dead-letter now|
| `SandboxUnavailable`    | the pool itself broke (it is replaced)  | transient                 |
| `SandboxJobFailed`      | job code raised a ``PermanentError``    | permanent: dead-letter now|
| `SandboxJobError`       | job code raised anything else           | transient                 |

Exceptions from job code come back as plain data (type name + text), never as pickled
objects: one that fails to unpickle in the parent breaks the whole pebble pool.
"""

from __future__ import annotations

import signal

from common.errors import JobError, PermanentError, TransientError


class SandboxError(JobError):
    """Base class: the sandbox, not the job's own code, ended the job."""


class SandboxTimeout(SandboxError, TransientError):
    def __init__(self, task: str, limit_s: float) -> None:
        super().__init__(f"{task} ran over its {limit_s:g} s time limit; the child was killed")
        self.task, self.limit_s = task, limit_s


class SandboxCrashed(SandboxError, TransientError):
    """The child died mid-job. ``signal`` is set when a signal killed it, else ``exit_code``."""

    def __init__(self, task: str, exitcode: int | None) -> None:
        self.task, self.exit_code = task, exitcode
        self.signal: str | None = None
        if exitcode is not None and exitcode < 0:
            try:
                self.signal = signal.Signals(-exitcode).name
            except ValueError:
                self.signal = f"signal {-exitcode}"
            how = f"was killed by {self.signal}"
        else:
            how = f"exited with status {exitcode}"
        super().__init__(f"the child running {task} {how}")


class SandboxMemoryExceeded(SandboxError, PermanentError):
    def __init__(self, task: str, limit_mb: int | None) -> None:
        super().__init__(f"{task} needed more memory than the child's {limit_mb} MB limit")
        self.task, self.limit_mb = task, limit_mb


class SandboxUnavailable(SandboxError, TransientError):
    """The pool could not take the job (broken or stopped); a new pool is made next time."""


class SandboxJobFailed(SandboxError, PermanentError):
    """The job's own code raised a ``PermanentError`` in the child."""

    def __init__(self, task: str, type_name: str, message: str) -> None:
        super().__init__(f"{task} raised {type_name}: {message}")
        self.task, self.type_name = task, type_name


class SandboxJobError(SandboxError, TransientError):
    """The job's own code raised some other exception in the child."""

    def __init__(self, task: str, type_name: str, message: str) -> None:
        super().__init__(f"{task} raised {type_name}: {message}")
        self.task, self.type_name = task, type_name
