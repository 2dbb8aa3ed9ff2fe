"""The citizen's side of their rights: preference centre, data download, erasure. No login.

Pages are reached through signed links (contacts.rights); they are never cached and tell the
browser to send no referrer, so the token in the address does not leak to other sites.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from contacts import rights
from contacts.forms_public import ConfirmForm, EmailRequestForm, PreferencesForm
from contacts.models import Contact
from contacts.selectors import consent_is_granted

DONE_MESSAGES = ("saved", "unsubscribed")


def private_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Never cached, never indexed, and no Referer carrying the token to another site.

    Not "no-referrer": browsers then send "Origin: null" with form posts, which CSRF
    protection rightly refuses.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response["Referrer-Policy"] = "same-origin"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return never_cache(wrapper)


def _link_problem(
    request: HttpRequest, error: rights.LinkInvalid | rights.LinkExpired, purpose: str
) -> HttpResponse:
    if isinstance(error, rights.LinkExpired):
        name = "preferences-request" if purpose == rights.PREFERENCES else "data-request"
        return render(
            request,
            "contacts/public/link_expired.html",
            {"form": EmailRequestForm(), "action": reverse(f"contacts_public:{name}")},
            status=410,
        )
    return render(request, "contacts/public/link_invalid.html", status=400)


def _contact(token: str, purpose: str) -> Contact:
    return rights.rights_token_read(token=token, purpose=purpose)


@private_page
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest, token: str) -> HttpResponse:
    try:
        contact = _contact(token, rights.PREFERENCES)
    except (rights.LinkInvalid, rights.LinkExpired) as error:
        return _link_problem(request, error, rights.PREFERENCES)
    if request.method == "POST":
        form = PreferencesForm(request.POST, contact=contact)
        if form.is_valid():
            rights.preferences_update(
                contact=contact,
                data=rights.PreferencesIn(
                    topics=form.cleaned_data["topics"],
                    newsletter=form.cleaned_data["newsletter"],
                    language=form.cleaned_data["language"],
                    email_paused_until=form.paused_until(),
                    frequencies=form.frequencies(),
                ),
            )
            return redirect(f"{request.path}?done=saved")
    else:
        paused = contact.email_paused_until
        if paused and paused < timezone.localdate():
            paused = None  # a pause that has ended is no pause
        form = PreferencesForm(
            contact=contact,
            initial={
                "topics": list(rights.subscribed_topic_ids(contact=contact)),
                "newsletter": consent_is_granted(contact=contact, purpose="newsletter"),
                "language": contact.language,
                "pause": "date" if paused else "none",
                "pause_date": paused,
            },
        )
    done = request.GET.get("done")
    return render(
        request,
        "contacts/public/preferences.html",
        {
            "form": form,
            "contact": contact,
            "token": token,
            "done": done if done in DONE_MESSAGES else "",
            "topics_intro": rights.topics_consent_text(),
            "newsletter_text": rights.newsletter_consent_text(),
        },
        status=400 if form.is_bound else 200,
    )


@private_page
@require_POST
def preferences_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        contact = _contact(token, rights.PREFERENCES)
    except (rights.LinkInvalid, rights.LinkExpired) as error:
        return _link_problem(request, error, rights.PREFERENCES)
    rights.unsubscribe_all(contact=contact)
    return redirect(
        reverse("contacts_public:preferences", kwargs={"token": token}) + "?done=unsubscribed"
    )


def _zip_response(contact: Contact, request: HttpRequest) -> HttpResponse:
    response = HttpResponse(
        rights.contact_data_zip(contact=contact, request=request), content_type="application/zip"
    )
    response["Content-Disposition"] = 'attachment; filename="my-data.zip"'
    return response


@private_page
@require_POST
def preferences_download(request: HttpRequest, token: str) -> HttpResponse:
    try:
        contact = _contact(token, rights.PREFERENCES)
    except (rights.LinkInvalid, rights.LinkExpired) as error:
        return _link_problem(request, error, rights.PREFERENCES)
    return _zip_response(contact, request)


@private_page
@require_http_methods(["GET", "POST"])
def preferences_delete(request: HttpRequest, token: str) -> HttpResponse:
    try:
        contact = _contact(token, rights.PREFERENCES)
    except (rights.LinkInvalid, rights.LinkExpired) as error:
        return _link_problem(request, error, rights.PREFERENCES)
    form = ConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        rights.contact_anonymise(
            contact=contact, request=request, reason="erasure requested by the citizen"
        )
        return render(request, "contacts/public/deleted.html")
    return render(
        request,
        "contacts/public/delete_confirm.html",
        {"form": form, "token": token},
        status=400 if form.is_bound else 200,
    )


def _request_link(request: HttpRequest, purpose: str, template: str) -> HttpResponse:
    if request.method == "POST":
        if rights.rate_limit_hit(request=request, scope=purpose):
            return render(request, "contacts/public/rate_limited.html", status=429)
        form = EmailRequestForm(request.POST)
        if form.is_valid():
            rights.rights_link_request(
                email=form.cleaned_data["email"], purpose=purpose, language=get_language()
            )
            return render(request, "contacts/public/link_sent.html")
    else:
        form = EmailRequestForm()
    return render(request, template, {"form": form}, status=400 if form.is_bound else 200)


@private_page
@require_http_methods(["GET", "POST"])
def preferences_request(request: HttpRequest) -> HttpResponse:
    return _request_link(request, rights.PREFERENCES, "contacts/public/preferences_request.html")


@private_page
@require_http_methods(["GET", "POST"])
def data_request(request: HttpRequest) -> HttpResponse:
    return _request_link(request, rights.DATA_EXPORT, "contacts/public/data_request.html")


@private_page
@require_http_methods(["GET"])
def data_download(request: HttpRequest, token: str) -> HttpResponse:
    try:
        contact = _contact(token, rights.DATA_EXPORT)
    except (rights.LinkInvalid, rights.LinkExpired) as error:
        return _link_problem(request, error, rights.DATA_EXPORT)
    return _zip_response(contact, request)
