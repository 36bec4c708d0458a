"""Recipe fixtures: a real, strict local HTTP API (``StrictApi``) on a free port."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from recipes.rate_limited_api.upstream import StrictApi


@pytest.fixture
def strict_api() -> Iterator[Callable[..., StrictApi]]:
    """``strict_api(limit=50)`` starts a server allowing ``limit`` requests in any 1 s."""
    servers: list[StrictApi] = []

    def start(limit: int = 50, **kwargs: object) -> StrictApi:
        server = StrictApi(limit, **kwargs).start()  # type: ignore[arg-type]
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()
