"""The monitoring UI in real headless Chromium against real Redis: counts, actions, redaction."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator

import dramatiq
import httpx
import pytest
import redis
import uvicorn

from common.broker import CookbookBroker
from common.errors import PermanentError
from cookbook.dashboard.app import create_app
from cookbook.redis_local import free_port
from tests.support import wait_until

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
SECRET = "hunter2-do-not-show"


def serve(broker: CookbookBroker, *, read_only: bool) -> tuple[str, uvicorn.Server]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(broker, read_only=read_only),
                                           host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    wait_until(lambda: server.started, timeout=10, message="dashboard up")
    return f"http://127.0.0.1:{port}", server


@pytest.fixture
def browser() -> Iterator[object]:
    if not os.path.exists(CHROMIUM) and not os.environ.get("CI"):
        pytest.skip("no chromium here (apt-get install chromium); CI installs it and runs this")
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_dashboard_shows_counts_replays_dead_letters_and_hides_secrets(
    broker: CookbookBroker, redis_client: redis.Redis, browser, start_worker,
    caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    @dramatiq.actor(broker=broker, queue_name="signup", max_retries=0)
    def create_account(email: str, password: str) -> None:
        if not redis_client.exists("db-up"):
            raise PermanentError("database refused the insert")
        redis_client.sadd("created", email)

    @dramatiq.actor(broker=broker, queue_name="backlog")
    def later(n: int) -> None: ...

    create_account.send("ada@example.com", password=SECRET)
    with start_worker_ctx(start_worker, ["signup"]):
        wait_until(lambda: broker.dead_letters.count() == 1, message="dead letter")
    for n in range(7):
        later.send(n)

    assert "Failed to process message create_account#" in caplog.text
    assert SECRET not in caplog.text, "a job's secret argument reached the logs"

    url, server = serve(broker, read_only=False)
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(url)
    page.wait_for_selector("body[data-loaded=true]")
    backlog = page.locator("#queues tbody tr", has_text="backlog")
    assert backlog.locator("td").nth(1).inner_text() == "7"
    signup = page.locator("#queues tbody tr", has_text="signup")
    assert signup.locator("td").nth(4).inner_text() == "1"
    dead_row = page.locator("#dead tbody tr")
    assert dead_row.count() == 1 and "database refused" in dead_row.inner_text()
    assert SECRET not in page.content() and "***" in dead_row.inner_text()
    assert page.locator("#mode").inner_text() == "read-write"

    redis_client.set("db-up", 1)
    start_worker(queues=["signup"])
    dead_row.locator("button.replay").click()
    page.wait_for_function("document.querySelectorAll('#dead tbody tr').length === 0")
    wait_until(lambda: redis_client.sismember("created", "ada@example.com"),
               message="replayed job ran")
    metrics = httpx.get(f"{url}/metrics").text
    assert 'cookbook_queue_waiting{queue="backlog"} 7.0' in metrics
    assert "cookbook_workers_alive 1.0" in metrics
    server.should_exit = True


def test_read_only_dashboard_has_no_actions_and_refuses_them(
    broker: CookbookBroker, redis_client: redis.Redis, browser, start_worker
) -> None:  # type: ignore[no-untyped-def]
    @dramatiq.actor(broker=broker, queue_name="q", max_retries=0)
    def broken() -> None:
        raise PermanentError("nope")

    message = broken.send()
    start_worker(queues=["q"])
    wait_until(lambda: broker.dead_letters.count() == 1, message="dead letter")
    url, server = serve(broker, read_only=True)
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(url)
    page.wait_for_selector("body[data-loaded=true]")
    assert page.locator("#mode").inner_text() == "read-only"
    assert page.locator("#dead tbody tr").count() == 1
    assert page.locator("#dead button").count() == 0
    response = httpx.post(f"{url}/api/dead/{message.message_id}/replay")
    assert response.status_code == 403
    assert broker.dead_letters.count() == 1
    server.should_exit = True


class start_worker_ctx:
    """Run an in-process worker only for a block (the fixture's worker lives to teardown)."""

    def __init__(self, start, queues: list[str]) -> None:  # type: ignore[no-untyped-def]
        self.start, self.queues = start, queues

    def __enter__(self) -> dramatiq.Worker:
        self.worker: dramatiq.Worker = self.start(queues=self.queues)
        return self.worker

    def __exit__(self, *exc: object) -> None:
        self.worker.stop(timeout=5_000)
