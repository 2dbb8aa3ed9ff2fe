"""Whole-page cache for public pages, which are the same for every anonymous citizen.

Keyed by language and full path; each entry remembers the generation it was rendered under.
Any change to what public pages show calls `public_pages_invalidate()`, which bumps the
generation so every cached page is stale at once (no key scans, the same on local memory and
Redis). A hit costs one cache round trip: the generation and the page are read together.
Staff (logged in) always get a fresh render, and a response that sets a cookie is never stored.

The key ignores the query string, so `?utm_source=…` variants share one entry and random
queries cannot flood the cache: only views whose output ignores the query may use it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language

GENERATION_KEY = "pages:generation"


def public_pages_invalidate() -> None:
    """Drop every cached public page (call after changing anything they show)."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # no generation yet: nothing is cached under it
        cache.add(GENERATION_KEY, 1, timeout=None)


def public_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        timeout = settings.PUBLIC_PAGE_CACHE_SECONDS
        if (
            not timeout
            or request.method not in {"GET", "HEAD"}
            or request.user.is_authenticated
        ):
            return view(request, *args, **kwargs)
        key = f"pages:{get_language()}:{request.path}"
        found = cache.get_many([GENERATION_KEY, key])
        generation = found.get(GENERATION_KEY)
        if generation is None:
            cache.add(GENERATION_KEY, 1, timeout=None)
            generation = cache.get(GENERATION_KEY, 1)
        stored = found.get(key)
        if stored is not None and stored[0] == generation:
            _generation, content, content_type = stored
            return HttpResponse(content, content_type=content_type)
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and not response.cookies and not response.streaming:
            if hasattr(response, "render"):
                response.render()
            cache.set(key, (generation, response.content, response["Content-Type"]), timeout)
        return response

    return wrapped
