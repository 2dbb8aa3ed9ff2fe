"""Handing many messages to the mail backend, and learning what became of each.

A `Courier` takes copies one after another (`hand`) and reports each one's fate as an `Outcome`
once it is known; `collect` waits for the fate of all of them. Over SMTP it pipelines (RFC 2920,
which mainstream servers announce): the data of one message, its end and the next message's
`MAIL`, `RCPT` and `DATA` leave in one write, and their answers are read only when the next
message is handed. The server works while the caller renders the next message, and a message
costs one round trip instead of the four of `smtplib.sendmail`, which waits for each command.
A server that does not announce PIPELINING gets `smtplib.sendmail`, one message at a time; any
other backend (an ESP through anymail, the file or memory backends) `send_prepared`.

A lost connection is judged message by message: one whose data had been written may have been
delivered (only the answer was lost), so it fails with the error and its sender tries it again
later (a possible duplicate, never a loss); one whose data had not been written surely was not,
so the courier hands it again at once over a new connection (once).
"""

from __future__ import annotations

import contextlib
import functools
import re
import smtplib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend

from inbound.lib.mailing import Outgoing, PreparedEmail, outgoing_of, send_prepared

# RFC 5321 4.5.2: a line of data that begins with a period gets one more.
_LEADING_PERIOD = re.compile(rb"(?m)^\.")
# An address written as it stands between < and >; anything else goes through smtplib's quoting.
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+")


@dataclass(frozen=True)
class Outcome:
    """What became of one handed message: `error` is None when the server accepted it."""

    key: int  # the caller's number for the message (a delivery's id)
    message_id: str
    error: Exception | None = None


@dataclass(eq=False)
class _Transaction:
    key: int
    copy: Outgoing
    replies: list[tuple[int, bytes]] = field(default_factory=list)  # MAIL, each RCPT, DATA
    data_written: bool = False
    refusal: Exception | None = None


_Awaited = tuple[_Transaction | None, Literal["command", "end", "reset"]]


class ConnectionLost(Exception):
    """The connection failed; the pipeline says which messages' data had been written."""

    def __init__(self, error: Exception) -> None:
        super().__init__(f"{type(error).__name__}: {error}")
        self.error = error


class SMTPPipeline:
    """RFC 2920 over one open `smtplib.SMTP` connection.

    Answers come back in the order commands were written, so what is awaited is one queue whose
    entries name the transaction each answer belongs to. At most two transactions are open: one
    whose data and end were written, awaiting the end's answer, and one whose `MAIL`, `RCPT` and
    `DATA` were written, awaiting those answers before its data may follow.
    """

    def __init__(self, smtp: smtplib.SMTP) -> None:
        self.smtp = smtp
        smtp.ehlo_or_helo_if_needed()
        self.pipelining = smtp.has_extn("pipelining")
        self._awaited: deque[_Awaited] = deque()
        self._opening: _Transaction | None = None  # MAIL, RCPT and DATA written, no data yet
        self._next: _Transaction | None = None  # being submitted: nothing of it answered yet

    @property
    def busy(self) -> bool:
        return bool(self._awaited) or self._opening is not None

    def submit(self, key: int, copy: Outgoing) -> list[Outcome]:
        """Write this message's commands, after the data of the one before; the outcomes that
        became known meanwhile. Raises `ConnectionLost`."""
        transaction = self._next = _Transaction(key, copy)
        if not self.pipelining:
            self._next = None
            return [self._send_alone(transaction)]
        outcomes = self._read_awaited()
        out, known = self._finish_opening()
        recipients = b"".join(b"RCPT TO:%s\r\n" % _address(r) for r in copy.recipients)
        out += b"MAIL FROM:%s\r\n%sDATA\r\n" % (_address(copy.envelope_from), recipients)
        self._write(out)
        self._opening, self._next = transaction, None
        self._awaited.extend([(transaction, "command")] * (2 + len(copy.recipients)))
        return outcomes + known

    def drain(self) -> list[Outcome]:
        """Finish every open transaction; their outcomes. Raises `ConnectionLost`."""
        outcomes = self._read_awaited()
        out, known = self._finish_opening()
        if out:
            self._write(out)
            outcomes += self._read_awaited()
        return outcomes + known

    def lost(self) -> tuple[list[_Transaction], list[_Transaction]]:
        """After `ConnectionLost`: the open transactions whose data had been written (fate
        unknown) and those whose data had not (surely not delivered)."""
        open_ = [t for t, _kind in self._awaited if t is not None]
        open_ += [t for t in (self._opening, self._next) if t is not None]
        unique = list(dict.fromkeys(open_))
        return [t for t in unique if t.data_written], [t for t in unique if not t.data_written]

    def _write(self, out: bytes) -> None:
        try:
            self.smtp.send(out)
        except (smtplib.SMTPException, OSError) as error:
            raise ConnectionLost(error) from error

    def _read_awaited(self) -> list[Outcome]:
        outcomes = []
        while self._awaited:
            transaction, kind = self._awaited[0]
            try:
                reply = self.smtp.getreply()
            except (smtplib.SMTPException, OSError) as error:
                raise ConnectionLost(error) from error
            self._awaited.popleft()
            if transaction is None:
                continue  # the answer to a RSET
            if kind == "command":
                transaction.replies.append(reply)
            else:
                outcomes.append(_outcome(transaction, end=reply))
        return outcomes

    def _finish_opening(self) -> tuple[bytes, list[Outcome]]:
        """What follows the open transaction's answers: its data and end when DATA was taken,
        else a RSET when MAIL was (the server still holds the transaction); with the outcome
        already known when there is no data phase."""
        transaction, self._opening = self._opening, None
        if transaction is None:
            return b"", []
        transaction.refusal = _refusal(transaction)
        if transaction.replies[-1][0] == 354:
            transaction.data_written = True
            self._awaited.append((transaction, "end"))
            if transaction.refusal is not None:  # DATA taken after a refusal: end it empty
                return b".\r\n", []
            data = _LEADING_PERIOD.sub(b"..", transaction.copy.data)
            return data + (b".\r\n" if data.endswith(b"\r\n") else b"\r\n.\r\n"), []
        known = [_outcome(transaction, end=None)]
        if transaction.replies[0][0] == 250:
            self._awaited.append((None, "reset"))
            return b"RSET\r\n", known
        return b"", known

    def _send_alone(self, transaction: _Transaction) -> Outcome:
        copy = transaction.copy
        try:
            self.smtp.sendmail(copy.envelope_from, list(copy.recipients), copy.data)
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            transaction.data_written = True  # sendmail does not say how far it got
            self._awaited.append((transaction, "end"))
            raise ConnectionLost(error) from error
        except smtplib.SMTPException as error:
            return Outcome(transaction.key, copy.message_id, error)
        return Outcome(transaction.key, copy.message_id)


@functools.lru_cache(maxsize=64)  # the envelope sender, the same for every message
def _address(address: str) -> bytes:
    if _PLAIN_ADDRESS.fullmatch(address):
        return b"<%s>" % address.encode()
    return smtplib.quoteaddr(address).encode()


def _refusal(transaction: _Transaction) -> Exception | None:
    """A refused MAIL, RCPT or DATA, as `smtplib.sendmail` raises it."""
    copy, replies = transaction.copy, transaction.replies
    code, message = replies[0]
    if code != 250:
        return smtplib.SMTPSenderRefused(code, message, copy.envelope_from)
    refused = {
        recipient: reply
        for recipient, reply in zip(copy.recipients, replies[1:-1], strict=True)
        if reply[0] not in (250, 251)
    }
    if refused:
        return smtplib.SMTPRecipientsRefused(refused)  # type: ignore[arg-type]
    code, message = replies[-1]
    return None if code == 354 else smtplib.SMTPDataError(code, message)


def _outcome(transaction: _Transaction, *, end: tuple[int, bytes] | None) -> Outcome:
    error = transaction.refusal
    if error is None and end is not None and end[0] != 250:
        error = smtplib.SMTPDataError(*end)
    return Outcome(transaction.key, transaction.copy.message_id, error)


class Courier:
    """Hands messages to one mail backend and reports what became of each (`Outcome`).

    `smtp` says which kind of message to hand: `Outgoing` bytes for an SMTP backend (the courier
    speaks SMTP on the backend's connection), a `PreparedEmail` for any other.
    """

    def __init__(self, backend: BaseEmailBackend) -> None:
        self.backend = backend
        self._smtp_backend = backend if isinstance(backend, SMTPBackend) else None
        self.smtp = self._smtp_backend is not None
        self._pipeline: SMTPPipeline | None = None
        self._handed_again: set[int] = set()

    def hand(self, key: int, message: Outgoing | PreparedEmail) -> list[Outcome]:
        """Send `message` (`key` names it in its outcome); the outcomes known so far."""
        smtp = self._smtp_backend
        if smtp is None:
            if not isinstance(message, PreparedEmail):
                raise TypeError("only an SMTP backend takes Outgoing bytes")
            return [_send_prepared(key, message, self.backend)]
        copy = message if isinstance(message, Outgoing) else outgoing_of(message)
        try:
            pipeline = self._connected(smtp)
        except (smtplib.SMTPException, OSError) as error:
            self._disconnect()
            return [Outcome(key, copy.message_id, error)]
        return self._on(pipeline, lambda: pipeline.submit(key, copy))

    def collect(self) -> list[Outcome]:
        """Wait for the fate of every message handed; their outcomes."""
        outcomes: list[Outcome] = []
        while (pipeline := self._pipeline) is not None and pipeline.busy:
            outcomes += self._on(pipeline, pipeline.drain)
        return outcomes

    def _connected(self, smtp: SMTPBackend) -> SMTPPipeline:
        if self._pipeline is None or smtp.connection is None:
            if smtp.connection is None:
                smtp.open()
            if smtp.connection is None:  # a backend that fails silently
                raise smtplib.SMTPServerDisconnected("no connection to the mail server")
            self._pipeline = SMTPPipeline(smtp.connection)
        return self._pipeline

    def _on(self, pipeline: SMTPPipeline, action: Callable[[], list[Outcome]]) -> list[Outcome]:
        try:
            return action()
        except ConnectionLost as lost:
            self._disconnect()
            written, unsent = pipeline.lost()
            outcomes = [Outcome(t.key, t.copy.message_id, lost.error) for t in written]
            for transaction in unsent:
                if transaction.key in self._handed_again:
                    outcomes.append(
                        Outcome(transaction.key, transaction.copy.message_id, lost.error)
                    )
                    continue
                self._handed_again.add(transaction.key)
                outcomes += self.hand(transaction.key, transaction.copy)
            return outcomes

    def _disconnect(self) -> None:
        self._pipeline = None
        if self._smtp_backend is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._smtp_backend.close()
            self._smtp_backend.connection = None


def _send_prepared(key: int, message: PreparedEmail, backend: BaseEmailBackend) -> Outcome:
    try:
        send_prepared(message, backend)
    except (smtplib.SMTPException, OSError) as error:
        return Outcome(key, message.message_id, error)
    return Outcome(key, message.message_id)
