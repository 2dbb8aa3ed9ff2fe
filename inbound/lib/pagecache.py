"""Whole-page cache for public pages, which are the same for every anonymous citizen.

Keyed by language and path; each entry remembers the generation it was rendered under. Any
change to what public pages show calls `public_pages_invalidate()`, which bumps the generation
so every cached page is stale at once (no key scans, the same on local memory and Redis).
Staff (logged in) always get a fresh render, and a response that sets a cookie is never stored.

Two halves:

- `@public_page` on a view marks its anonymous 200 responses as cacheable under their key (and
  serves hits itself for requests with a query string).
- `PublicPageCacheMiddleware`, high in the stack, stores marked responses on their way out —
  after the inner middleware added their headers (Content-Language, Vary) — and answers
  requests without a query string straight from the cache, before sessions, URL resolving,
  CSRF, authentication or the view run: a hit costs one cache round trip and no query. The
  stored ETag and Last-Modified answer conditional requests with 304 on a hit too. Each process
  also keeps the pages it served lately (`LOCAL_PAGES`), checked against the shared generation,
  so a hit moves a few bytes from the cache server rather than the whole page.

Parts of a page that cost queries (the home's news and topics, an article's text and related
news) are also kept as rendered fragments (`public_fragment`, the `{% public_fragment %}` tag of
`inbound.templatetags.fragments`) under the same generation, so the renders the page cache does
not answer — a citizen with a session cookie, a query string, the page cache off — skip those
queries too. Signed-in staff always get everything fresh. `PUBLIC_FRAGMENT_CACHE_SECONDS`
bounds a fragment's life; it is independent of the page cache, which may be off while fragments
still help.

The key ignores the query string, so `?utm_source=…` variants share one entry and random
queries cannot flood the cache: only views whose output ignores the query may use it.
A view whose output depends on a few parameters (a list's `?page=`) names them with
`public_page(vary_on=("page",))`; only those enter the key, so other parameters still share it.
"""

from __future__ import annotations

import hashlib
import pickle
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import quote

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import get_conditional_response
from django.utils.http import parse_http_date_safe, urlencode
from django.utils.translation import get_language, get_language_from_path

GENERATION_KEY = "pages:generation"
KEY_PREFIX = "pages:v3"
FRAGMENT_KEY_PREFIX = "fragments:v1"
# Fragments each process keeps a copy of (a few KB each): a hit then costs no cache round trip
# beyond the generation, read once per request.
LOCAL_FRAGMENTS = 512
_local_fragments: dict[str, tuple[str | bytes, float]] = {}
T = TypeVar("T")
# Pages each process keeps a copy of, so a hit reads only the small generation number from the
# shared cache, not the whole page (about 20 KB for an article).
LOCAL_PAGES = 256
_local_pages: dict[str, Any] = {}
CONDITIONAL_HEADERS = (
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_MATCH",
    "HTTP_IF_UNMODIFIED_SINCE",
)
# Headers a cached page is served with; the outer middleware (security, CSP, frame options,
# request id) add theirs to every response, hit or not.
STORED_HEADERS = (
    "Content-Type",
    "Content-Language",
    "Vary",
    "ETag",
    "Last-Modified",
    "X-Robots-Tag",
    "Link",
)


def public_pages_invalidate() -> None:
    """Drop every cached public page (call after changing anything they show)."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # no generation yet: nothing is cached under it
        _first_generation()


def public_page(
    view: Callable[..., HttpResponseBase] | None = None, *, vary_on: tuple[str, ...] = ()
) -> Any:
    """Cache the view's page per language and path (and the `vary_on` query parameters).

    Used bare (`@public_page`) or with parameters (`@public_page(vary_on=("page",))`).
    Put it outermost, above `condition`/`etag` decorators, so a hit runs none of them.
    """
    if view is None:
        return lambda inner: _public_page(inner, vary_on)
    return _public_page(view, vary_on)


def _key(language: str, path: str, varying: list[tuple[str, str]] | None = None) -> str:
    """Printable ASCII whatever the path holds (spaces, control characters), and bounded."""
    address = quote(path) + (f"?{urlencode(varying)}" if varying else "")
    if len(address) > 200:
        address = hashlib.sha256(address.encode()).hexdigest()
    return f"{KEY_PREFIX}:{language}:{address}"


def _cacheable_request(request: HttpRequest) -> bool:
    return bool(settings.PUBLIC_PAGE_CACHE_SECONDS) and request.method in {"GET", "HEAD"}


def _first_generation() -> Any:
    """Start the generation at the clock in milliseconds, not at 1: after the cache is
    flushed, a new generation never equals one a worker still holds pages of."""
    cache.add(GENERATION_KEY, int(time.time() * 1000), timeout=None)
    return cache.get(GENERATION_KEY)


def _current(entry: Any, generation: Any) -> bool:
    """`entry` was stored under `generation`, which is known (with the cache unreachable it is
    not, and no copy can be trusted), and has not expired."""
    return (
        generation is not None
        and isinstance(entry, tuple)
        and len(entry) == 4
        and entry[0] == generation
        and entry[3] > time.time()
    )


def _remember(key: str, entry: Any) -> None:
    """Keep a copy in this process; the oldest copy goes first once it holds LOCAL_PAGES."""
    if len(_local_pages) >= LOCAL_PAGES:
        _local_pages.pop(next(iter(_local_pages)), None)
    _local_pages[key] = entry


def _lookup(key: str) -> tuple[Any, Any]:
    """The current generation and the entry stored under `key`.

    A page this process already holds costs one small read (the generation); otherwise the
    generation and the page are read together, in one round trip.
    """
    local = _local_pages.get(key)
    if local is not None:
        generation = cache.get(GENERATION_KEY)
        if _current(local, generation):
            return generation, local
    found = cache.get_many([GENERATION_KEY, key])
    generation = found.get(GENERATION_KEY)
    if generation is None:
        generation = _first_generation()
    entry = found.get(key)
    if _current(entry, generation):
        _remember(key, entry)
    return generation, entry


def _served(request: HttpRequest, entry: Any, generation: Any) -> HttpResponseBase | None:
    """The cached page (or a 304 for it), if `entry` is current."""
    if not _current(entry, generation):
        return None
    _generation, content, headers, _expires = entry
    conditional = _conditional_response(request, headers)
    if conditional is not None:
        return conditional
    response = HttpResponse(content)
    for name, value in headers.items():
        response[name] = value
    return response


def _conditional_response(request: HttpRequest, headers: dict[str, str]) -> Any:
    """A 304 (or 412) for a conditional request the stored validators satisfy."""
    meta = request.META
    if not any(name in meta for name in CONDITIONAL_HEADERS):
        return None
    conditional = get_conditional_response(
        request,
        etag=headers.get("ETag"),
        last_modified=parse_http_date_safe(headers.get("Last-Modified", "")),
    )
    if conditional is not None:
        for name in ("ETag", "Last-Modified", "Vary", "Content-Language"):
            if name in headers:
                conditional[name] = headers[name]
    return conditional


def _public_page(
    view: Callable[..., HttpResponseBase], vary_on: tuple[str, ...]
) -> Callable[..., HttpResponseBase]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not _cacheable_request(request) or request.user.is_authenticated:
            return view(request, *args, **kwargs)
        varying = [(name, request.GET[name]) for name in vary_on if name in request.GET]
        key = _key(get_language(), request.path, varying)
        if getattr(request, "_public_page_missed", None) == key:  # the middleware looked
            generation = request._public_page_generation  # type: ignore[attr-defined]
        else:
            generation, entry = _lookup(key)
            served = _served(request, entry, generation)
            if served is not None:
                return served
        response = view(request, *args, **kwargs)
        response.public_page_entry = (key, generation)  # type: ignore[attr-defined]
        return response

    return wrapped


class PublicPageCacheMiddleware:
    """Serves cached public pages early, and stores the pages `@public_page` marked."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if (
            _cacheable_request(request)
            and not request.META.get("QUERY_STRING")
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
        ):
            language = get_language_from_path(request.path_info)
            if language:
                key = _key(language, request.path)
                generation, entry = _lookup(key)
                served = _served(request, entry, generation)
                if served is not None:
                    return served
                # The view need not look again.
                request._public_page_missed = key  # type: ignore[attr-defined]
                request._public_page_generation = generation  # type: ignore[attr-defined]
        response = self.get_response(request)
        self._store(response)
        return response

    @staticmethod
    def _store(response: HttpResponseBase) -> None:
        marked = getattr(response, "public_page_entry", None)
        if (
            marked is None
            or response.status_code != 200
            or response.cookies
            or response.streaming
            or not isinstance(response, HttpResponse)
        ):
            return
        key, generation = marked
        headers = {name: response[name] for name in STORED_HEADERS if name in response}
        timeout = settings.PUBLIC_PAGE_CACHE_SECONDS
        entry = (generation, response.content, headers, time.time() + timeout)
        cache.set(key, entry, timeout)
        if generation is not None:
            _remember(key, entry)


def public_generation(request: HttpRequest | None) -> Any:
    """The current generation, read once per request (None when the cache is unreachable)."""
    generation = getattr(request, "_public_page_generation", None)
    if generation is None:
        generation = cache.get(GENERATION_KEY)
        if generation is None:
            generation = _first_generation()
        if request is not None:
            request._public_page_generation = generation  # type: ignore[attr-defined]
    return generation


def public_fragment(
    name: str, *, request: HttpRequest | None, parts: tuple[Any, ...], render: Callable[[], str]
) -> str:
    """The HTML `render()` gives for `name` in the current language and `parts`, rendered once
    per generation: any change staff make to public content renders it again.

    Only for HTML that is the same for every visitor (no CSRF token, no user, no messages).
    With the cache unreachable (no generation) every call renders.
    """
    return public_kept(name, request=request, parts=parts, build=render)


def public_kept(
    name: str, *, request: HttpRequest | None, parts: tuple[Any, ...], build: Callable[[], T]
) -> T:
    """`build()`'s value (HTML, or a picklable object such as a live article) for `name` in the
    current language and `parts`, built once per generation, as `public_fragment` does.

    An exception from `build()` (a 404) is raised and nothing is kept. Objects are handed out
    as fresh copies, so a request changing its copy never changes another's.
    """
    timeout = settings.PUBLIC_FRAGMENT_CACHE_SECONDS
    if not timeout or _signed_in(request):
        return build()
    generation = public_generation(request)
    if generation is None:
        return build()
    address = ":".join(quote(str(part), safe="") for part in parts)
    if len(address) > 200:
        address = hashlib.sha256(address.encode()).hexdigest()
    key = f"{FRAGMENT_KEY_PREFIX}:{generation}:{get_language()}:{name}:{address}"
    now = time.time()
    local = _local_fragments.get(key)
    if local is not None and local[1] > now:
        return _handed_out(local[0])
    stored = cache.get(key)
    if isinstance(stored, tuple) and len(stored) == 2 and stored[1] > now:
        value = stored[0]
    else:
        value = build()
        stored = (value, now + timeout)
        cache.set(key, stored, timeout)
    if len(_local_fragments) >= LOCAL_FRAGMENTS:
        _local_fragments.pop(next(iter(_local_fragments)), None)
    _local_fragments[key] = (value if isinstance(value, str) else pickle.dumps(value), stored[1])
    return value


def _signed_in(request: HttpRequest | None) -> bool:
    """Staff always see what the database holds now, as with the page cache."""
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


def _handed_out(value: Any) -> Any:
    # Bytes this process pickled itself (public_kept), never data from outside.
    return value if isinstance(value, str) else pickle.loads(value)  # noqa: S301
