"""Typed payloads: the email itself, the small job message, and the stored record."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, EmailStr, Field

EmailId = str
ID_PATTERN = r"^[A-Za-z0-9_.-]+$"
# Header values: one line only (a newline would let a caller inject headers).
OneLine = Field(min_length=1, max_length=998, pattern=r"^[^\r\n]*$")


class Email(BaseModel):
    email_id: EmailId = Field(min_length=1, max_length=128, pattern=ID_PATTERN)
    sender: EmailStr
    to: EmailStr
    subject: str = OneLine
    body: str = Field(max_length=100_000)


class SendEmail(BaseModel):
    """What goes on the queue: which email, and which version of its schedule."""

    email_id: EmailId = Field(min_length=1, max_length=128, pattern=ID_PATTERN)
    token: str = Field(min_length=1, max_length=64)


Via = Literal["now", "delay", "schedule"]


class Record(BaseModel):
    """Kept in Redis until the email is sent or cancelled; ``token`` changes on reschedule."""

    email: Email
    token: str
    due_ms: int
    via: Via
