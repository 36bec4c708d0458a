"""Run the strict local API in the foreground, for trying the recipe by hand.

Run with: ``uv run python -m recipes.rate_limited_api.serve 50 8080`` (limit, port);
Ctrl-C prints what it saw.
"""

from __future__ import annotations

import contextlib
import sys
import threading

from recipes.rate_limited_api.upstream import StrictApi


def main(argv: list[str]) -> None:
    limit = int(argv[0]) if argv else 50
    port = int(argv[1]) if len(argv) > 1 else 8080
    with StrictApi(limit, port=port) as api:
        print(f"strict API on {api.url}: {limit} requests in any 1 s window; Ctrl-C to stop")
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
        print(f"answers {dict(api.statuses())}, most in any 1 s: {api.max_in_window(1.0)}, "
              f"sustained {api.sustained_rate():.1f}/s")


if __name__ == "__main__":
    main(sys.argv[1:])
