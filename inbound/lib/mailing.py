"""E-mail rendered once and sent to many: the fast path of every sender of bulk mail.

Rendering two templates and assembling MIME with Python's `email` package costs milliseconds per
message, yet a group's messages differ only in a few values: an opt-in e-mail of one form in one
language differs by the address and the signed link. `MessageTemplate` renders and assembles a
group once, with placeholders ("slots") where the values go, and `message()` makes each
recipient's copy by joining the finished bytes with that recipient's values (microseconds).

The copy is a real `EmailMultiAlternatives` (its `to`, `body` and alternatives hold the values),
so every backend can send it; `send_prepared()` hands the SMTP backend the joined bytes directly
(or Django's assembly of them), with the template's envelope sender (a return path may differ
from From) and, when it has one, its signer (DKIM) applied to exactly those bytes. A sender that
talks SMTP itself (`inbound.lib.courier`) asks for `outgoing()` instead: the envelope and the
final bytes, without the message object around them.
Whenever the fast path can't be proven right, the message falls back to Django's own assembly:
a slot that the encoder split or escaped, an address that needs encoding (IDN, a display name),
a value with a line break or long enough to break the 998-byte line limit, a header value that
is not plain URL characters. Body slots take any text: the caller escapes what goes into HTML.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import formatdate, make_msgid
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import sanitize_address
from django.core.mail.utils import DNS_NAME

# What a header slot may hold: characters header folding and encoding leave alone.
_SAFE_VALUE = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$()*+,;=%]*")
_LINE_LIMIT = 998  # RFC 5322, in bytes, without CRLF
_SIMPLE_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+")

# Header slots every copy fills itself.
TO, MESSAGE_ID, DATE = "to", "message_id", "date"


class MessageTemplate:
    """One rendered e-mail with named slots, ready to be copied for each recipient.

    `slot(name)` is the placeholder to put in the context before rendering `text` and `html`
    (made on first use); `header_slots` are the slots used in header values. Then `build` the
    template with the rendered strings.
    """

    def __init__(self, header_slots: Sequence[str] = ()) -> None:
        self._nonce = nonce = secrets.token_hex(6)
        self._placeholders = {name: f"inbound-slot-{name}-{nonce}" for name in header_slots}
        self._ascii_slots = set(header_slots)
        self._header_slots = {
            name: f"inbound-slot-{name}-{nonce}" for name in (TO, MESSAGE_ID, DATE)
        }
        self._parts: list[bytes | str] | None = None
        # Each line holding value slots: its length without them, and how often each occurs.
        self._slot_lines: list[tuple[int, tuple[tuple[str, int], ...]]] = []
        self.subject = self.text = self.html = ""
        self.from_email = self.envelope_from = ""
        self.headers: dict[str, str] = {}
        self.signer: Callable[[bytes], bytes] | None = None

    def slot(self, name: str) -> str:
        placeholder = self._placeholders.get(name)
        if placeholder is None:
            # A body slot ends in a non-ASCII character: every part holding one is sent 8bit,
            # so a recipient's value in any script can be joined in as UTF-8 bytes.
            placeholder = self._placeholders[name] = f"inbound-slot-{name}-{self._nonce}\u00b7"
        return placeholder

    def build(
        self,
        *,
        subject: str,
        text: str,
        html: str | None,
        from_email: str | None = None,
        headers: Mapping[str, str] | None = None,
        envelope_from: str | None = None,
        signer: Callable[[bytes], bytes] | None = None,
    ) -> MessageTemplate:
        """`from_email` is the From header (a display name is fine: it is encoded once, here);
        `envelope_from` the SMTP MAIL FROM, where bounces go (default: the From address);
        `signer` turns each copy's final bytes into signed ones (DKIM) before SMTP sends them."""
        self.subject, self.text, self.html = subject, text, html or ""
        self.from_email = from_email or settings.DEFAULT_FROM_EMAIL
        self.headers = dict(headers or {})
        self.envelope_from = sanitize_address(
            envelope_from or self.from_email, settings.DEFAULT_CHARSET
        )
        self.signer = signer
        slots = self._header_slots
        probe = EmailMultiAlternatives(
            subject=subject,
            body=text,
            from_email=self.from_email,
            to=[f"{slots[TO]}@inbound.invalid"],
            headers={
                **self.headers,
                "Message-ID": f"<{slots[MESSAGE_ID]}@inbound.invalid>",
                "Date": slots[DATE],
            },
        )
        if html:
            probe.attach_alternative(html, "text/html")
        raw = probe.message().as_bytes(linesep="\r\n")  # type: ignore[call-arg]  # Django's own
        expected = subject + text + (html or "") + "".join(self.headers.values())
        self._parts = self._split(raw, expected=expected)
        self._slot_lines = self._lines_with_slots(raw)
        return self

    def _split(self, raw: bytes, *, expected: str) -> list[bytes | str] | None:
        """The raw message cut at every slot, or None if a slot did not survive intact."""
        header_slots = {
            f"{self._header_slots[TO]}@inbound.invalid": TO,
            f"<{self._header_slots[MESSAGE_ID]}@inbound.invalid>": MESSAGE_ID,
            self._header_slots[DATE]: DATE,
        }
        names = {**{p: n for n, p in self._placeholders.items()}, **header_slots}
        for placeholder, name in names.items():
            wanted = 1 if name in (TO, MESSAGE_ID, DATE) else expected.count(placeholder)
            if raw.count(placeholder.encode()) != wanted:
                return None  # encoded (quoted-printable, base64) or folded: assemble each copy
        # Longest first: a slot's name may begin another's.
        ordered = sorted(names, key=len, reverse=True)
        pattern = re.compile(b"(" + b"|".join(re.escape(p.encode()) for p in ordered) + b")")
        parts: list[bytes | str] = []
        for index, piece in enumerate(pattern.split(raw)):
            parts.append(names[piece.decode()] if index % 2 else piece)
        return parts

    def message(self, *, to: str, values: Mapping[str, str]) -> PreparedEmail:
        """This template's copy for one recipient, with every slot filled."""

        def fill(content: str) -> str:
            for name, placeholder in self._placeholders.items():
                content = content.replace(placeholder, values.get(name, ""))
            return content

        message = PreparedEmail(
            subject=self.subject,
            body=fill(self.text),
            from_email=self.from_email,
            to=[to],
            headers={name: fill(value) for name, value in self.headers.items()},
        )
        if self.html:
            message.attach_alternative(fill(self.html), "text/html")
        message.envelope_from = self.envelope_from
        message.signer = self.signer
        message.message_id = make_msgid(domain=DNS_NAME)
        # Also for the joined copy: a backend other than SMTP assembles it, with this Message-ID.
        message.extra_headers["Message-ID"] = message.message_id
        if self._parts is not None and self._fast_ok(to, values):
            message.raw = self._join(self._parts, to, message.message_id, values)
        return message

    def outgoing(self, *, to: str, values: Mapping[str, str]) -> Outgoing | None:
        """This template's copy for one recipient as SMTP sends it (signed when the template
        signs), or None when the fast path can't be proven right: then `message()`'s copy, which
        Django assembles, is the one to send. Builds no message object: the bulk path."""
        if self._parts is None or not self._fast_ok(to, values):
            return None
        message_id = make_msgid(domain=DNS_NAME)
        data = self._join(self._parts, to, message_id, values)
        if self.signer is not None:
            data = self.signer(data)
        return Outgoing(
            envelope_from=self.envelope_from, recipients=(to,), data=data, message_id=message_id
        )

    def _lines_with_slots(self, raw: bytes) -> list[tuple[int, tuple[tuple[str, int], ...]]]:
        placeholders = {name: p.encode() for name, p in self._placeholders.items()}
        lines = []
        for line in raw.split(b"\r\n"):
            counts = tuple((name, line.count(p)) for name, p in placeholders.items() if p in line)
            if counts:
                fixed = len(line) - sum(len(placeholders[name]) * n for name, n in counts)
                lines.append((fixed, counts))
        return lines

    def _fast_ok(self, to: str, values: Mapping[str, str]) -> bool:
        if _SIMPLE_ADDRESS.fullmatch(to) is None:
            return False
        sizes: dict[str, int] = {}
        for name, value in values.items():
            if "\r" in value or "\n" in value or "\x00" in value:
                return False
            if name in self._ascii_slots and _SAFE_VALUE.fullmatch(value) is None:
                return False
            sizes[name] = len(value.encode())
        # Every line as it will be once filled (a slot may occur several times on one line, e.g.
        # a tracked link): none may pass the limit. Header slots (To, Message-ID, Date) have
        # lines of their own, far below it.
        for fixed, counts in self._slot_lines:
            if fixed + sum(sizes.get(name, 0) * n for name, n in counts) > _LINE_LIMIT:
                return False
        return True

    def _join(
        self, parts: list[bytes | str], to: str, message_id: str, values: Mapping[str, str]
    ) -> bytes:
        filled = {
            TO: to,
            MESSAGE_ID: message_id,
            DATE: formatdate(localtime=settings.EMAIL_USE_LOCALTIME),
            **values,
        }
        return b"".join(
            part if isinstance(part, bytes) else filled.get(part, "").encode() for part in parts
        )


class PreparedEmail(EmailMultiAlternatives):
    """A recipient's copy of a `MessageTemplate`; `raw` holds its bytes when they were joined."""

    raw: bytes | None = None
    envelope_from: str = ""
    signer: Callable[[bytes], bytes] | None = None
    # Its Message-ID, whichever way it is assembled; after an ESP (anymail) sent it, the ESP's
    # id of it, which the ESP's bounce and complaint webhooks quote.
    message_id: str = ""


@dataclass(frozen=True)
class Outgoing:
    """One copy as an SMTP server is handed it: the envelope and the final (signed) bytes."""

    envelope_from: str
    recipients: tuple[str, ...]
    data: bytes
    message_id: str


def outgoing_of(message: PreparedEmail) -> Outgoing:
    """The copy's bytes as SMTP sends them: the joined ones, else Django's assembly; signed
    when the template signs."""
    raw, recipients = message.raw, list(message.to)
    if raw is None:
        encoding = message.encoding or settings.DEFAULT_CHARSET
        raw = message.message().as_bytes(linesep="\r\n")  # type: ignore[call-arg]
        recipients = [sanitize_address(address, encoding) for address in message.recipients()]
    if message.signer is not None:
        raw = message.signer(raw)
    return Outgoing(
        envelope_from=message.envelope_from,
        recipients=tuple(recipients),
        data=raw,
        message_id=message.message_id,
    )


def send_prepared(message: PreparedEmail, connection: BaseEmailBackend | None = None) -> None:
    """Send one copy: its bytes straight to an SMTP connection, else the usual way.

    Over SMTP the bytes are ours either way (joined, or assembled by Django), so the envelope
    sender may differ from From (a return path) and a DKIM signature covers exactly what is sent.
    Raises what the backend raises (smtplib errors); the caller decides about retries.
    """
    backend = connection or get_connection()
    if isinstance(backend, SMTPBackend):
        copy = outgoing_of(message)
        if backend.connection is None:
            backend.open()
        smtp: Any = backend.connection
        try:
            smtp.sendmail(copy.envelope_from, list(copy.recipients), copy.data)
        finally:
            if connection is None:  # ours alone: closed as Django's send() would
                backend.close()
        return
    message.connection = backend
    message.send()
    esp_id = getattr(getattr(message, "anymail_status", None), "message_id", None)
    if esp_id is not None and not isinstance(esp_id, set):  # a set: recipients got several
        message.message_id = str(esp_id)
