"""Typed payloads: a document job carries its bytes inline or a reference to a blob."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

BlobId = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]


class InlineData(BaseModel):
    kind: Literal["inline"] = "inline"
    data_b64: str = Field(description="The payload, base64 (JSON carries no raw bytes).")


class BlobRef(BaseModel):
    """The claim check: where the payload is, how big, and how to know it is intact."""

    kind: Literal["blob"] = "blob"
    store: Literal["redis", "file"]
    blob_id: BlobId
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


Payload = Annotated[InlineData | BlobRef, Field(discriminator="kind")]


class DocumentJob(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    payload: Payload


class DocumentResult(BaseModel):
    """What the job computed from the bytes it read (the test compares it to the original)."""

    size: int
    sha256: str
    from_blob: bool
