"""A real local HTTP dependency that fails on command (tests, demo, notebook).

``ThreadingHTTPServer`` on a free loopback port. ``GET /items/<id>`` answers 200, or 503
while ``failing`` is set; ids starting with ``missing-`` get 404. Every request is recorded
with its arrival time and the breaker's ``X-Breaker`` header.
``POST /control/fail`` and ``POST /control/recover`` flip the switch from outside.

Run alone with: ``uv run python -m recipes.circuit_breaker.upstream [port]`` (default 8085).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Hit:
    at: float
    item: str
    status: int
    admission: str  # "call:<gen>" or "probe:<gen>", "" if the caller sent none


class FlakyApi:
    def __init__(self, *, failing: bool = False, latency_s: float = 0.01, port: int = 0) -> None:
        self.failing = failing
        self.latency_s = latency_s
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                arrived = time.time()
                item = self.path.removeprefix("/items/")
                time.sleep(api.latency_s)
                status = (404 if item.startswith("missing-") else 503 if api.failing else 200)
                with api._lock:
                    api.hits.append(Hit(arrived, item, status, self.headers.get("X-Breaker", "")))
                body = json.dumps({"item": item, "status": status}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                if self.path not in ("/control/fail", "/control/recover"):
                    self.send_error(404)
                    return
                api.failing = self.path == "/control/fail"
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep test output quiet; hits are recorded above

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FlakyApi:
        self._thread.start()
        return self

    def snapshot(self) -> list[Hit]:
        with self._lock:
            return list(self.hits)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


if __name__ == "__main__":
    import sys

    api = FlakyApi(port=int(sys.argv[1]) if len(sys.argv) > 1 else 8085).start()
    print(f"serving {api.url}; POST /control/fail or /control/recover to flip it")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        api.close()
