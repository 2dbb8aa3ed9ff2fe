"""A real SMTP server on loopback (aiosmtpd) for tests that send mail: the `smtp_sink` fixture
(tests/conftest.py) points Django's SMTP backend at it."""

from __future__ import annotations

from typing import Any


class SmtpSink:
    """Counts connections and keeps what came. An address listed in `answers` is answered with
    that SMTP reply at RCPT instead (e.g. "550 5.1.1 No such user", "451 4.3.0 Try later").
    `hang_up_at`: the message numbers (1-based, counting every DATA) at which the server drops
    the connection instead of answering, as a crashed or overloaded relay does; that message is
    not kept. `pipelining`: announce RFC 2920 command pipelining, as mainstream servers do
    (aiosmtpd reads commands in order whether it announces it or not)."""

    def __init__(self) -> None:
        self.connections = 0
        self.recipients: list[str] = []
        self.senders: list[str] = []  # each message's envelope sender (MAIL FROM)
        self.messages: list[bytes] = []
        self.answers: dict[str, str] = {}
        self.hang_up_at: set[int] = set()
        self.pipelining = True
        self.port = 0  # set when its server starts
        self._data = 0

    @property
    def url(self) -> str:
        """EMAIL_URL for a process that should send here."""
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.connections += 1
        session.host_name = hostname
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        answer = self.answers.get(address)
        if answer is not None:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self._data += 1
        if self._data in self.hang_up_at:
            server.transport.close()
            return "421 4.3.2 Closing connection"  # never reaches the client: it hung up
        self.recipients.extend(envelope.rcpt_tos)
        self.senders.append(envelope.mail_from)
        self.messages.append(envelope.original_content)
        return "250 OK"
