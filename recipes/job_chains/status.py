"""Read a chain's state from any process: ``python -m recipes.job_chains.status <id> [--wait]``.

Prints the ``ChainState`` as JSON (exit 0), or an error naming the id (exit 2). ``--wait``
polls until the chain is completed or failed (exit 1 on timeout).
"""

from __future__ import annotations

import argparse
import sys
import time

from common.broker import make_client
from common.settings import get_settings
from recipes.job_chains.state import ChainStore


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chain_id")
    parser.add_argument("--wait", type=float, nargs="?", const=60.0, default=None,
                        metavar="SECONDS", help="wait until the chain finishes (default 60 s)")
    args = parser.parse_args(argv)
    settings = get_settings()
    store = ChainStore(make_client(settings), settings.namespace)
    deadline = time.monotonic() + (args.wait or 0)
    while True:
        state = store.get(args.chain_id)
        if state is None:
            print(f"no chain {args.chain_id!r} in namespace {settings.namespace!r}",
                  file=sys.stderr)
            return 2
        if args.wait is None or state.finished:
            print(state.model_dump_json(indent=2))
            return 0
        if time.monotonic() > deadline:
            print(state.model_dump_json(indent=2))
            return 1
        time.sleep(0.2)


if __name__ == "__main__":
    sys.exit(main())
