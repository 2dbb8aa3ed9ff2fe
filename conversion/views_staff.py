"""Staff pages of Convertir: conversion figures per form, landing page and call to action, the
submissions with filters and search, one submission in full, and the CSV export.

Viewing submissions needs `conversion.view_submission` (Marketer, Analyst, Administrator).
A submission's page shows personal data, so opening it is audited; the export takes personal
data away, so it needs `contacts.export_contact` (Analysts never have it) and is audited too.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from contacts.models import ConsentRecord
from conversion.effects import submission_rows
from conversion.exports import submissions_csv_lines
from conversion.models import ABTest, CallToAction, Form, LandingPage, Submission
from conversion.stats import click_rates, conversion_rates
from inbound.audit import audit_record
from inbound.lib.errors import DomainError

VIEW_PERMISSION = "conversion.view_submission"
EXPORT_PERMISSION = "contacts.export_contact"
PER_PAGE = 50
SEARCH_MAX = 200
PERIODS = (
    (7, gettext_lazy("Last 7 days")),
    (30, gettext_lazy("Last 30 days")),
    (90, gettext_lazy("Last 90 days")),
)
DEFAULT_PERIOD = 30
AB_TESTS_SHOWN = 20
# Consent records written by a submission carry no link to it: they are the contact's form
# consents stored within this many seconds of its application (the same transaction).
CONSENT_MATCH_SECONDS = 60


def _may_view(request: HttpRequest) -> None:
    if not request.user.has_perm(VIEW_PERMISSION):
        raise PermissionDenied


def may_export(user: Any) -> bool:
    return bool(user.has_perm(VIEW_PERMISSION) and user.has_perm(EXPORT_PERMISSION))


def _context(request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
    return {**admin.site.each_context(request), "title": title, **extra}


# --- Overview -----------------------------------------------------------------------------------


class PeriodForm(forms.Form):
    period = forms.TypedChoiceField(
        label=gettext_lazy("Period"),
        choices=PERIODS,
        coerce=int,
        required=False,
        empty_value=None,
    )


def _rate_rows(objects: list[Any], rates: dict[int, Any]) -> list[dict[str, Any]]:
    return [{"object": obj, "rate": rates[obj.pk]} for obj in objects]


@never_cache
@login_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    _may_view(request)
    form = PeriodForm(request.GET or None)
    period = DEFAULT_PERIOD
    status = 200
    if form.is_bound:
        if form.is_valid():
            period = form.cleaned_data["period"] or DEFAULT_PERIOD
        else:
            status = 400
    since = timezone.now() - dt.timedelta(days=period)
    forms_list: list[Form] = list(Form.objects.exclude(status=Form.Status.DRAFT).order_by("name"))
    # The publishable manager is typed for the base class.
    landing_pages = cast(list[LandingPage], list(LandingPage.objects.order_by("title")))
    ctas = list(CallToAction.objects.order_by("name"))
    context = _context(
        request,
        _("Conversion"),
        form=form,
        period=period,
        forms=_rate_rows(forms_list, conversion_rates(forms_list, since=since)),
        landing_pages=_rate_rows(landing_pages, conversion_rates(landing_pages, since=since)),
        ctas=_rate_rows(ctas, click_rates(ctas, since=since)),
        ab_tests=(
            ABTest.objects.select_related("landing_page", "winner")[:AB_TESTS_SHOWN]
            if request.user.has_perm("conversion.view_abtest")
            else None
        ),
    )
    return render(request, "conversion/staff/overview.html", context, status=status)


# --- Submissions ----------------------------------------------------------------------------------


class SubmissionFilterForm(forms.Form):
    form: forms.ModelChoiceField[Form] = forms.ModelChoiceField(
        label=gettext_lazy("Form"),
        queryset=Form.objects.order_by("name"),
        required=False,
        empty_label=gettext_lazy("All forms"),
    )
    since = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    optin = forms.ChoiceField(
        label=gettext_lazy("Opt-in"),
        required=False,
        choices=[
            ("", gettext_lazy("Any")),
            ("confirmed", gettext_lazy("Confirmed")),
            ("unconfirmed", gettext_lazy("Not confirmed")),
        ],
    )
    q = forms.CharField(
        label=gettext_lazy("Search (e-mail or any value)"),
        required=False,
        max_length=SEARCH_MAX,
        widget=forms.SearchInput,
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            raise forms.ValidationError(_("The start date must be on or before the end date."))
        return cleaned


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def submissions_filtered(filters: dict[str, Any]) -> QuerySet[Submission]:
    rows = Submission.objects.select_related("form", "contact")
    if filters.get("form"):
        rows = rows.filter(form=filters["form"])
    if filters.get("since"):
        rows = rows.filter(created_at__gte=_day_start(filters["since"]))
    if filters.get("until"):
        rows = rows.filter(created_at__lt=_day_start(filters["until"] + dt.timedelta(days=1)))
    if filters.get("optin") == "confirmed":
        rows = rows.filter(optin_confirmed_at__isnull=False)
    elif filters.get("optin") == "unconfirmed":
        rows = rows.filter(optin_confirmed_at__isnull=True)
    query = (filters.get("q") or "").strip()
    if query:
        # The values as JSON text: finds any value, on SQLite and PostgreSQL alike.
        rows = rows.filter(Q(contact__email__icontains=query) | Q(values__icontains=query))
    return rows.order_by("-created_at", "-id")


def _filters(request: HttpRequest) -> tuple[SubmissionFilterForm, dict[str, Any] | None]:
    form = SubmissionFilterForm(request.GET or None)
    if not form.is_bound:
        return form, {}
    if not form.is_valid():
        return form, None
    return form, form.cleaned_data


def _filters_audited(filters: dict[str, Any]) -> dict[str, str]:
    return {
        key: str(value.pk if hasattr(value, "pk") else value)
        for key, value in filters.items()
        if value not in (None, "")
    }


@never_cache
@login_required
@require_GET
def submission_list(request: HttpRequest) -> HttpResponse:
    _may_view(request)
    form, filters = _filters(request)
    context = _context(request, _("Submissions"), form=form, may_export=may_export(request.user))
    if filters is None:
        return render(request, "conversion/staff/submissions.html", context, status=400)
    paginator = Paginator(submissions_filtered(filters), PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    # The list shows citizens' addresses: who looked, for what (the search as typed), is kept.
    audit_record(
        action="submission_list_viewed",
        request=request,
        detail={
            "via": "staff",
            "ids": [submission.pk for submission in page],
            "search": str(filters.get("q") or "")[:SEARCH_MAX],
            "filters": _filters_audited({k: v for k, v in filters.items() if k != "q"}),
            "page": page.number,
        },
    )
    query = request.GET.copy()
    query.pop("page", None)
    context.update(page=page, filter_query=query.urlencode(), show_list=True)
    return render(request, "conversion/staff/submissions.html", context)


def _consents_of(submission: Submission) -> QuerySet[ConsentRecord]:
    # Recorded when the submission was applied: at the citizen's confirmation on a double
    # opt-in form, by the relay otherwise.
    applied = submission.optin_confirmed_at or submission.applied_at
    if submission.contact_id is None or applied is None:
        return ConsentRecord.objects.none()
    window = dt.timedelta(seconds=CONSENT_MATCH_SECONDS)
    return ConsentRecord.objects.filter(
        contact_id=submission.contact_id,
        source=ConsentRecord.Source.FORM,
        occurred_at__gte=applied - window,
        occurred_at__lte=applied + window,
    ).order_by("occurred_at", "id")


@never_cache
@login_required
@require_GET
def submission_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _may_view(request)
    submission = get_object_or_404(Submission.objects.select_related("form", "contact"), pk=pk)
    audit_record(action="submission_viewed", obj=submission, request=request)
    context = _context(
        request,
        _("Submission %(number)s") % {"number": submission.pk},
        submission=submission,
        rows=submission_rows(submission),
        consents=_consents_of(submission),
        effects=submission.side_effects.order_by("kind"),
    )
    response = render(request, "conversion/staff/submission.html", context)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@never_cache
@login_required
@require_GET
def submission_export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The filtered list as CSV, streamed; personal data, so Marketers and Administrators only."""
    _may_view(request)
    if not may_export(request.user):
        raise PermissionDenied
    form, filters = _filters(request)
    if filters is None:
        errors = "; ".join(str(error) for errors in form.errors.values() for error in errors)
        return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")
    rows = submissions_filtered(filters)
    audit_record(
        action="submissions_exported",
        request=request,
        detail={"count": rows.count(), "filters": _filters_audited(filters)},
    )
    response = StreamingHttpResponse(
        submissions_csv_lines(rows), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="submissions-{stamp}.csv"'
    return response


@login_required
@require_POST
def proposal_decide(request: HttpRequest, contact_id: int, submission_id: int) -> HttpResponse:
    """Accept or dismiss the changes a submission nobody confirmed proposes for a contact.
    Back to the contact's page, whatever the request says (no open redirect)."""
    from contacts.models import Contact
    from conversion.proposals import proposal_accept, proposal_dismiss

    if not request.user.has_perm("contacts.change_contact"):
        raise PermissionDenied
    contact = get_object_or_404(Contact, pk=contact_id, anonymised_at__isnull=True)
    decision = request.POST.get("decision")
    try:
        if decision == "accept":
            proposal_accept(
                contact=contact, submission_id=submission_id, actor=request.user, request=request
            )
            messages.success(request, _("The proposed changes were saved to the contact."))
        elif decision == "dismiss":
            proposal_dismiss(
                contact=contact, submission_id=submission_id, actor=request.user, request=request
            )
            messages.success(request, _("The proposed changes were dismissed."))
        else:
            messages.error(request, _("Choose whether to accept or dismiss the changes."))
    except DomainError:
        messages.error(request, _("These changes were already accepted or dismissed."))
    return HttpResponseRedirect(
        reverse("admin:contacts_contact_change", args=[contact.pk]) + "#contact-proposals"
    )
