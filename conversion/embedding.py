"""Forms shown on other institutional sites: in a frame, or sent as JSON from their own pages.

Staff list the sites (origins) that may do so on each form (`Form.embed_origins`). Three things
follow from that list, and only from it:

- the frame: `frame-ancestors` names those sites (conversion.views_embed);
- CORS: django-cors-headers answers cross-origin requests to `/api/v1/forms/…` only for them,
  through its `check_request_enabled` signal (`cors_allow_listed_origin`, connected in
  `ConversionConfig.ready`);
- a POST that says where it comes from (`Origin`, else `Referer`) must come from one of them or
  from this site itself.

Frames on another site get none of our cookies (SameSite=Lax), so the framed form cannot use the
CSRF cookie. It carries instead a **form token**: the signed `started` value every form has
(minimum fill time), with the form's id signed in, so a token taken from one form cannot send
another, and it expires like `started` does (`STARTED_MAX_AGE`). The JSON endpoint hands out the
same token. No cookie is read or set on either path, so a forged request can borrow no one's
session or identity: the classic harm of CSRF does not exist here. What remains is a hostile
page making visitors' browsers send our forms, and the origin check refuses that.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.http import HttpRequest
from django.urls import reverse
from django.utils import translation
from django.utils.html import format_html

from conversion.forms import STARTED_MAX_AGE, STARTED_SALT, started_token
from conversion.models import Form, origin_list_parse

# The JSON form endpoints (conversion.urls_api); settings.CORS_URLS_REGEX names the same prefix.
FORM_API_PATH = re.compile(r"^/api/v1/forms/(?P<slug>[-a-zA-Z0-9_]+)/")
EMBED_LANGUAGE = "es"  # the snippet staff copy: Spanish, the citizen's default


class FormTokenInvalid(Exception):
    """The token was not made by us for this form."""


class FormTokenExpired(FormTokenInvalid):
    """The token is ours, but the form was shown too long ago."""


def _subject(form: Form) -> str:
    return f"form:{form.pk}"


def form_token(form: Form, at: float | None = None) -> str:
    """The signed start time of `form` shown at `at` (now by default), bound to that form."""
    return started_token(at, subject=_subject(form))


def form_token_check(form: Form, token: str) -> None:
    """Raise FormTokenExpired or FormTokenInvalid unless `token` is a live token of `form`."""
    signer = signing.TimestampSigner(salt=STARTED_SALT)
    try:
        subject = signer.unsign(token, max_age=STARTED_MAX_AGE)
    except signing.SignatureExpired:
        raise FormTokenExpired("expired") from None
    except (signing.BadSignature, ValueError, TypeError):
        raise FormTokenInvalid("invalid") from None
    if subject != _subject(form):
        raise FormTokenInvalid("another form")


# --- Origins ------------------------------------------------------------------------------------


def request_origin(request: HttpRequest) -> str | None:
    """Where a request says it comes from: `Origin`, else the origin of `Referer`, else None.

    Browsers send `Origin` with every POST; "null" (a sandboxed frame, a privacy redirect) is
    kept as such and matches nothing.
    """
    origin = request.headers.get("Origin", "").strip()
    if origin:
        return origin.lower().rstrip("/")
    referer = request.headers.get("Referer", "").strip()
    try:
        parts = urlsplit(referer)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def own_origins(request: HttpRequest) -> set[str]:
    """This site's origins: as the request reached us, plus CSRF_TRUSTED_ORIGINS (a proxy may
    change the host we see), as Django's CSRF check accepts them."""
    trusted = {o.lower().rstrip("/") for o in settings.CSRF_TRUSTED_ORIGINS if "*" not in o}
    return {f"{request.scheme}://{request.get_host()}".lower(), *trusted}


def origin_allowed(request: HttpRequest, form: Form, *, required: bool) -> bool:
    """The request comes from this site or a site listed on the form; with `required`, a request
    that says nothing about where it comes from is refused (browsers always say it)."""
    origin = request_origin(request)
    if origin is None:
        return not required
    return origin in own_origins(request) or origin in form.embed_origin_list


def cors_allow_listed_origin(sender: Any, request: HttpRequest, **kwargs: Any) -> bool:
    """django-cors-headers' `check_request_enabled` receiver: a cross-origin request to a form's
    JSON endpoints is allowed when its `Origin` is listed on that published form.

    The library asks it about every request whose path is outside CORS_URLS_REGEX too, so it
    answers those from the path alone, without a query.
    """
    match = FORM_API_PATH.match(request.path_info)
    origin = request.headers.get("Origin", "").lower().rstrip("/")
    if match is None or not origin:
        return False
    listed = (
        Form.objects.filter(slug=match["slug"], status=Form.Status.PUBLISHED)
        .values_list("embed_origins", flat=True)
        .first()
    )
    return origin in origin_list_parse(listed or "")


# --- What staff copy --------------------------------------------------------------------------


def embed_url(form: Form, language: str = EMBED_LANGUAGE) -> str:
    """The absolute address of the framed form."""
    with translation.override(language):
        return settings.SITE_URL + reverse("conversion:embed", kwargs={"slug": form.slug})


def api_url(form: Form) -> str:
    """The absolute address of the form's JSON definition (submissions go to …/submissions/)."""
    return settings.SITE_URL + reverse("conversion_api:form-detail", kwargs={"slug": form.slug})


def embed_snippet(form: Form, language: str = EMBED_LANGUAGE) -> str:
    """The HTML another site pastes to show the form: an iframe with a title, for screen readers
    (WCAG 4.1.2), and no border."""
    with translation.override(language):
        title = form.title
    return format_html(
        '<iframe src="{}" title="{}" width="100%" height="900" loading="lazy" '
        'style="border: 0; max-width: 48rem;"></iframe>',
        embed_url(form, language),
        title,
    )
