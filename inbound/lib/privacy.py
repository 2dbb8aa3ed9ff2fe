"""Pseudonymous network identifiers: we never store a raw IP address (RGPD art. 5.1.c).

`ip_hash` is keyed on SECRET_KEY and stable, so whoever holds the key can recompute it for any
address: it serves security that keeps nothing on a contact's rows (rate-limit counters in the
cache, the staff audit log, login lockouts). Visitors are told apart by `inbound.visitors`
instead, under a random salt that lasts a day.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address, trusting X-Forwarded-For only for NUM_PROXIES proxies."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = settings.NUM_PROXIES
    if proxies:
        forwarded = [p.strip() for p in request.headers.get("X-Forwarded-For", "").split(",")]
        forwarded = [p for p in forwarded if p]
        if len(forwarded) >= proxies:
            remote = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(remote))
    except ValueError:
        return ""


def _digest(value: str) -> bytes:
    key = hashlib.sha256(b"inbound.ip_hash:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).digest()


def ip_hash(ip: str) -> str:
    """A keyed, non-reversible hash of an IP address (empty for no address)."""
    return _digest(ip).hex()[:32] if ip else ""


def request_ip_hash(request: HttpRequest | None) -> str:
    return ip_hash(client_ip(request)) if request is not None else ""


def axes_client_ip(request: HttpRequest) -> str:
    """django-axes stores an IP per attempt: give it a pseudonymous one in the ORCHID range.

    2001:10::/28 is reserved (RFC 4843) and never routed, so the value can't be mistaken for
    a real address, while the same client still maps to the same value for lockouts.
    """
    ip = client_ip(request)
    if not ip:
        return ""
    digest = int.from_bytes(_digest(ip)[:13], "big") >> 4  # 100 bits
    return str(ipaddress.IPv6Address((0x2001001 << 100) | digest))
