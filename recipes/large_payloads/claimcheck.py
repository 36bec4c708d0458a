"""The claim check: put a large payload in a blob store, read it back verified, release it.

``wrap`` streams the payload into the store while hashing it (SHA-256), so the producer
never needs it whole in memory; small payloads stay inline. ``open`` streams the blob into
a spooled temp file while hashing again and hands it over only if the digest matches: a
mismatch is a ``ChecksumMismatch`` (permanent: the bytes will not heal on retry).
"""

from __future__ import annotations

import base64
import hashlib
import io
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, BinaryIO

from common.errors import PermanentError
from recipes.large_payloads import (
    BLOB_TTL_S,
    CHUNK_BYTES,
    INLINE_LIMIT_BYTES,
    MAX_BLOB_BYTES,
    SPOOL_MEMORY_BYTES,
)
from recipes.large_payloads.models import BlobRef, InlineData
from recipes.large_payloads.stores import BlobStore, FileBlobStore

SWEEP_EVERY_S = 60.0


class ChecksumMismatch(PermanentError):
    """The blob's bytes do not match the digest in the message: corrupted or replaced."""


class PayloadTooLarge(ValueError):
    """The payload is over ``MAX_BLOB_BYTES``; nothing was stored."""


class ClaimCheck:
    def __init__(self, store: BlobStore, *, inline_limit: int = INLINE_LIMIT_BYTES,
                 ttl_s: int = BLOB_TTL_S, max_bytes: int = MAX_BLOB_BYTES) -> None:
        self.store = store
        self.inline_limit = inline_limit
        self.ttl_s = ttl_s
        self.max_bytes = max_bytes
        self._last_sweep = 0.0

    def wrap(self, data: bytes | BinaryIO) -> InlineData | BlobRef:
        """Inline if small, else store once and return the reference the message carries."""
        stream: IO[bytes] = io.BytesIO(data) if isinstance(data, bytes) else data
        head = stream.read(self.inline_limit + 1)
        if len(head) <= self.inline_limit:
            return InlineData(data_b64=base64.b64encode(head).decode("ascii"))
        digest = hashlib.sha256()
        blob_id = uuid.uuid4().hex

        def chunks() -> Iterator[bytes]:
            total = 0
            chunk = head
            while chunk:
                total += len(chunk)
                if total > self.max_bytes:
                    raise PayloadTooLarge(f"payload is over the {self.max_bytes}-byte blob limit")
                digest.update(chunk)
                yield chunk
                chunk = stream.read(CHUNK_BYTES)

        self._maybe_sweep()
        try:
            size = self.store.put(blob_id, chunks(), self.ttl_s)
        except BaseException:
            self.store.delete(blob_id)
            raise
        return BlobRef(store=self.store.name, blob_id=blob_id, size=size,
                       sha256=digest.hexdigest())

    @contextmanager
    def open(self, payload: InlineData | BlobRef) -> Iterator[IO[bytes]]:
        """Yield a readable file of the payload, verified against its digest first."""
        if isinstance(payload, InlineData):
            yield io.BytesIO(base64.b64decode(payload.data_b64, validate=True))
            return
        if payload.store != self.store.name:
            raise PermanentError(f"blob {payload.blob_id} is in a {payload.store!r} store; "
                                 f"this worker reads a {self.store.name!r} store")
        digest = hashlib.sha256()
        size = 0
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES) as spool:
            for chunk in self.store.chunks(payload.blob_id):
                digest.update(chunk)
                size += len(chunk)
                spool.write(chunk)
            if size != payload.size or digest.hexdigest() != payload.sha256:
                raise ChecksumMismatch(
                    f"blob {payload.blob_id}: read {size} bytes with sha256 "
                    f"{digest.hexdigest()[:12]}..., the message says {payload.size} bytes "
                    f"with {payload.sha256[:12]}...")
            spool.seek(0)
            yield spool

    def release(self, payload: InlineData | BlobRef) -> None:
        """Delete the blob (after success). Safe to call twice."""
        if isinstance(payload, BlobRef):
            self.store.delete(payload.blob_id)

    def _maybe_sweep(self) -> None:
        # Redis expires keys itself; a directory needs someone to delete expired files.
        if isinstance(self.store, FileBlobStore) and time.monotonic() - self._last_sweep > \
                SWEEP_EVERY_S:
            self._last_sweep = time.monotonic()
            self.store.sweep()
