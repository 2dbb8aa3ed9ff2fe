"""Per-client rate limits for public endpoints, counted per hashed IP in the cache, and
per-subject quotas (e.g. e-mails to one address a day, whoever asks for them).

A fixed window per client or subject: the first hit starts it, and the count resets when it
expires. Good enough to stop one client hammering an expensive page or one inbox being
flooded; not an accounting system. Counting in
the cache keeps it cheap (one round trip with Redis: `ReusedClientRedisCache.incr_window`;
`add` and `incr` elsewhere) and shared between web processes when the cache is Redis. No raw
IP address is stored (`inbound.lib.privacy.request_ip_hash`).
"""

from __future__ import annotations

from django.core.cache import cache
from django.http import HttpRequest

from inbound.lib.privacy import request_ip_hash


def rate_limit_hit(*, request: HttpRequest, scope: str, limit: int, period: int) -> bool:
    """Count one hit from this client for `scope`; True once it is over `limit` per `period`
    seconds (clients without a known address share one counter)."""
    return _count(f"ratelimit:{scope}:{request_ip_hash(request) or 'unknown'}", period) > limit


def rate_limit_counted(*, key: str, scope: str, limit: int, period: int) -> bool:
    """Count one hit of anything named `key` (a client, a token's hash) for `scope`; True once
    it is over `limit` per `period` seconds."""
    return _count(f"ratelimit:{scope}:{key}", period) > limit


def quota_hit(*, scope: str, subject: str, limit: int, period: int) -> bool:
    """Count one use of `scope` for `subject` whoever asks; True once it is over `limit` per
    `period` seconds. `subject` goes into a cache key: pass a keyed hash, never personal data
    (e.g. `contacts.validation.email_fingerprint` of an address)."""
    return _count(f"quota:{scope}:{subject}", period) > limit


def _count(key: str, period: int) -> int:
    incr_window = getattr(cache, "incr_window", None)
    if incr_window is not None:
        return int(incr_window(key, period))
    cache.add(key, 0, timeout=period)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=period)
        return 1
