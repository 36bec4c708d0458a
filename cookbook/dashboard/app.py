"""Starlette app: a JSON API over ``Snapshot`` plus one static page; ``/metrics`` for Prometheus.

Run with: ``uv run cookbook dashboard --port 8080`` (add ``--read-only`` for viewers).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dramatiq
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from cookbook.dashboard.data import Snapshot
from cookbook.dashboard.metrics import QueueCollector

STATIC = Path(__file__).resolve().parent / "static"


def create_app(broker: Any, *, read_only: bool = False, heartbeat_timeout_ms: int = 15_000,
               redis_label: str = "redis") -> Starlette:
    snap = Snapshot(broker.client, broker.namespace, heartbeat_timeout_ms=heartbeat_timeout_ms)
    registry = CollectorRegistry()
    registry.register(QueueCollector(snap))

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html")

    async def overview(request: Request) -> Response:
        return JSONResponse({"redis": {"url": redis_label, **snap.redis_info()},
                             "read_only": read_only, "queues": snap.queues(),
                             "workers": snap.workers()})

    async def waiting(request: Request) -> Response:
        return JSONResponse(snap.waiting(request.path_params["queue"]))

    async def dead(request: Request) -> Response:
        return JSONResponse(snap.dead_letters())

    def guarded(action: Any) -> Any:
        async def handler(request: Request) -> Response:
            if read_only:
                return JSONResponse({"error": "dashboard is read-only"}, status_code=403)
            try:
                return JSONResponse(action(request.path_params.get("letter_id")))
            except KeyError as exc:
                return JSONResponse({"error": str(exc).strip("'\"")}, status_code=404)
            except ValueError as exc:
                return JSONResponse({"error": str(exc)}, status_code=409)
        return handler

    def replay(letter_id: str) -> dict[str, Any]:
        message: dramatiq.Message[Any] = snap.dead.replay(broker, letter_id)
        return {"replayed": letter_id, "message_id": message.message_id}

    def purge(letter_id: str) -> dict[str, Any]:
        return {"purged": snap.dead.purge([letter_id])}

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    routes = [
        Route("/", index),
        Route("/api/overview", overview),
        Route("/api/queues/{queue}/waiting", waiting),
        Route("/api/dead", dead),
        Route("/api/dead/{letter_id}/replay", guarded(replay), methods=["POST"]),
        Route("/api/dead/{letter_id}/purge", guarded(purge), methods=["POST"]),
        Route("/metrics", metrics),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    return Starlette(routes=routes)
