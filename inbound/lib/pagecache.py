"""Whole-page cache for public pages, which are the same for every anonymous citizen.

Keyed by language and full path; each entry remembers the generation it was rendered under.
Any change to what public pages show calls `public_pages_invalidate()`, which bumps the
generation so every cached page is stale at once (no key scans, the same on local memory and
Redis). A hit costs one cache round trip: the generation and the page are read together.
Staff (logged in) always get a fresh render, and a response that sets a cookie is never stored.

The key ignores the query string, so `?utm_source=…` variants share one entry and random
queries cannot flood the cache: only views whose output ignores the query may use it.
A view whose output depends on a few parameters (a list's `?page=`) names them with
`public_page(vary_on=("page",))`; only those enter the key, so other parameters still share it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.http import urlencode
from django.utils.translation import get_language

GENERATION_KEY = "pages:generation"


def public_pages_invalidate() -> None:
    """Drop every cached public page (call after changing anything they show)."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # no generation yet: nothing is cached under it
        cache.add(GENERATION_KEY, 1, timeout=None)


def public_page(
    view: Callable[..., HttpResponse] | None = None, *, vary_on: tuple[str, ...] = ()
) -> Any:
    """Cache the view's page per language and path (and the `vary_on` query parameters).

    Used bare (`@public_page`) or with parameters (`@public_page(vary_on=("page",))`).
    """
    if view is None:
        return lambda inner: _public_page(inner, vary_on)
    return _public_page(view, vary_on)


def _cache_key(request: HttpRequest, vary_on: tuple[str, ...]) -> str:
    key = f"pages:{get_language()}:{request.path}"
    varying = [(name, request.GET[name]) for name in vary_on if name in request.GET]
    return f"{key}?{urlencode(varying)}" if varying else key


def _public_page(
    view: Callable[..., HttpResponse], vary_on: tuple[str, ...]
) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        timeout = settings.PUBLIC_PAGE_CACHE_SECONDS
        if not timeout or request.method not in {"GET", "HEAD"} or request.user.is_authenticated:
            return view(request, *args, **kwargs)
        key = _cache_key(request, vary_on)
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
