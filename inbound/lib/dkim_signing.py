"""DKIM signatures (RFC 6376) on the bytes we hand to an SMTP server ourselves.

Off unless `CAMPAIGNS_DKIM_PRIVATE_KEY` (PEM text or a path to it), `CAMPAIGNS_DKIM_SELECTOR` and
`CAMPAIGNS_DKIM_DOMAIN` are all set. Signing is an RSA operation per message, and dkimpy does it
in pure Python: about 6.5 ms with a 2048-bit key (some 150 messages a second per core) against
well under a millisecond for the rest of a message. So a relay or ESP that signs (OpenDKIM on the
mail server, or the ESP's own DKIM) is the better place for large sends; this is for an
institution that sends straight to a plain SMTP relay. An ESP reached through anymail assembles
the message itself and signs it with its own key: nothing here applies to it.

RFC 8058 asks that `List-Unsubscribe` and `List-Unsubscribe-Post` be covered by the signature
for one-click unsubscribing to be trusted; dkimpy's default list leaves the second out, so the
headers signed are listed here. `From` is signed twice (an empty extra instance), so nobody can
add a second From after us.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import dkim
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from dkim.crypto import UnparsableKeyError, parse_pem_private_key

SIGNED_HEADERS = [
    b"from",
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"reply-to",
    b"mime-version",
    b"content-type",
    b"list-id",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
]


@dataclass(frozen=True)
class DkimSigner:
    selector: bytes
    domain: bytes
    private_key: bytes  # PEM

    def sign(self, message: bytes) -> bytes:
        """The message with its DKIM-Signature header in front."""
        header = dkim.sign(
            message,
            self.selector,
            self.domain,
            self.private_key,
            include_headers=SIGNED_HEADERS,
            linesep=b"\r\n",
        )
        return bytes(header) + message


def dkim_signer() -> DkimSigner | None:
    """The signer the settings describe, or None when DKIM signing is off.

    Raises ImproperlyConfigured when only some of the three settings are given, the key file is
    missing or the key is not an RSA private key in PEM.
    """
    return _signer(
        settings.CAMPAIGNS_DKIM_PRIVATE_KEY,
        settings.CAMPAIGNS_DKIM_SELECTOR,
        settings.CAMPAIGNS_DKIM_DOMAIN,
    )


@functools.lru_cache(maxsize=4)
def _signer(key: str, selector: str, domain: str) -> DkimSigner | None:
    given = [bool(key), bool(selector), bool(domain)]
    if not any(given):
        return None
    if not all(given):
        raise ImproperlyConfigured(
            "DKIM signing needs CAMPAIGNS_DKIM_PRIVATE_KEY, CAMPAIGNS_DKIM_SELECTOR and "
            "CAMPAIGNS_DKIM_DOMAIN together; set all three or none."
        )
    if "-----BEGIN" in key:
        pem = key.replace("\\n", "\n").encode()  # one line in an env file: "\n" written out
    else:
        try:
            pem = Path(key).read_bytes()
        except OSError as error:
            raise ImproperlyConfigured(
                f"CAMPAIGNS_DKIM_PRIVATE_KEY: can not read the key file {key!r} ({error})."
            ) from None
    try:
        parse_pem_private_key(pem)
    except (UnparsableKeyError, ValueError, IndexError):
        raise ImproperlyConfigured(
            "CAMPAIGNS_DKIM_PRIVATE_KEY is not an RSA private key in PEM "
            "(-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)."
        ) from None
    return DkimSigner(selector=selector.encode(), domain=domain.encode(), private_key=pem)
