"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, on a free port, keeping every message
it accepts, and the settings that point the app at it.

    with smtp_server() as server:
        use_smtp(app, server.port)
        ...
        [message] = server.messages()   # email.message.EmailMessage, parsed
"""

import email
import email.policy
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes

    @property
    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.content, policy=email.policy.default)


class Collector:
    """The aiosmtpd handler: keeps the envelope of every message it accepts; refuses the
    recipients listed in `refused` (550), as a server does for an unknown mailbox."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self.refused: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refused:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self._received.append(
                Received(envelope.mail_from, tuple(envelope.rcpt_tos), bytes(envelope.content))
            )
        return "250 Message accepted for delivery"

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def clear(self) -> None:
        with self._lock:
            self._received.clear()


@dataclass
class SmtpServer:
    host: str
    port: int
    collector: Collector

    @property
    def received(self) -> list[Received]:
        return self.collector.received

    def messages(self) -> list[email.message.EmailMessage]:
        return [received.message for received in self.collector.received]

    def recipients(self) -> list[str]:
        """Every envelope recipient, one per accepted copy (duplicates show)."""
        return [rcpt for received in self.collector.received for rcpt in received.rcpt_tos]

    def clear(self) -> None:
        self.collector.clear()

    def refuse(self, *addresses: str) -> None:
        """From now on, refuse these recipients (none: accept everyone again)."""
        self.collector.refused = {address.lower() for address in addresses}

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        """The accepted messages once there are at least `count` (for a sender in a thread)."""
        deadline = time.monotonic() + timeout
        while len(self.collector.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.collector.received


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the caller binds it at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@contextmanager
def smtp_server(port: int | None = None, host: str = "127.0.0.1") -> Iterator[SmtpServer]:
    """A running server until the block ends; on `port` (to bring a "down" server up) or a
    free one, retried if another process took it in between."""
    collector = Collector()
    for attempt in range(5):
        chosen = port or free_port(host)
        controller = Controller(collector, hostname=host, port=chosen, ready_timeout=5)
        try:
            controller.start()
        except Exception:
            if port is not None or attempt == 4:
                raise
            continue
        break
    try:
        yield SmtpServer(host, chosen, collector)
    finally:
        controller.stop()


def use_smtp(app, port: int, host: str = "127.0.0.1") -> None:
    """Point the app at a plain SMTP server (no TLS, no login), with a short timeout."""
    app.config.update(
        MAIL_SERVER=host,
        MAIL_PORT=port,
        MAIL_TLS="none",
        MAIL_USERNAME="",
        MAIL_PASSWORD="",
        MAIL_TIMEOUT_SECONDS=5,
        MAIL_FROM="Réseau des élu·es <reseau@commun.example>",
        PUBLIC_URL="https://commun.example",
    )
