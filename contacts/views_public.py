"""The citizen's side of their rights: preference centre, data download, erasure. No login.

Pages are reached through signed links (`contacts.links`); they are never cached and send no
referrer to other sites, so the token in the address does not leak. The preference centre's
link changes only what we send; the data download and erasure take a single-use link the
citizen asks for on the "my data" page, and act only on a POST from the page it opens.
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

from contacts import link_requests, links, rights
from contacts.forms_public import ConfirmForm, DataRequestForm, EmailRequestForm, PreferencesForm
from contacts.selectors import consent_is_granted
from inbound.lib.errors import DomainError

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


LINK_PROBLEMS = (links.LinkInvalid, links.LinkExpired, links.LinkUsed)


def link_problem(request: HttpRequest, error: DomainError, purpose: str) -> HttpResponse:
    """The page for a link that cannot be used, in the citizen's language: what happened and
    how to get a new one. It shows no data and changes nothing."""
    request_url = reverse(f"contacts_public:{links.REQUEST_URL_NAMES[purpose]}")
    if isinstance(error, links.LinkExpired | links.LinkUsed):
        form = (
            EmailRequestForm()
            if purpose == links.PREFERENCES
            else DataRequestForm(initial={"purpose": purpose})
        )
        template = "link_used" if isinstance(error, links.LinkUsed) else "link_expired"
        return render(
            request,
            f"contacts/public/{template}.html",
            {"form": form, "action": request_url},
            status=error.status,
        )
    return link_invalid(request, purpose=purpose)


def link_invalid(request: HttpRequest, *, purpose: str, status: int = 400) -> HttpResponse:
    """A tampered, foreign or dead link: said plainly, with the way to ask for a new one."""
    name = links.REQUEST_URL_NAMES[purpose]
    return render(
        request,
        "contacts/public/link_invalid.html",
        {"request_url": reverse(f"contacts_public:{name}"), "purpose": purpose},
        status=status,
    )


@private_page
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest, token: str) -> HttpResponse:
    try:
        contact = links.rights_token_read(token=token, purpose=links.PREFERENCES)
    except LINK_PROBLEMS as error:
        return link_problem(request, error, links.PREFERENCES)
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
        contact = links.rights_token_read(token=token, purpose=links.PREFERENCES)
    except LINK_PROBLEMS as error:
        return link_problem(request, error, links.PREFERENCES)
    rights.unsubscribe_all(contact=contact)
    return redirect(
        reverse("contacts_public:preferences", kwargs={"token": token}) + "?done=unsubscribed"
    )


def _request_link(
    request: HttpRequest, form_class: type[EmailRequestForm], *, scope: str, template: str
) -> HttpResponse:
    """A citizen types their address to be sent a link; the answer never says whether it is
    ours (`link_requests.rights_link_request`)."""
    minutes = int(links.max_age(links.DATA_EXPORT).total_seconds() // 60)
    if request.method == "POST":
        if links.rate_limit_hit(request=request, scope=scope):
            return render(request, "contacts/public/rate_limited.html", status=429)
        form = form_class(request.POST)
        if form.is_valid():
            purpose = form.cleaned_data.get("purpose") or links.PREFERENCES
            link_requests.rights_link_request(
                email=form.cleaned_data["email"], purpose=purpose, language=get_language()
            )
            return render(
                request,
                "contacts/public/link_sent.html",
                {"single_use": purpose in links.SINGLE_USE, "max_age_minutes": minutes},
            )
    else:
        form = form_class()
    return render(
        request,
        template,
        {"form": form, "max_age_minutes": minutes},
        status=400 if form.is_bound else 200,
    )


@private_page
@require_http_methods(["GET", "POST"])
def preferences_request(request: HttpRequest) -> HttpResponse:
    return _request_link(
        request,
        EmailRequestForm,
        scope=links.PREFERENCES,
        template="contacts/public/preferences_request.html",
    )


@private_page
@require_http_methods(["GET", "POST"])
def data_request(request: HttpRequest) -> HttpResponse:
    return _request_link(
        request, DataRequestForm, scope="data", template="contacts/public/data_request.html"
    )


@private_page
@require_http_methods(["GET", "POST"])
def data_download(request: HttpRequest, token: str) -> HttpResponse:
    """Opening the link shows a button, and nothing else: mail scanners follow links, and must
    download nothing. The button's POST (CSRF-protected) spends the link and sends the ZIP."""
    try:
        if request.method == "POST":
            archive = rights.contact_data_zip_by_link(token=token, request=request)
        else:
            links.rights_token_read(token=token, purpose=links.DATA_EXPORT)
    except LINK_PROBLEMS as error:
        return link_problem(request, error, links.DATA_EXPORT)
    if request.method == "GET":
        return render(request, "contacts/public/data_download.html")
    response = HttpResponse(archive, content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="my-data.zip"'
    return response


@private_page
@require_http_methods(["GET", "POST"])
def data_erase(request: HttpRequest, token: str) -> HttpResponse:
    """Opening the link asks for confirmation; erasing takes the ticked box and the button's
    POST (CSRF-protected), which spends the link."""
    form = ConfirmForm(request.POST if request.method == "POST" else None)
    try:
        links.rights_token_read(token=token, purpose=links.ERASURE)
        if form.is_bound and form.is_valid():
            rights.contact_erase_by_link(token=token, request=request)
            return render(request, "contacts/public/deleted.html")
    except LINK_PROBLEMS as error:
        return link_problem(request, error, links.ERASURE)
    return render(
        request,
        "contacts/public/delete_confirm.html",
        {"form": form},
        status=400 if form.is_bound else 200,
    )
