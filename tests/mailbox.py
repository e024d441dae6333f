"""A real SMTP server for tests (aiosmtpd), whose received mail tests can await."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import socket
import threading
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future]] = []
        self.refuse = False  # when True the server answers 451 to every mail
        self.reject: set[str] = set()  # recipients refused for good (550)
        self._controller = Controller(self, hostname=self.host, port=self.port)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001, N802
        if address in self.reject:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802 (aiosmtpd API)
        if self.refuse:
            return "451 Try again later"
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(msg)
            waiters, self._waiters = self._waiters, []
        for loop, fut in waiters:
            loop.call_soon_threadsafe(lambda f=fut: f.done() or f.set_result(None))
        return "250 OK"

    async def wait_for(self, to: str, count: int = 1, timeout: float = 15) -> list[EmailMessage]:
        """Await until `count` mails to `to` have arrived; return them, oldest first."""
        async def until() -> list[EmailMessage]:
            while True:
                loop = asyncio.get_running_loop()
                with self._lock:
                    found = [m for m in self.messages if to in m["To"]]
                    if len(found) >= count:
                        return found
                    fut = loop.create_future()
                    self._waiters.append((loop, fut))
                await fut
        return await asyncio.wait_for(until(), timeout)


def body_text(msg: EmailMessage) -> str:
    return msg.get_body(preferencelist=("plain",)).get_content()


def code_in(msg: EmailMessage) -> str:
    m = re.search(r"\b(\d{6})\b", body_text(msg))
    assert m, "no 6-digit code in the mail"
    return m.group(1)
