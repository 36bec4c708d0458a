"""Redis down: sending fails fast and clearly; a worker resumes when Redis comes back."""

from __future__ import annotations

import socket
import time

import dramatiq
import pytest

from common.broker import BrokerUnavailable, make_broker
from common.settings import Settings, SettingsError, load_settings
from tests.support import wait_until

PASSWORD = "s3cret-pw"


def test_send_while_redis_is_down_raises_clearly_within_two_seconds(
    redis_server_factory, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    server = redis_server_factory(args=["--requirepass", PASSWORD])
    url = f"redis://:{PASSWORD}@127.0.0.1:{server.port}/0"
    broker = make_broker(settings.model_copy(update={"redis_url": url}))

    @dramatiq.actor(broker=broker, queue_name="q")
    def job() -> None: ...

    job.send()  # reachable: works with the password from the URL
    server.kill()
    started = time.monotonic()
    with pytest.raises(BrokerUnavailable) as info:
        job.send()
    elapsed = time.monotonic() - started
    assert elapsed < 2.0, f"took {elapsed:.2f}s"
    text = str(info.value)
    assert f"127.0.0.1:{server.port}" in text and "unreachable" in text
    assert PASSWORD not in text and "***" in text
    broker.close()


def test_a_hung_redis_is_a_clear_error_not_a_hang(settings: Settings) -> None:
    """A server that accepts connections but never answers: bounded by socket_timeout_s."""
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(16)  # the kernel completes the handshake; nobody ever reads
        port = hung.getsockname()[1]
        broker = make_broker(settings.model_copy(update={
            "redis_url": f"redis://127.0.0.1:{port}/0", "socket_timeout_s": 0.4}))

        @dramatiq.actor(broker=broker, queue_name="q")
        def job() -> None: ...

        started = time.monotonic()
        with pytest.raises(BrokerUnavailable, match="TimeoutError"):
            job.send()
        assert time.monotonic() - started < 2.0


def test_worker_resumes_by_itself_after_redis_restarts(
    redis_server_factory, settings: Settings, settings_env: dict[str, str], cli_worker
) -> None:  # type: ignore[no-untyped-def]
    server = redis_server_factory()
    env = {**settings_env, "REDIS_URL": server.url}
    own = settings.model_copy(update={"redis_url": server.url})
    broker = make_broker(own)

    @dramatiq.actor(broker=broker, queue_name="work", actor_name="work")
    def work(job_id: str, duration_ms: int) -> None: ...

    cli_worker("tests.common.worker_app", env=env, processes=1, threads=2)
    work.send("before", 10)
    ns = own.namespace
    wait_until(lambda: broker.client.sismember(f"{ns}:finished", "before"), timeout=20,
               message="job before restart")
    server.kill()
    time.sleep(1.5)  # let the worker's consumers notice the outage (fault injection, not a wait)
    server.start()
    work.send("after", 10)
    wait_until(lambda: broker.client.sismember(f"{ns}:finished", "after"), timeout=30,
               message="job after Redis restart")
    broker.close()


def test_bad_setting_fails_at_start_naming_the_variable(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COOKBOOK_POOL_SIZE", "lots")
    with pytest.raises(SettingsError, match="COOKBOOK_POOL_SIZE"):
        load_settings()
    monkeypatch.delenv("COOKBOOK_POOL_SIZE")
    monkeypatch.setenv("REDIS_URL", "http://user:hunter2@example.com")
    with pytest.raises(SettingsError, match="REDIS_URL") as info:
        load_settings()
    assert "hunter2" not in str(info.value)
