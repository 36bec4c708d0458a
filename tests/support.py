"""Test helpers shared by the suite (imported by conftest and by tests)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")


def wait_until(predicate: Callable[[], T], *, timeout: float = 10.0, interval: float = 0.05,
               message: str | Callable[[], str] = "condition") -> T:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            text = message() if callable(message) else message
            raise AssertionError(f"timed out after {timeout:.1f}s waiting for: {text}")
        time.sleep(interval)


class CliWorker:
    """A real ``dramatiq`` CLI worker in a subprocess (own process group)."""

    def __init__(self, module: str, *, env: Mapping[str, str], log_path: Path,
                 processes: int = 1, threads: int = 8, queues: Sequence[str] = (),
                 shutdown_timeout_ms: int = 30_000, extra_args: Sequence[str] = ()) -> None:
        self.module = module
        self.processes = processes
        self.log_path = log_path
        args = [sys.executable, "-m", "dramatiq", module, "-p", str(processes), "-t", str(threads),
                "--worker-shutdown-timeout", str(shutdown_timeout_ms), *extra_args]
        if queues:
            args += ["-Q", *queues]
        self.args = args
        self.env = {**os.environ, **env, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, *, ready_timeout: float = 30.0) -> CliWorker:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        offset = self.log_path.stat().st_size
        self.proc = subprocess.Popen(self.args, env=self.env, cwd=ROOT, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(lambda: self._ready(offset) or self._died(), timeout=ready_timeout,
                   message=lambda: f"{self.module} to boot; log tail:\n{self.log_tail()}")
        if self.proc.poll() is not None:
            raise AssertionError(f"worker exited with {self.proc.returncode}:\n{self.log_tail()}")
        return self

    def _ready(self, offset: int) -> bool:
        text = self.log_path.read_bytes()[offset:].decode(errors="replace")
        return text.count("is ready for action") >= self.processes

    def _died(self) -> bool:
        return self.proc is not None and self.proc.poll() is not None

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_bytes()[-chars:].decode(errors="replace")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def terminate(self) -> None:
        """First SIGTERM: graceful shutdown, as an orchestrator sends it."""
        os.kill(self.pid, signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL the whole group: main process and every worker process, no cleanup."""
        os.killpg(self.pid, signal.SIGKILL)
        assert self.proc is not None
        self.proc.wait(10)

    def wait(self, timeout: float = 60.0) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        if hasattr(self, "_log"):
            self._log.close()
