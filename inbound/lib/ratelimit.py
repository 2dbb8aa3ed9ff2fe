"""Per-client rate limits for public endpoints, counted per hashed IP in the cache.

A fixed window per client: the first hit starts it, and the count resets when it expires.
Good enough to stop one client hammering an expensive page; not a quota system. Counting in
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
    return rate_limit_counted(
        key=request_ip_hash(request) or "unknown", scope=scope, limit=limit, period=period
    )


def rate_limit_counted(*, key: str, scope: str, limit: int, period: int) -> bool:
    """Count one hit of anything named `key` (a client, a token's hash) for `scope`; True once
    it is over `limit` per `period` seconds."""
    key = f"ratelimit:{scope}:{key}"
    incr_window = getattr(cache, "incr_window", None)
    if incr_window is not None:
        return int(incr_window(key, period)) > limit
    cache.add(key, 0, timeout=period)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=period)
        count = 1
    return count > limit
