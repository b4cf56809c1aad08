"""A real SMTP server for tests: aiosmtpd on 127.0.0.1 at a free port, keeping what it
receives or refusing it with the reply a test sets."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller


class Mailbox:
    """An aiosmtpd handler that keeps what it receives, or refuses it while `refusal` is set."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refusal: str | None = None

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd hook
        if self.refusal:
            return self.refusal
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    def __init__(self) -> None:
        self.port = _free_port()
        self.mailbox = Mailbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller:
            self._controller.stop()
            self._controller = None


@pytest.fixture(name="smtp")
def smtp_fixture() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(name="dead_smtp")
def dead_smtp_fixture() -> Iterator[SmtpServer]:
    """A port nothing listens on, until the test calls `start()`."""
    server = SmtpServer()
    yield server
    server.stop()
