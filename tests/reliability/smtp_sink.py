"""A real SMTP server on a free local port that keeps every message it accepts: what the
readers' mailboxes received. Workers in other processes reach it with ``EMAIL_HOST`` and
``EMAIL_PORT`` (``env()``), over a real SMTP conversation (aiosmtpd)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller

from tests.reliability.instances import free_port


class _Keep:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content or envelope.content)
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


class SmtpSink:
    """The messages the server accepted, per recipient."""

    def __init__(self, controller: Controller, keep: _Keep) -> None:
        self.controller, self.keep = controller, keep

    @property
    def port(self) -> int:
        return int(self.controller.port)

    def env(self) -> dict[str, str]:
        """Settings that make a Masthead process send its email here."""
        return {
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(self.port),
            "EMAIL_USE_TLS": "false",
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        }

    def received(self, to: str) -> list[Message]:
        """Every message accepted for ``to``, oldest first."""
        with self.keep.lock:
            return [message for rcpt, message in self.keep.messages if to in rcpt]


@contextmanager
def smtp_sink() -> Iterator[SmtpSink]:
    keep = _Keep()
    controller = Controller(keep, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield SmtpSink(controller, keep)
    finally:
        controller.stop()
