"""The framed form: a published form inside a page of another institutional site.

`/es/formularios/<slug>/embed/` shows only the form (the institution's stylesheet, no site
header or footer) and keeps the thank-you inside the frame. It goes through the same pipeline as
the form's own page (`views.form_handle`: rate limit, size, honeypot, minimum fill time, form
validation, idempotent `submission_create`), with two differences that the frame imposes:

- **Who may frame it**: `Content-Security-Policy: frame-ancestors 'self' <the form's sites>`,
  and no `X-Frame-Options: DENY` (that header cannot name sites). A form with no site listed
  answers 404: staff have not asked for it to be framed, so there is no page to frame and no
  cookie-less POST to offer (keeping the page with `frame-ancestors 'none'` would only leave a
  second, weaker copy of the form's own page).
- **No cookies**: inside another site's page the browser sends none of ours (SameSite=Lax), so
  Django's CSRF check cannot work. A POST must instead carry the form token (the signed start
  time bound to this form, conversion.embedding) and come from this site or a listed one
  (`Origin`, else `Referer`; a request naming neither is refused). The page reads and sets no
  cookie at all: no CSRF cookie, no recognition of returning contacts.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from conversion.embedding import (
    FormTokenExpired,
    FormTokenInvalid,
    form_token,
    form_token_check,
    origin_allowed,
)
from conversion.forms import HONEYPOT_FIELD, STARTED_FIELD, CitizenForm, form_published
from conversion.models import Form
from conversion.tracking import touchpoint_enqueue
from conversion.views import form_handle


def _headers(response: HttpResponse, definition: Form) -> HttpResponse:
    # django-csp 4 reads a per-response replacement of the global directives from this attribute.
    response._csp_replace = {  # type: ignore[attr-defined]
        "frame-ancestors": ["'self'", *definition.embed_origin_list]
    }
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "same-origin"
    return response


def _continue_url(request: HttpRequest, definition: Form) -> str:
    """The form's own page after sending, if it names one on this site (opened outside the
    frame: our other pages refuse to be framed)."""
    target = definition.redirect_path
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        return target
    return ""


def _page(
    request: HttpRequest,
    definition: Form,
    *,
    form: CitizenForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The form (or, without one, the thank-you) in the frame's bare layout."""
    if form is not None and not form.is_bound:
        form.initial[STARTED_FIELD] = form_token(definition)
    context = {
        "definition": definition,
        "form": form,
        "honeypot": HONEYPOT_FIELD,
        "honeypot_field": form[HONEYPOT_FIELD] if form is not None else None,
        "continue_url": _continue_url(request, definition) if form is None else "",
    }
    return render(request, "conversion/embed_form.html", context, status=status)


def _problem(
    request: HttpRequest, definition: Form, *, title: str, message: str, status: int
) -> HttpResponse:
    context = {"definition": definition, "title": title, "message": message}
    return render(request, "conversion/embed_problem.html", context, status=status)


def _refusal(request: HttpRequest, definition: Form) -> HttpResponse | None:
    """Stands in for the CSRF check: a POST from another site, or without a live token of this
    form, is refused with a page saying what to do; nothing is stored."""
    if not origin_allowed(request, definition, required=True):
        return _problem(
            request,
            definition,
            title=_("This form cannot be sent from here"),
            message=_(
                "This form can only be sent from the pages of the sites the institution has "
                "authorised. Open it from the institution's own website."
            ),
            status=403,
        )
    try:
        form_token_check(definition, str(request.POST.get(STARTED_FIELD, "")))
    except FormTokenExpired:
        return _problem(
            request,
            definition,
            title=_("The form has expired"),
            message=_("The form was open for too long. Please load it again and send it."),
            status=403,
        )
    except FormTokenInvalid:
        return _problem(
            request,
            definition,
            title=_("The form could not be checked"),
            message=_(
                "We could not check that this form came from our page. Please load it again "
                "and send it."
            ),
            status=403,
        )
    return None


def _in_frame(request: HttpRequest, definition: Form, response: HttpResponse) -> HttpResponse:
    """The pipeline's own pages for a refused request (429, 413) have the site's header and
    links to pages that cannot be framed: the frame shows the same news in its layout."""
    if response.status_code == 429:
        return _problem(
            request,
            definition,
            title=_("Too many requests"),
            message=_(
                "We have received many forms from your connection in a short time. Please wait "
                "a minute and send it again."
            ),
            status=429,
        )
    if response.status_code == 413:
        return _problem(
            request,
            definition,
            title=_("The form is too large"),
            message=_(
                "What you sent is larger than we can accept. Please shorten your answers or "
                "attach smaller files, and send it again."
            ),
            status=413,
        )
    return response


@never_cache
@csrf_exempt  # no CSRF cookie reaches a third-party frame: see _refusal and the module docstring
@xframe_options_exempt  # framing is ruled by frame-ancestors, which can name the listed sites
@require_http_methods(["GET", "POST"])
def form_embed(request: HttpRequest, slug: str) -> HttpResponse:
    definition = form_published(slug)
    if not definition.embed_origin_list:
        raise Http404
    response = form_handle(
        request,
        definition,
        render_form=lambda form, status: _page(request, definition, form=form, status=status),
        after_sending=lambda submission: _page(request, definition),
        guard=lambda: _refusal(request, definition),
        cookies=False,
    )
    response = _in_frame(request, definition, response)
    if request.method == "GET" and response.status_code == 200:
        touchpoint_enqueue(
            request, kind="page_view", subject=definition, properties={"embedded": True}
        )
    return _headers(response, definition)
