"""Throwaway ``redis-server`` processes for the tour, notebooks, benchmarks and tests.

Resolution used everywhere (``resolve_redis``): ``REDIS_URL`` when set, else a Redis
container when a Docker engine answers (testcontainers), else a ``redis-server`` from
PATH on a free port in a temporary directory.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import redis

START_TIMEOUT_S = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """A ``redis-server`` child process. Restartable on the same port and data dir."""

    def __init__(self, *, port: int | None = None, args: Sequence[str] = (),
                 directory: Path | None = None, config_file: Path | None = None) -> None:
        if shutil.which("redis-server") is None:
            raise RuntimeError("redis-server is not on PATH (apt-get install redis-server), "
                               "set REDIS_URL, or start a Docker engine")
        self.port = port or free_port()
        self.args = list(args)
        self.config_file = config_file
        self._tmp = None if directory else tempfile.TemporaryDirectory(prefix="cookbook-redis-")
        self.dir = directory or Path(self._tmp.name)  # type: ignore[union-attr]
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        # With a config file its settings stand; without one, nothing is written to disk.
        head = [str(self.config_file)] if self.config_file else [
            "--save", "", "--appendonly", "no"]
        cmd = ["redis-server", *head, "--port", str(self.port), "--bind", "127.0.0.1",
               "--dir", str(self.dir), "--logfile", str(self.dir / "redis.log"), *self.args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT_S
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                log = (self.dir / "redis.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"redis-server exited with {self.proc.returncode}: {log}")
            try:
                client.ping()
                client.close()
                return self
            except (redis.AuthenticationError, redis.ResponseError):
                return self  # it answered: a password or ACL is set
            except redis.RedisError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not answer in time")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.kill()

    def close(self) -> None:
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def docker_available() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        result = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"],
                                capture_output=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0 and bool(result.stdout.strip())


@contextlib.contextmanager
def resolve_redis() -> Iterator[str]:
    """Yield a Redis URL, starting a throwaway server when ``REDIS_URL`` is not set."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    if os.environ.get("COOKBOOK_NO_DOCKER") != "1" and docker_available():
        from testcontainers.redis import RedisContainer

        with RedisContainer("redis:7-alpine") as container:
            host = container.get_container_host_ip()
            yield f"redis://{host}:{container.get_exposed_port(6379)}/0"
        return
    with RedisServer() as server:
        yield server.url


_notebook_stack = contextlib.ExitStack()


def ensure_redis_url() -> str:
    """For notebooks and scripts: a Redis URL valid until the interpreter exits."""
    import atexit

    if not os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = _notebook_stack.enter_context(resolve_redis())
        atexit.register(_notebook_stack.close)
    return os.environ["REDIS_URL"]
