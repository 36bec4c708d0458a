"""Blob stores behind one small interface: Redis (default) or a shared directory.

Both write in chunks, make a blob visible only once complete, and give it a TTL. A store
for S3 or GCS (boto3, fsspec) fits the same four methods; the recipe needs no more.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal, Protocol

import redis

from common.errors import PermanentError
from recipes.large_payloads import CHUNK_BYTES, blob_key


class BlobMissing(PermanentError):
    """The blob is gone: expired after its TTL, deleted after success, or never written."""


class BlobStore(Protocol):
    @property
    def name(self) -> Literal["redis", "file"]: ...

    def put(self, blob_id: str, chunks: Iterable[bytes], ttl_s: int) -> int: ...
    def chunks(self, blob_id: str) -> Iterator[bytes]: ...
    def delete(self, blob_id: str) -> None: ...
    def exists(self, blob_id: str) -> bool: ...


class RedisBlobStore:
    """One Redis string per blob, appended chunk by chunk under a temporary name."""

    name: Literal["redis"] = "redis"

    def __init__(self, client: redis.Redis, namespace: str) -> None:
        self.client = client
        self.namespace = namespace

    def put(self, blob_id: str, chunks: Iterable[bytes], ttl_s: int) -> int:
        final = blob_key(self.namespace, blob_id)
        partial = final + ":partial"
        size = 0
        # The partial key expires too, so a producer dying mid-upload leaves nothing behind.
        self.client.set(partial, b"", ex=ttl_s)
        for chunk in chunks:
            self.client.append(partial, chunk)
            size += len(chunk)
        self.client.rename(partial, final)  # keeps the TTL; readers never see half a blob
        return size

    def chunks(self, blob_id: str) -> Iterator[bytes]:
        key = blob_key(self.namespace, blob_id)
        size = int(self.client.strlen(key))
        if size == 0 and not self.client.exists(key):
            raise BlobMissing(f"blob {blob_id} is not in Redis (expired, deleted or never stored)")
        for start in range(0, size, CHUNK_BYTES):
            chunk: bytes = self.client.getrange(key, start, start + CHUNK_BYTES - 1)  # type: ignore[assignment]
            if not chunk:
                raise BlobMissing(f"blob {blob_id} vanished while being read (expired?)")
            yield chunk

    def delete(self, blob_id: str) -> None:
        key = blob_key(self.namespace, blob_id)
        self.client.delete(key, key + ":partial")

    def exists(self, blob_id: str) -> bool:
        return bool(self.client.exists(blob_key(self.namespace, blob_id)))

    def ttl_s(self, blob_id: str) -> int:
        return int(self.client.ttl(blob_key(self.namespace, blob_id)))


class FileBlobStore:
    """One file per blob in a directory every producer and worker mounts.

    The expiry time is kept as the file's mtime: it is the one timestamp every filesystem
    keeps, so expiry needs no sidecar file. Expired blobs are unreadable at once and
    removed by ``sweep()``.
    """

    name: Literal["file"] = "file"

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, blob_id: str) -> Path:
        return self.root / f"{blob_id}.blob"

    def put(self, blob_id: str, chunks: Iterable[bytes], ttl_s: int) -> int:
        partial = self.root / f".{blob_id}.partial"
        size = 0
        with open(partial, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
                size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        expires = time.time() + ttl_s
        os.utime(partial, (expires, expires))
        os.replace(partial, self._path(blob_id))  # atomic: readers never see half a blob
        return size

    def chunks(self, blob_id: str) -> Iterator[bytes]:
        path = self._path(blob_id)
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed by the with below
        except FileNotFoundError:
            raise BlobMissing(f"blob {blob_id} is not in {self.root} "
                              "(expired, deleted or never stored)") from None
        with handle:
            if os.fstat(handle.fileno()).st_mtime < time.time():
                raise BlobMissing(f"blob {blob_id} in {self.root} has expired")
            while chunk := handle.read(CHUNK_BYTES):
                yield chunk

    def delete(self, blob_id: str) -> None:
        self._path(blob_id).unlink(missing_ok=True)
        (self.root / f".{blob_id}.partial").unlink(missing_ok=True)

    def exists(self, blob_id: str) -> bool:
        return self._path(blob_id).exists()

    def sweep(self, now: float | None = None) -> int:
        """Delete expired blobs and abandoned partial uploads; returns how many."""
        now = time.time() if now is None else now
        removed = 0
        for entry in os.scandir(self.root):
            if not entry.name.endswith((".blob", ".partial")):
                continue
            stat = entry.stat()
            # A partial file's mtime is its last write: one idle for a day is abandoned.
            expired = (stat.st_mtime < now if entry.name.endswith(".blob")
                       else stat.st_mtime < now - 86_400)
            if expired:
                Path(entry.path).unlink(missing_ok=True)
                removed += 1
        return removed
