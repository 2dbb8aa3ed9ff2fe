"""Outgoing webhooks: where they may go, and how they are sent.

A webhook URL is typed by staff, and the server then POSTs personal data wherever it points. Left
unchecked, that lets anyone who can edit a form or a workflow make the server call what only it
can reach: the cloud metadata service (169.254.169.254), Redis, an intranet admin page
(server-side request forgery, OWASP's SSRF prevention cheat sheet). So a target must be an
http(s) URL whose host resolves only to public addresses:

- `webhook_target_problem(url)` says why a URL is refused, in words for staff: forms and admin
  validation call it, so a bad URL is refused when it is typed.
- `webhook_post(url, body, …)` checks again when it sends, and connects to exactly the addresses
  it checked (resolve once, check, connect to that IP with the name in the Host header and TLS
  SNI). A name that resolved to a public address when it was typed and to 127.0.0.1 now (DNS
  rebinding) is refused rather than called. It never follows a redirect: that would resend the
  data somewhere nobody checked.

Two settings loosen the check for deployments that mean it: `WEBHOOKS_ALLOW_PRIVATE` (any
address, e.g. a CRM on the institution's own network, and the tests' local server) and
`WEBHOOKS_ALLOWED_HOSTS` (these host names may resolve to private addresses). Outgoing proxies
(`HTTPS_PROXY`) are not used: the check is about the address we connect to.

Each call is signed: `X-Inbound-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`,
keyed with the target's shared secret, so the receiver can tell it came from us unaltered; the
time is inside what is signed, so a receiver that refuses signatures older than five minutes
cannot be fed a captured request again (a replay). Each attempt is signed afresh. How a
receiver checks it: docs/webhooks.md.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Mapping
from urllib.parse import SplitResult, urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

USER_AGENT = "Inbound-Webhook/1"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Carrier-grade NAT (RFC 6598): not "private" to `ipaddress`, but never a public server.
_SHARED = ipaddress.ip_network("100.64.0.0/10")
# NAT64 (RFC 6052): the IPv4 address it reaches is in the last 32 bits.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class WebhookRefused(Exception):
    """The URL may not be called (not http(s), a private address): retrying cannot help.
    Its message is `webhook_target_problem`'s, for staff."""


class WebhookFailed(Exception):
    """The call did not succeed (unknown host, no connection, timeout, non-2xx answer): worth
    trying again later."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def webhook_signature(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """The X-Inbound-Signature header value: `t=<timestamp>,v1=<HMAC-SHA256 of "<t>.<body>">`,
    the timestamp being now (Unix seconds) unless given."""
    signed_at = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{signed_at}.".encode() + body, hashlib.sha256)
    return f"t={signed_at},v1={digest.hexdigest()}"


def webhook_target_problem(url: str) -> str | None:
    """Why `url` may not be a webhook target, in the active language; None when it may.

    Resolves the host name (a DNS lookup): call it when a URL is typed, not per page view.
    """
    try:
        _target_addresses(url)
    except (WebhookRefused, WebhookFailed) as error:
        return str(error)
    return None


def webhook_fields_errors(url: str, secret: str) -> dict[str, str]:
    """The errors, by field, of a webhook as staff type it (a form's, a workflow step's): a URL
    that reaches our own network (SSRF) and a missing signing secret."""
    errors: dict[str, str] = {}
    if url and (problem := webhook_target_problem(url)):
        errors["webhook_url"] = problem
    if not secret:
        errors["webhook_secret"] = _("A webhook needs a secret to sign its requests.")
    return errors


def webhook_post(
    url: str,
    body: bytes,
    *,
    secret: str,
    headers: Mapping[str, str] | None = None,
    timeout: float,
) -> int:
    """POST `body` (JSON) to `url`, signed with `secret`; returns the 2xx status.

    Raises `WebhookRefused` when the target may not be called (before any connection), and
    `WebhookFailed` when the host is unknown or unreachable, the answer is not a 2xx (a redirect
    included) or `timeout` seconds pass waiting to connect or for an answer.
    """
    parts, addresses = _target_addresses(url)
    host = parts.hostname or ""
    connection = _connection(parts.scheme, host, parts.port, addresses, timeout)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    try:
        connection.request(
            "POST",
            path,
            body=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                **(headers or {}),
                "X-Inbound-Signature": webhook_signature(secret, body),
            },
        )
        status = connection.getresponse().status
    except TimeoutError:
        raise WebhookFailed(f"no answer within {timeout} s") from None
    except (OSError, http.client.HTTPException) as error:
        raise WebhookFailed(f"{type(error).__name__}: {error}") from None
    finally:
        connection.close()
    if not 200 <= status < 300:
        # A redirect too: following it would resend the data to a target nobody checked.
        raise WebhookFailed(f"HTTP {status}: not a 2xx answer", status=status)
    return status


def _target_addresses(url: str) -> tuple[SplitResult, list[IPAddress]]:
    """The URL's parts and the addresses its host resolves to, all of them allowed."""
    parts = urlsplit(url.strip())
    try:
        port = parts.port
    except ValueError:
        raise WebhookRefused(_("The webhook URL is not valid.")) from None
    if parts.scheme not in {"http", "https"}:
        raise WebhookRefused(_("A webhook URL must start with https:// or http://."))
    host = parts.hostname
    if not host:
        raise WebhookRefused(_("The webhook URL has no server name."))
    try:
        found = socket.getaddrinfo(
            host, port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM
        )
    except (OSError, UnicodeError):  # socket.gaierror is an OSError
        raise WebhookFailed(
            _("The webhook server %(host)s could not be found (no DNS address).") % {"host": host}
        ) from None
    addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in found))
    if not _private_allowed(host):
        for address in addresses:
            if not address_is_public(address):
                raise WebhookRefused(
                    _(
                        "The webhook URL points to a private or reserved network address "
                        "(%(address)s): webhooks may only call public servers."
                    )
                    % {"address": address}
                )
    return parts, addresses


def _private_allowed(host: str) -> bool:
    if settings.WEBHOOKS_ALLOW_PRIVATE:
        return True
    allowed = {name.lower().rstrip(".") for name in settings.WEBHOOKS_ALLOWED_HOSTS}
    return host.lower().rstrip(".") in allowed


def address_is_public(address: IPAddress) -> bool:
    """Whether `address` is a public unicast address: not private, loopback, link-local,
    reserved, multicast, unspecified or shared (100.64/10). An IPv6 address that carries an
    IPv4 one (IPv4-mapped, 6to4, NAT64) is judged by the IPv4 address it reaches."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            address = embedded
        elif address.is_site_local:
            return False
    return address.is_global and not (
        address in _SHARED
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    )


def _connect(addresses: list[IPAddress], port: int, timeout: float) -> socket.socket:
    """A socket connected to the first of the checked `addresses` that answers."""
    error: OSError = OSError("no address to connect to")
    for address in addresses:
        try:
            return socket.create_connection((str(address), port), timeout=timeout)
        except OSError as failure:
            error = failure
    raise error


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Plain HTTP to the checked addresses only; the Host header still names the server."""

    def __init__(
        self, host: str, port: int | None, *, addresses: list[IPAddress], timeout: float
    ) -> None:
        super().__init__(host, port, timeout=timeout)
        self.addresses = addresses
        self.call_timeout = timeout

    def connect(self) -> None:
        self.sock = _connect(self.addresses, self.port, self.call_timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to the checked addresses only; the certificate is verified for the host name (SNI)."""

    def __init__(
        self, host: str, port: int | None, *, addresses: list[IPAddress], timeout: float
    ) -> None:
        self.tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.tls)
        self.addresses = addresses
        self.call_timeout = timeout

    def connect(self) -> None:
        sock = _connect(self.addresses, self.port, self.call_timeout)
        self.sock = self.tls.wrap_socket(sock, server_hostname=self.host)


def _connection(
    scheme: str, host: str, port: int | None, addresses: list[IPAddress], timeout: float
) -> http.client.HTTPConnection:
    if scheme == "https":
        return _PinnedHTTPSConnection(host, port, addresses=addresses, timeout=timeout)
    return _PinnedHTTPConnection(host, port, addresses=addresses, timeout=timeout)
