"""A real SMTP server (aiosmtpd) that records what it accepted, for tests, demo and bench.

Recipients whose local part starts with ``reject`` get ``550`` at RCPT (a permanent
refusal); ``greylist`` ones get ``451`` the first time (a transient one, as greylisting
servers do). Each accepted email is recorded with the server's receive time, so "not before
due" is checked against what the server saw, not what the sender believed. With
``reply_delay_s`` the server records an email, then waits before answering ``250``: a
sender killed in that wait is the crash window the recipe documents.

Run with: ``uv run python -m recipes.delayed_email.smtp_server 1025`` (prints what arrives).
"""

from __future__ import annotations

import asyncio
import socket
import sys
import threading
import time
from dataclasses import dataclass
from email import message_from_bytes
from typing import Any

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Received:
    message_id: str
    rcpt: tuple[str, ...]
    at: float  # server clock, epoch seconds

    @property
    def email_id(self) -> str:
        return self.message_id.strip("<>").rpartition("@")[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Handler:
    def __init__(self, server: RecordingSmtp) -> None:
        self.server = server

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        lowered = address.lower()
        if lowered.startswith("reject"):
            self.server.refused.append((address, 550))
            return "550 5.1.1 mailbox unavailable"
        if lowered.startswith("greylist") and self.server.first_sight(lowered):
            self.server.refused.append((address, 451))
            return "451 4.7.1 greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content)
        self.server.record(Received(str(parsed["Message-ID"]), tuple(envelope.rcpt_tos),
                                    time.time()))
        if self.server.reply_delay_s:
            await asyncio.sleep(self.server.reply_delay_s)
        return "250 Message accepted for delivery"


class RecordingSmtp:
    def __init__(self, port: int | None = None, host: str = "127.0.0.1", *,
                 reply_delay_s: float = 0.0) -> None:
        self.host, self.port = host, port or free_port()
        self.reply_delay_s = reply_delay_s
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._seen: set[str] = set()
        self.refused: list[tuple[str, int]] = []
        self._controller: Controller | None = None
        self.on_receive: Any = None

    def start(self) -> RecordingSmtp:
        self._controller = Controller(_Handler(self), hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    close = stop

    def record(self, item: Received) -> None:
        with self._lock:
            self._received.append(item)
        if self.on_receive is not None:
            self.on_receive(item)

    def first_sight(self, address: str) -> bool:
        with self._lock:
            new = address not in self._seen
            self._seen.add(address)
            return new

    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def by_email(self) -> dict[str, list[Received]]:
        out: dict[str, list[Received]] = {}
        for item in self.received():
            out.setdefault(item.email_id, []).append(item)
        return out


if __name__ == "__main__":
    server = RecordingSmtp(int(sys.argv[1]) if len(sys.argv) > 1 else 1025).start()
    server.on_receive = lambda r: print(f"{time.strftime('%H:%M:%S')} {r.message_id} -> "
                                        f"{', '.join(r.rcpt)}", flush=True)
    print(f"SMTP server on {server.host}:{server.port}; Ctrl-C to stop", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()
