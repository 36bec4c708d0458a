"""The worker side: read the payload through the claim check, process it, clean up.

Run with: ``uv run dramatiq recipes.large_payloads.worker -p 2 -t 8``
"""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from typing import Any

import dramatiq
import redis
from dramatiq.middleware import CurrentMessage

from common.idempotency import Idempotency
from common.jobs import TypedActor, typed_actor
from recipes.large_payloads import BLOB_DIR_ENV, BLOB_TTL_S, CHUNK_BYTES, QUEUE, results_key
from recipes.large_payloads.claimcheck import ClaimCheck
from recipes.large_payloads.models import BlobRef, DocumentJob, DocumentResult
from recipes.large_payloads.stores import BlobStore, FileBlobStore, RedisBlobStore

RESULTS_TTL_S = 7 * 86_400


@dataclass(frozen=True)
class LargePayloadActors:
    process: TypedActor[DocumentJob, None]
    claims: ClaimCheck
    client: redis.Redis
    namespace: str

    def result(self, name: str) -> DocumentResult | None:
        raw = self.client.hget(results_key(self.namespace), name)
        return None if raw is None else DocumentResult.model_validate_json(raw)


def store_from_env(client: redis.Redis, namespace: str) -> BlobStore:
    """``COOKBOOK_BLOB_DIR`` set: a directory every process mounts; else Redis."""
    directory = os.environ.get(BLOB_DIR_ENV)
    return FileBlobStore(directory) if directory else RedisBlobStore(client, namespace)


def register(broker: dramatiq.Broker, client: redis.Redis, namespace: str,
             store: BlobStore | None = None, ttl_s: int = BLOB_TTL_S,
             **options: Any) -> LargePayloadActors:
    claims = ClaimCheck(store or store_from_env(client, namespace), ttl_s=ttl_s)
    idem = Idempotency(client, namespace)

    @typed_actor(broker=broker, queue_name=QUEUE, actor_name="process_document",
                 max_retries=5, min_backoff=200, **options)
    def process_document(job: DocumentJob) -> None:
        payload = job.payload
        blob = payload.blob_id if isinstance(payload, BlobRef) else None
        current = CurrentMessage.get_current_message()
        # The message id is stable across retries and redeliveries; a blob id is unique too.
        key = current.message_id if current else (blob or uuid.uuid4().hex)
        with idem.once(f"large:{key}") as claim:
            if claim is None:
                # Done before and redelivered (crash before ack): only the cleanup may be left.
                claims.release(payload)
                return
            digest, size = hashlib.sha256(), 0
            with claims.open(payload) as data:
                while chunk := data.read(CHUNK_BYTES):
                    digest.update(chunk)
                    size += len(chunk)
            result = DocumentResult(size=size, sha256=digest.hexdigest(), from_blob=bool(blob))
            pipe = client.pipeline(transaction=True)
            pipe.hset(results_key(namespace), job.name, result.model_dump_json())
            pipe.expire(results_key(namespace), RESULTS_TTL_S)
            idem.mark_done(claim, pipe)  # result and "done" commit together
            pipe.execute()
        # Only after success: a failed job keeps its blob for retries and replay, until TTL.
        claims.release(payload)

    return LargePayloadActors(process=process_document, claims=claims, client=client,
                              namespace=namespace)
