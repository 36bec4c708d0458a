"""Recipe fixtures: a real local HTTP dependency that fails on command (``FlakyApi``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from recipes.circuit_breaker.upstream import FlakyApi


@pytest.fixture
def flaky_api() -> Iterator[Callable[..., FlakyApi]]:
    """``flaky_api(failing=True)`` starts a ThreadingHTTPServer on a free loopback port."""
    servers: list[FlakyApi] = []

    def start(**kwargs: object) -> FlakyApi:
        server = FlakyApi(**kwargs).start()  # type: ignore[arg-type]
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()
