"""Typed payload: which item to fetch from the API (an id, never a URL: the worker owns it)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class FetchItem(BaseModel):
    item_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
