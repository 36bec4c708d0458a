"""Send one email over SMTP with the standard library, and classify what went wrong.

Why ``smtplib`` and not a library: Dramatiq runs actors in plain threads, so a blocking
client is the natural fit; ``aiosmtplib`` would need the AsyncIO middleware and an event
loop per process for no gain. ``smtplib`` already gives the SMTP reply codes that decide
transient (4xx, no connection) versus permanent (5xx). One connection per email keeps
failure handling per email; pool connections if you send many per second.

The ``Message-ID`` is derived from the email id, so it is the same on every attempt and a
receiving system can de-duplicate a copy sent in the crash window (see the README).
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formatdate

from common.errors import PermanentError, TransientError
from recipes.delayed_email.models import Email


def message_id(email: Email) -> str:
    return f"<{email.email_id}@{email.sender.rpartition('@')[2]}>"


def build(email: Email) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = email.sender
    msg["To"] = email.to
    msg["Subject"] = email.subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = message_id(email)
    msg.set_content(email.body)
    return msg


def _by_code(code: int, what: str) -> Exception:
    if 500 <= code < 600:
        return PermanentError(f"{what}: SMTP {code} (permanent)")
    return TransientError(f"{what}: SMTP {code}")


class SmtpSender:
    def __init__(self, host: str, port: int, *, timeout_s: float = 5.0) -> None:
        self.host, self.port, self.timeout_s = host, port, timeout_s

    def send(self, email: Email) -> None:
        """Return once the server accepted the email; raise Transient/PermanentError."""
        where = f"SMTP {self.host}:{self.port}"
        try:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
        except (OSError, smtplib.SMTPException) as exc:  # refused, timeout, bad greeting
            raise TransientError(f"{where} unreachable: {type(exc).__name__}: {exc}") from None
        try:
            smtp.send_message(build(email), from_addr=email.sender, to_addrs=[email.to])
        except smtplib.SMTPRecipientsRefused as exc:
            code = min(c for c, _ in exc.recipients.values())
            raise _by_code(code, f"{where} refused recipient of {email.email_id}") from None
        except smtplib.SMTPResponseException as exc:  # sender refused, DATA refused, ...
            raise _by_code(exc.smtp_code, f"{where} refused {email.email_id}") from None
        except (OSError, smtplib.SMTPException) as exc:  # disconnected, timed out mid-way
            raise TransientError(f"{where} failed for {email.email_id}: "
                                 f"{type(exc).__name__}: {exc}") from None
        finally:
            _close(smtp)


def _close(smtp: smtplib.SMTP) -> None:
    # The email is already accepted (or already failed): a failing QUIT changes nothing,
    # and raising here would make an accepted email look failed and send it again.
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()
