"""The citizen's side of Convertir: a published form, its thank-you page and the double opt-in
confirmation; plus the staff preview of a form before it is published.

What a citizen sends is checked in this order, cheapest first, so that abuse costs us little and
nothing is stored on any error: rate limit per hashed IP (429), request size (413), CSRF (403),
then the form itself (400 with the errors next to each field and in a summary at the top).
Form pages are never served from the page cache: each carries its own CSRF token and signed
start time.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from contacts.models import ConsentRecord, Contact
from contacts.selectors import consent_is_granted
from conversion import services
from conversion.forms import (
    HONEYPOT_FIELD,
    UTM_FIELDS,
    CitizenForm,
    consent_purposes_ticked,
    contact_known_values,
    form_class_for,
    form_fields,
    form_published,
)
from conversion.models import Form, FormField, LandingPage, LandingVariant, Submission
from conversion.tracking import submission_visitor_key, touchpoint_enqueue
from inbound.lib.errors import DomainError
from inbound.lib.ratelimit import rate_limit_hit

# Recognises a returning contact on this device, for progressive profiling: a signed token
# (services.contact_token), set only when they ticked a tracking consent in the form and then
# confirmed their address from the opt-in e-mail, and honoured only while that consent stands.
CONTACT_COOKIE = "inbound_contact"
CONTACT_COOKIE_MAX_AGE = int(dt.timedelta(days=180).total_seconds())


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def _private(response: HttpResponse) -> HttpResponse:
    """Pages about one citizen's submission: not indexed, and no token in a Referer."""
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "same-origin"
    return response


def _csrf_rejected(request: HttpRequest) -> bool:
    """Django's own CSRF check, run by hand so that a failure answers with our page, in the
    citizen's language and saying what to do (the global failure view is Django's bare page)."""
    checker = CsrfViewMiddleware(_unused_view)
    return checker.process_view(request, _unused_view, (), {}) is not None


def _unused_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse()


def _csrf_refusal(request: HttpRequest, definition: Form) -> HttpResponse | None:
    if not _csrf_rejected(request):
        return None
    return _private(
        render(request, "conversion/csrf_failed.html", {"definition": definition}, status=403)
    )


def _max_body_bytes(definition: Form) -> int:
    uploads = sum(1 for field in form_fields(definition) if field.kind == FormField.Kind.FILE)
    upload_bytes = int(_setting("CONVERSION_MAX_UPLOAD_MB", 5)) * 1024 * 1024
    return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0) + uploads * upload_bytes


def _body_too_large(request: HttpRequest, definition: Form) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return length > _max_body_bytes(definition)


def _too_large(request: HttpRequest, definition: Form) -> HttpResponse:
    megabytes = max(1, round(_max_body_bytes(definition) / (1024 * 1024)))
    return _private(
        render(
            request,
            "conversion/too_large.html",
            {"definition": definition, "max_megabytes": megabytes},
            status=413,
        )
    )


# --- Recognising a returning contact (progressive profiling) ------------------------------------


def _contact_from_cookie(request: HttpRequest) -> Contact | None:
    contact = services.contact_from_token(request.COOKIES.get(CONTACT_COOKIE, ""))
    if contact is None:
        return None
    if not consent_is_granted(contact=contact, purpose=ConsentRecord.Purpose.TRACKING):
        return None  # they withdrew it: the cookie no longer recognises them
    return contact


def _recognised_contact(request: HttpRequest) -> Contact | None:
    """Who this is, if they came from one of our e-mails (`?c=`) or kept our cookie."""
    token = request.GET.get("c", "")
    if token:
        contact = services.contact_from_token(token)
        if contact is not None:
            return contact
    return _contact_from_cookie(request)


# --- The form ---------------------------------------------------------------------------------


def _render_form(
    request: HttpRequest,
    definition: Form,
    form: CitizenForm,
    *,
    preview: bool = False,
    status: int = 200,
) -> HttpResponse:
    context = {
        "definition": definition,
        "form": form,
        "honeypot": HONEYPOT_FIELD,
        "honeypot_field": form[HONEYPOT_FIELD],
        "preview": preview,
    }
    response = render(request, "conversion/form.html", context, status=status)
    # A `?c=` token in the address must not travel to other sites in a Referer.
    response["Referrer-Policy"] = "same-origin"
    if preview:
        response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def after_sending_redirect(request: HttpRequest, definition: Form) -> HttpResponseRedirect:
    """POST/redirect/GET: to the form's own page if it names one on this site, else thanks."""
    target = definition.redirect_path
    if (
        target
        and target.startswith("/")
        and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    ):
        return redirect(target)
    return HttpResponseRedirect(_thanks_path(get_language(), definition.slug))


@functools.lru_cache(maxsize=1024)
def _thanks_path(language: str, slug: str) -> str:
    # Reversing a translated URL costs as much as the rest of the answer to a submission.
    return reverse("conversion:thanks", kwargs={"slug": slug})


def _initial(request: HttpRequest) -> dict[str, str]:
    """Campaign parameters from the address, carried in hidden fields to the submission."""
    return {key: request.GET[key][:200] for key in UTM_FIELDS if request.GET.get(key)}


FormRenderer = Callable[[CitizenForm, int], HttpResponse]
AfterSending = Callable[[Submission | None], HttpResponse]
# Proves a POST comes from a page we served: an answer refusing it, or None to go on.
Guard = Callable[[], HttpResponse | None]
Store = Callable[..., tuple[Submission, bool]]


def form_handle(
    request: HttpRequest,
    definition: Form,
    *,
    render_form: FormRenderer,
    after_sending: AfterSending,
    landing_page: LandingPage | None = None,
    variant: LandingVariant | None = None,
    guard: Guard | None = None,
    cookies: bool = True,
    store: Store | None = None,
) -> HttpResponse:
    """The citizen's form on any page that shows it (its own page, a landing page).

    GET renders the empty form; POST runs the checks cheapest first and stores the submission.
    `render_form(form, status)` draws the page around the form; `after_sending(submission)`
    answers a stored submission (None for a bot caught by the honeypot: it must look alike).
    `guard` replaces Django's CSRF check (a form framed on another site gets no CSRF cookie:
    conversion.views_embed); `cookies=False` neither reads nor sets the recognition cookie.
    `store` replaces `services.submission_create` (the bench's floor: everything but the writes).
    """
    contact = _recognised_contact(request) if cookies else None
    known = contact_known_values(contact) if contact is not None else None
    form_class = form_class_for(definition, language=get_language(), known=known)
    if request.method == "GET":
        return render_form(form_class(initial=_initial(request)), 200)

    limit = int(_setting("CONVERSION_RATE_LIMIT_PER_MINUTE", 20))
    if rate_limit_hit(request=request, scope="conversion.submit", limit=limit, period=60):
        return _private(render(request, "conversion/rate_limited.html", status=429))
    if _body_too_large(request, definition):
        return _too_large(request, definition)
    try:
        refusal = guard() if guard is not None else _csrf_refusal(request, definition)
        if refusal is not None:
            return refusal
        form = form_class(request.POST, request.FILES)
    except RequestDataTooBig:
        return _too_large(request, definition)

    if form.honeypot_filled:
        return after_sending(None)  # a bot: looks like success, stores nothing
    if not form.is_valid():
        return render_form(form, 400)
    tracking_granted = ConsentRecord.Purpose.TRACKING in consent_purposes_ticked(form)
    try:
        submission, _created = (store or services.submission_create)(
            form=definition,
            cleaned=form.cleaned_data,
            files=request.FILES,
            language=get_language(),
            page=request.path,
            referrer=request.headers.get("Referer", "")[:500],
            visitor_key=submission_visitor_key(request, tracking_granted=tracking_granted),
            landing_page=landing_page,
            variant=variant,
        )
    except ValidationError as error:
        form.add_error(None, error.messages)
        return render_form(form, 400)
    except DomainError as error:
        form.add_error(None, str(error))
        return render_form(form, 400)

    return after_sending(submission)


@never_cache
@csrf_exempt  # checked by hand in the view, after the cheaper rate and size checks
@require_http_methods(["GET", "POST"])
def form_page(request: HttpRequest, slug: str) -> HttpResponse:
    definition = form_published(slug)
    response = form_handle(
        request,
        definition,
        render_form=lambda form, status: _render_form(request, definition, form, status=status),
        after_sending=lambda submission: after_sending_redirect(request, definition),
    )
    if request.method == "GET" and response.status_code == 200:
        touchpoint_enqueue(request, kind="page_view", subject=definition)
    return response


@require_GET
def form_thanks(request: HttpRequest, slug: str) -> HttpResponse:
    definition = form_published(slug)
    return _private(render(request, "conversion/thanks.html", {"definition": definition}))


@never_cache
@login_required
@require_GET
def form_preview(request: HttpRequest, slug: str) -> HttpResponse:
    """Any form as citizens would see it, for staff who may view forms; sending is disabled."""
    if not request.user.has_perm("conversion.view_form"):
        raise PermissionDenied
    definition = get_object_or_404(Form, slug=slug)
    form_class = form_class_for(definition, language=get_language())
    return _render_form(request, definition, form_class(), preview=True)


# --- Double opt-in ------------------------------------------------------------------------------


def _optin_problem(request: HttpRequest, *, expired: bool) -> HttpResponse:
    context = {
        "expired": expired,
        "max_age_days": int(_setting("CONVERSION_OPTIN_MAX_AGE_DAYS", 7)),
    }
    return _private(render(request, "conversion/optin_invalid.html", context, status=400))


@never_cache
@csrf_exempt  # checked by hand, to answer a failure with our page
@require_http_methods(["GET", "POST"])
def optin_confirm_view(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the opt-in e-mail. Opening it only asks; the button confirms.

    Mail scanners open every link in a message they check: if a GET confirmed, their visits
    would count as the citizen's consent, which we must be able to prove (RGPD art. 7.1).
    """
    try:
        submission = services.optin_read(token)
    except services.OptinLinkExpired:
        return _optin_problem(request, expired=True)
    except services.OptinLinkInvalid:
        return _optin_problem(request, expired=False)
    if submission.optin_confirmed_at is not None:
        return _confirmed(request, submission, already=True)
    if request.method == "GET":
        return _private(
            render(request, "conversion/optin_confirm.html", {"submission": submission})
        )
    if _csrf_rejected(request):
        return _private(render(request, "conversion/csrf_failed.html", status=403))
    try:
        submission = services.optin_confirm(token)
    except services.OptinLinkExpired:
        return _optin_problem(request, expired=True)
    except services.OptinLinkInvalid:
        return _optin_problem(request, expired=False)
    response = _confirmed(request, submission, already=False)
    if submission.contact is not None and _tracking_ticked(submission):
        # Recognised on this device only once the citizen proved the address is theirs.
        response.set_cookie(
            CONTACT_COOKIE,
            services.contact_token(submission.contact),
            max_age=CONTACT_COOKIE_MAX_AGE,
            secure=not settings.DEBUG,
            httponly=True,
            samesite="Lax",
        )
    return response


def _tracking_ticked(submission: Submission) -> bool:
    from conversion.applying import consents_ticked
    from conversion.forms import form_fields

    return any(
        field.consent_purpose == ConsentRecord.Purpose.TRACKING
        for field in consents_ticked(form_fields(submission.form), submission.values)
    )


def _confirmed(request: HttpRequest, submission: Submission, *, already: bool) -> HttpResponse:
    from conversion.downloads import download_url_for

    context = {
        "submission": submission,
        "already": already,
        "download_url": download_url_for(submission),
        "document_title": getattr(submission.landing_page, "gated_asset_title", ""),
    }
    return _private(render(request, "conversion/optin_confirmed.html", context))
