"""Visitor keys: telling anonymous visitors apart for one day, and never longer.

A visitor key is a keyed BLAKE2b hash of the site, the client's address and its user agent
under the random salt of the day, as Plausible Analytics does. Each day (in TIME_ZONE) gets a
fresh salt from `secrets`, stored in `VisitorSalt` so that every web process and worker uses
the same one, and deleted two days later. Once it is gone nobody, not even whoever holds
SECRET_KEY, can recompute a key of that day from an address, and keys of different days have
nothing in common: yesterday's visitor cannot be recognised today.

Under Global Privacy Control (`Sec-GPC: 1`) or Do Not Track (`DNT: 1`) there is no key at all.

The hot path (every tracked page view and submission): the salt is memoised per process for
its day, and shared through the cache, so once a process has it a key costs one hash and no
query. The first request of a day anywhere creates the salt (`get_or_create` on the unique
day: two workers at midnight agree on one) and deletes the salts past their two days; beat
does the same just after midnight (`visitor_salts_rotate`), so old salts go even on a day
nobody visits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone

from inbound.lib.privacy import client_ip
from inbound.models import VisitorSalt

# A salt serves its own day and the next (requests in flight at midnight), then is deleted.
SALT_DAYS_KEPT = 2
CACHE_PREFIX = "inbound.visitors.salt:"
USER_AGENT_MAX = 512  # longer strings are noise (or an attack) and change nothing

_memo: tuple[dt.date, bytes] | None = None  # this process's salt of the day


def tracking_refused(request: HttpRequest) -> bool:
    """The browser asks not to be tracked: Global Privacy Control or Do Not Track."""
    return request.headers.get("Sec-GPC") == "1" or request.headers.get("DNT") == "1"


def visitor_key(request: HttpRequest) -> str:
    """Today's pseudonymous key of this visitor; empty under GPC/DNT or without an address."""
    if tracking_refused(request):
        return ""
    ip = client_ip(request)
    if not ip:
        return ""
    agent = request.headers.get("User-Agent", "")[:USER_AGENT_MAX]
    message = "\n".join((settings.SITE_URL, ip, agent)).encode()
    return hashlib.blake2b(message, key=salt_of_today(), digest_size=16).hexdigest()


def salt_of_today() -> bytes:
    """The salt of the current day: from this process's memo, else the cache, else the
    database (created on the first request of the day)."""
    global _memo
    today = timezone.localdate()
    memo = _memo
    if memo is not None and memo[0] == today:
        return memo[1]
    key = f"{CACHE_PREFIX}{today.isoformat()}"
    cached = cache.get(key)
    if isinstance(cached, str):
        salt = bytes.fromhex(cached)
        _memo = (today, salt)
        return salt
    salt = bytes.fromhex(_salt_stored(today).salt)
    cache.set(key, salt.hex(), timeout=_seconds_until_expiry(today))
    _memo = (today, salt)
    return salt


def visitor_salts_rotate() -> int:
    """Make sure today's salt exists and delete the salts past their two days; how many went."""
    today = timezone.localdate()
    _salt_stored(today)
    return _salts_expired_delete(today)


def _salt_stored(day: dt.date) -> VisitorSalt:
    found, created = VisitorSalt.objects.get_or_create(
        day=day, defaults={"salt": secrets.token_bytes(32).hex()}
    )
    if created:
        _salts_expired_delete(day)
    return found


def _salts_expired_delete(today: dt.date) -> int:
    oldest_kept = today - dt.timedelta(days=SALT_DAYS_KEPT - 1)
    expired = list(VisitorSalt.objects.filter(day__lt=oldest_kept).values_list("day", flat=True))
    if not expired:
        return 0
    VisitorSalt.objects.filter(day__in=expired).delete()
    # The cache copies expire on their own at the same moment; this covers a clock moved by hand.
    cache.delete_many([f"{CACHE_PREFIX}{day.isoformat()}" for day in expired])
    return len(expired)


def _seconds_until_expiry(day: dt.date) -> int:
    """Seconds from now until the salt of `day` is deleted (midnight starting day + 2)."""
    end = timezone.make_aware(
        dt.datetime.combine(day + dt.timedelta(days=SALT_DAYS_KEPT), dt.time.min)
    )
    return max(1, int((end - timezone.now()).total_seconds()))


def salt_memo_forget() -> None:
    """Drop this process's memo (tests that move the clock or empty the table)."""
    global _memo
    _memo = None
