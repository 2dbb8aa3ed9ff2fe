"""Landing pages, their thank-you page and the gated document's download; the calls to
action's click redirect and impression beacon.

A landing page holds a CSRF form, so it is never page-cached; its form goes through the same
pipeline as a form's own page (`views.form_handle`). Conversions are attributed to the page
(`Submission.landing_page`) and each GET counts as a `page_view` of it.
"""

from __future__ import annotations

import base64
from typing import Any

from django.core import signing
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import slugify
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from content.selectors import in_language
from content.views import _breadcrumb_ld, _breadcrumbs, _site_languages, _translations
from conversion import abtests, downloads
from conversion.forms import HONEYPOT_FIELD, CitizenForm
from conversion.models import CallToAction, LandingPage, Submission
from conversion.tracking import contact_visitor_key, touchpoint_enqueue
from conversion.views import _private, form_handle
from inbound.lib.privacy import request_ip_hash
from inbound.lib.ratelimit import rate_limit_hit
from inbound.visitors import visitor_key

THANKS_SALT = "conversion.landing-thanks"
# A thank-you address is for the citizen who just sent the form, not a permanent link.
THANKS_MAX_AGE_SECONDS = 60 * 60
# Beacons per hashed IP per minute beyond which impressions are no longer counted.
IMPRESSIONS_PER_MINUTE = 120
# The smallest transparent GIF (43 bytes).
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def _landing_live(slug: str) -> LandingPage:
    """A live landing page written in the visitor's language (another language's slug: 404)."""
    language = get_language()
    return get_object_or_404(
        in_language(LandingPage.objects.live()).select_related("form"),
        **{f"slug_{language}": slug},
    )


def _landing_context(request: HttpRequest, page: LandingPage) -> dict[str, Any]:
    crumbs = _breadcrumbs((page.title, request.path))
    alternates = _translations(page, "conversion:landing")
    description = page.meta_description or page.summary or page.title
    web_page_ld: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "WebPage",
        "name": page.meta_title or page.title,
        "description": description,
        "inLanguage": get_language(),
        "url": request.build_absolute_uri(request.path),
    }
    return {
        "page": page,
        "definition": page.form,
        "description": description,
        "breadcrumbs": crumbs,
        "alternates": alternates,
        "x_default": next((a["url"] for a in alternates if a["code"] == "es"), None),
        "site_languages": _site_languages(request, alternates),
        "json_ld": [web_page_ld, _breadcrumb_ld(request, crumbs)],
    }


def _landing_render(
    request: HttpRequest, page: LandingPage, form: CitizenForm | None, status: int = 200
) -> HttpResponse:
    context = _landing_context(request, page)
    if form is not None:
        context.update(form=form, honeypot=HONEYPOT_FIELD, honeypot_field=form[HONEYPOT_FIELD])
    response = render(request, "conversion/landing.html", context, status=status)
    # A `?c=` token in the address must not travel to other sites in a Referer.
    response["Referrer-Policy"] = "same-origin"
    return response


def _landing_after_sending(
    request: HttpRequest, page: LandingPage, submission: Submission | None
) -> HttpResponseRedirect:
    """POST/redirect/GET: to the page's own internal path, else its thank-you page."""
    target = page.redirect_path
    if (
        target
        and not page.gated_asset
        and target.startswith("/")
        and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    ):
        return redirect(target)
    url = reverse("conversion:landing-thanks", kwargs={"slug": page.slug})
    if submission is not None:
        token = signing.dumps(submission.pk, salt=THANKS_SALT)
        url = f"{url}?s={token}"
    return redirect(url)


@never_cache
@csrf_exempt  # checked by hand in form_handle, after the cheaper rate and size checks
@require_http_methods(["GET", "POST"])
def landing_page(request: HttpRequest, slug: str) -> HttpResponse:
    page = _landing_live(slug)
    # The arm follows from a keyed hash of the address alone (computed, never stored), so the
    # POST lands on the arm its GET showed, and a visitor sees the same version every day,
    # without any cookie. Only those with a day's visitor key are in the test (not GPC/DNT).
    key = visitor_key(request)
    test = abtests.running_test(page)
    variant = None
    if test is not None and key:
        variant = abtests.variant_for(test=test, visitor_key=request_ip_hash(request))
    shown = abtests.landing_shown(page, variant)

    def after_sending(submission: Submission | None) -> HttpResponse:
        if submission is not None and test is not None and key:
            # Counted against the arm's views by the day's key, on an anonymous row: the
            # submission keeps no key unless the citizen allowed tracking.
            properties = abtests.view_properties(test=test, variant=variant, visitor_key=key)
            touchpoint_enqueue(request, kind="ab_conversion", subject=page, properties=properties)
        return _landing_after_sending(request, page, submission)

    definition = page.form
    if definition is None or not definition.is_public:
        if request.method == "POST":
            raise Http404
        response = _landing_render(request, shown, None)
    else:
        response = form_handle(
            request,
            definition,
            render_form=lambda form, status: _landing_render(request, shown, form, status),
            after_sending=after_sending,
            landing_page=page,
            variant=variant,
        )
    if request.method == "GET" and response.status_code == 200:
        properties = abtests.view_properties(test=test, variant=variant, visitor_key=key)
        touchpoint_enqueue(request, kind="page_view", subject=page, properties=properties)
    return response


def _thanks_submission(request: HttpRequest, page: LandingPage) -> Submission | None:
    """The submission just sent from this page, from the signed `?s=` of the redirect."""
    try:
        pk = signing.loads(
            request.GET.get("s", ""), salt=THANKS_SALT, max_age=THANKS_MAX_AGE_SECONDS
        )
    except signing.BadSignature:
        return None
    return Submission.objects.filter(pk=pk, landing_page=page).first()


@never_cache
@require_GET
def landing_thanks(request: HttpRequest, slug: str) -> HttpResponse:
    page = _landing_live(slug)
    submission = _thanks_submission(request, page)
    download_url = None
    awaits_optin = False
    if submission is not None and page.gated_asset:
        awaits_optin = downloads.download_awaits_optin(submission)
        if not awaits_optin:
            download_url = downloads.download_url(submission=submission, landing_page=page)
    context = {
        "page": page,
        "definition": page.form,
        "download_url": download_url,
        "awaits_optin": awaits_optin,
        "max_age_hours": int(downloads.download_max_age().total_seconds() // 3600),
    }
    return _private(render(request, "conversion/landing_thanks.html", context))


@never_cache
@require_GET
def download(request: HttpRequest, token: str) -> HttpResponseBase:
    """The gated document, streamed from the private storage to the holder of a valid link."""
    try:
        found = downloads.download_read(token)
    except downloads.DownloadLinkExpired:
        return _download_problem(request, expired=True)
    except downloads.DownloadLinkInvalid:
        return _download_problem(request, expired=False)
    try:
        handle = found.landing_page.gated_asset.open("rb")
    except OSError:
        return _download_problem(request, expired=False)
    contact = found.submission.contact
    downloads.download_record(found, visitor_key=contact_visitor_key(request, contact=contact))
    name = slugify(found.landing_page.gated_asset_title or found.landing_page.title) or "document"
    response = FileResponse(
        handle, as_attachment=True, filename=f"{name}.pdf", content_type="application/pdf"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "same-origin"
    return response


def _download_problem(request: HttpRequest, *, expired: bool) -> HttpResponse:
    context = {
        "expired": expired,
        "max_age_hours": int(downloads.download_max_age().total_seconds() // 3600),
    }
    return _private(render(request, "conversion/download_invalid.html", context, status=400))


# --- Calls to action ------------------------------------------------------------------------------


@never_cache
@require_GET
def cta_click(request: HttpRequest, pk: int) -> HttpResponse:
    """Count the click and go to the CTA's target: a live landing page or a path on this site."""
    cta: CallToAction = get_object_or_404(
        CallToAction.objects.select_related("landing_page"), pk=pk
    )
    target = cta.target_url() if cta.active else None
    if not target or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        raise Http404
    touchpoint_enqueue(request, kind="cta_click", subject=cta)
    response = HttpResponseRedirect(target)
    response["Referrer-Policy"] = "same-origin"
    return response


@require_GET
def cta_impression(request: HttpRequest, pk: int) -> HttpResponse:
    """A 1×1 GIF counting one showing of a CTA; the cached page around it stays cached."""
    cta: CallToAction | None = CallToAction.objects.filter(pk=pk, active=True).only("pk").first()
    if cta is not None and not rate_limit_hit(
        request=request, scope="conversion.cta-impression", limit=IMPRESSIONS_PER_MINUTE, period=60
    ):
        touchpoint_enqueue(request, kind="cta_impression", subject=cta)
    response = HttpResponse(PIXEL, content_type="image/gif")
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
