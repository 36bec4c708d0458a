"""Tour demo: 4 documents inline, 4 x 10 MB as claim checks; all read intact, no blob left."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable

from common.broker import CookbookBroker
from common.settings import Settings
from common.worker import running_worker
from recipes.large_payloads import QUEUE
from recipes.large_payloads.actors import register
from recipes.large_payloads.enqueue import send_document
from recipes.large_payloads.stores import RedisBlobStore

SIZES = [1_000, 20_000, 50_000, 60_000] + [10 * 1024 * 1024] * 4


def demo(broker: CookbookBroker, settings: Settings, report: Callable[[int, int], None]) -> int:
    client = broker.client
    actors = register(broker, client, settings.namespace,
                      store=RedisBlobStore(client, settings.namespace))
    digests: dict[str, str] = {}
    for i, size in enumerate(SIZES):
        data = os.urandom(size)
        digests[f"doc-{i}"] = hashlib.sha256(data).hexdigest()
        message = send_document(actors, f"doc-{i}", data)
        if len(message.encode()) >= 1024 and size > actors.claims.inline_limit:
            raise AssertionError(f"doc-{i}: a claim-check message of {len(message.encode())} B")
    with running_worker(broker, queues=[QUEUE], threads=4):
        broker.join(QUEUE, timeout=60_000)
    done = 0
    for name, digest in digests.items():
        result = actors.result(name)
        if result is None or result.sha256 != digest:
            raise AssertionError(f"{name} was not read intact: {result}")
        done += 1
    report(done, len(SIZES))
    left = list(client.scan_iter(match=f"{settings.namespace}:blob:*"))
    if left:
        raise AssertionError(f"{len(left)} blobs left after success")
    return len(SIZES)
