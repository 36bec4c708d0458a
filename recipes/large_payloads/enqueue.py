"""Producer side: store the payload out of the message if it is large, then send the job.

Run with: ``uv run python -m recipes.large_payloads.enqueue`` (sends a 20 MB document).
"""

from __future__ import annotations

import os
from typing import BinaryIO

import dramatiq

from recipes.large_payloads.actors import LargePayloadActors
from recipes.large_payloads.models import DocumentJob


def send_document(actors: LargePayloadActors, name: str,
                  data: bytes | BinaryIO) -> dramatiq.Message[object]:
    """Validate the name, wrap the payload (inline or blob), send. Returns the message."""
    # Check the name before uploading 50 MB for a job that would be refused anyway.
    DocumentJob.model_validate({"name": name, "payload": {"kind": "inline", "data_b64": ""}})
    payload = actors.claims.wrap(data)
    try:
        return actors.process.send(DocumentJob(name=name, payload=payload))
    except BaseException:
        # Not enqueued (Redis down, bad input): the blob would only wait for its TTL.
        actors.claims.release(payload)
        raise


if __name__ == "__main__":
    from recipes.large_payloads.worker import actors as worker_actors

    message = send_document(worker_actors, "random-20mb", os.urandom(20 * 1024 * 1024))
    print(f"sent {message.message_id}: {len(message.encode())} bytes on the wire")
