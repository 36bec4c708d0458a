"""A strict local HTTP API to call: the stand-in for a rate-limited upstream.

A real HTTP server (stdlib ``ThreadingHTTPServer`` in a thread, HTTP/1.1 keep-alive) that
allows ``limit`` requests in any ``period_s`` window of arrivals, answers ``429`` with
``Retry-After`` beyond it, and records every request it saw (arrival time, path, status,
``X-Request-Id``). ``GET /items/<id>`` answers ``{"id": ...}``. Tests, the tour demo, the
notebook and the bench use it; it can also force a pause (``force_429``), fail an item
with 5xx a few times (``fail_next``), not know it (``missing``) or add random delays
(``jitter_s``).
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
from collections import Counter, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from recipes.rate_limited_api.seen import Seen, max_in_window, sustained_rate


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # a burst of new connections must not wait on the backlog
    daemon_threads = True


class StrictApi:
    def __init__(self, limit: int, *, period_s: float = 1.0, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.limit = limit
        self.period_s = period_s
        self.seen: list[Seen] = []
        self.missing: set[str] = set()
        self.failures: dict[str, tuple[int, int]] = {}  # item -> (times left, status)
        self.forced: list[tuple[float, float]] = []  # (start, end) of each forced pause
        self.jitter_s = 0.0  # random delay before stamping an arrival, and before answering
        self._force: tuple[int, int] | None = None  # (after this many requests, retry_after)
        self._recent: deque[float] = deque()
        self._paused_until = 0.0
        self._lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out as two writes: with Nagle on, the body waits for the
            # client's delayed ACK (~40 ms) and every call looks slow.
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                if api.jitter_s:  # network and server delays: arrival and answer both late
                    time.sleep(random.uniform(0, api.jitter_s))
                status, headers, body = api._answer(self.path, self.headers.get("X-Request-Id"))
                if api.jitter_s:
                    time.sleep(random.uniform(0, api.jitter_s))
                data = json.dumps(body).encode()
                self.send_response(status)
                for name, value in {**headers, "Content-Type": "application/json",
                                    "Content-Length": str(len(data))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the record in ``seen`` is the log

        self._server = _Server((host, port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="strict-api")

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> StrictApi:
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> StrictApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def force_429(self, retry_after_s: int = 2, *, after: int = 0) -> None:
        """Answer request number ``after + 1`` (counted from now) with 429 + Retry-After."""
        with self._lock:
            self._force = (len(self.seen) + after, retry_after_s)

    def fail_next(self, item: str, times: int, status: int = 503) -> None:
        with self._lock:
            self.failures[item] = (times, status)

    def _answer(self, path: str, request_id: str | None) -> tuple[int, dict[str, str], Any]:
        with self._lock:
            now = time.monotonic()
            while self._recent and self._recent[0] <= now - self.period_s:
                self._recent.popleft()
            status, headers, body = self._route(now, path)
            self._recent.append(now)  # every arrival counts, refused ones too
            self.seen.append(Seen(now, path, status, request_id))
            return status, headers, body

    def _route(self, now: float, path: str) -> tuple[int, dict[str, str], Any]:
        if self._force is not None and len(self.seen) >= self._force[0]:
            self._paused_until = now + self._force[1]
            self.forced.append((now, self._paused_until))
            self._force = None
        if now < self._paused_until:
            return self._too_many(self._paused_until - now)
        if len(self._recent) >= self.limit:
            return self._too_many(self._recent[0] + self.period_s - now)
        parts = path.strip("/").split("/")
        if len(parts) != 2 or parts[0] != "items" or parts[1] in self.missing:
            return 404, {}, {"error": "not found"}
        times, status = self.failures.get(parts[1], (0, 0))
        if times > 0:
            self.failures[parts[1]] = (times - 1, status)
            return status, {}, {"error": "upstream trouble"}
        return 200, {}, {"id": parts[1]}

    @staticmethod
    def _too_many(wait_s: float) -> tuple[int, dict[str, str], Any]:
        return 429, {"Retry-After": str(max(1, math.ceil(wait_s)))}, {"error": "slow down"}

    # What it saw -----------------------------------------------------------------------
    def snapshot(self) -> list[Seen]:
        with self._lock:
            return list(self.seen)

    def statuses(self) -> Counter[int]:
        return Counter(s.status for s in self.snapshot())

    def ok_per_item(self) -> Counter[str]:
        return Counter(s.path.rsplit("/", 1)[-1] for s in self.snapshot() if s.status == 200)

    def max_in_window(self, window_s: float | None = None) -> int:
        """Most arrivals in any half-open window ``(t - window_s, t]`` (default: period)."""
        window_s = self.period_s if window_s is None else window_s
        return max_in_window((s.at for s in self.snapshot()), window_s)

    def sustained_rate(self, status: int | None = 200) -> float:
        """See ``seen.sustained_rate``; only answers with ``status`` (None: all)."""
        return sustained_rate((s.at for s in self.snapshot()
                               if status is None or s.status == status), self.limit)
