"""Scheduler replicas as real subprocesses (``python -m recipes.recurring_cron.scheduler``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from common.settings import Settings
from recipes.recurring_cron.replicas import Replicas
from tests.support import ROOT, wait_until


class SchedulerProc:
    def __init__(self, env: dict[str, str], log_path: Path, replicas: Replicas) -> None:
        self.env = {**os.environ, **env, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        self.log_path = log_path
        self.replicas = replicas
        self.proc: subprocess.Popen[bytes] | None = None

    def spawn(self) -> SchedulerProc:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([sys.executable, "-m", "recipes.recurring_cron.scheduler"],
                                     env=self.env, cwd=ROOT, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def entry(self) -> dict[str, Any] | None:
        """This process's heartbeat entry (its replica id under ``"id"``), once it is up."""
        for rid, info in self.replicas.live().items():
            if self.proc is not None and info["pid"] == self.proc.pid:
                return {**info, "id": rid}
        return None

    def wait_ready(self, timeout: float = 60) -> dict[str, Any]:
        def up() -> dict[str, Any] | None:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"scheduler exited {self.proc.returncode}:\n{self.tail()}")
            return self.entry()

        return wait_until(up, timeout=timeout, message=lambda: f"replica up:\n{self.tail()}")

    @property
    def replica_id(self) -> str:
        entry = self.entry()
        assert entry is not None, "replica not up"
        return str(entry["id"])

    def tail(self, chars: int = 3000) -> str:
        return self.log_path.read_bytes()[-chars:].decode(errors="replace")

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        if hasattr(self, "_log"):
            self._log.close()


@pytest.fixture
def scheduler_proc(settings: Settings, settings_env: dict[str, str], tmp_path: Path,
                   redis_client: redis.Redis) -> Iterator[Callable[[], SchedulerProc]]:
    """``scheduler_proc()`` spawns one replica (call ``.wait_ready()``); all stopped at the end."""
    procs: list[SchedulerProc] = []
    replicas = Replicas(redis_client, settings.namespace, "test-observer")

    def spawn() -> SchedulerProc:
        proc = SchedulerProc(settings_env, tmp_path / f"scheduler-{len(procs)}.log", replicas)
        procs.append(proc)
        return proc.spawn()

    yield spawn
    for proc in procs:
        proc.stop()
