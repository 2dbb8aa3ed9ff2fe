"""Site search for citizens, and the report of what they searched for in vain, for staff.

The search page is never cached whole (it varies with every query), is not indexed, and is
rate-limited per hashed IP. Each first page of results is recorded as a `search`
touchpoint from a Celery task on the `tracking` queue, with the query scrubbed of personal
data before it leaves the request.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from contacts.rights import public_topics
from content.search import (
    MAX_RESULTS,
    PER_PAGE,
    PERSONAL_DATA_REMOVED,
    QUERY_MAX,
    RATE_LIMIT,
    RATE_PERIOD,
    SEARCH_REPORT_ROLES,
    content_search,
    query_clean,
    search_gaps,
    search_query_normalise,
    search_top_queries,
)
from content.tasks import tracking_search_record
from inbound.lib.broker import request_publish
from inbound.lib.ratelimit import rate_limit_hit
from inbound.lib.spreadsheets import cell_escape
from inbound.roles import role_required
from inbound.visitors import visitor_key

logger = logging.getLogger(__name__)

REPORT_ROWS = 100  # on the page; the CSV has them all
CSV_ROWS_MAX = 10_000


# --- Public search -----------------------------------------------------------------------------


class SearchForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("What are you looking for?"),
        max_length=QUERY_MAX,
        required=False,
        widget=forms.SearchInput,
        error_messages={
            "max_length": gettext_lazy(
                "Your search is too long: write at most %(limit_value)d characters "
                "(it has %(show_value)d). A few words are enough."
            )
        },
    )
    page = forms.IntegerField(
        min_value=1,
        required=False,
        error_messages={
            "invalid": gettext_lazy("The page number must be a whole number."),
            "min_value": gettext_lazy("The page number must be 1 or more."),
        },
    )

    def clean_q(self) -> str:
        return query_clean(self.cleaned_data.get("q") or "")


def search(request: HttpRequest) -> HttpResponse:
    language = get_language()
    form = SearchForm(request.GET)
    context: dict[str, Any] = {"form": form, "max_pages": MAX_RESULTS // PER_PAGE}
    if not form.is_valid():
        return _search_page(request, context, status=400)
    query = form.cleaned_data["q"]
    if not query:
        return _search_page(request, context)
    if rate_limit_hit(
        request=request, scope="content.search", limit=RATE_LIMIT, period=RATE_PERIOD
    ):
        response = _search_page(request, {**context, "rate_limited": True}, status=429)
        response["Retry-After"] = str(RATE_PERIOD)
        return response
    number = form.cleaned_data["page"] or 1
    if number > MAX_RESULTS // PER_PAGE:
        raise Http404
    results = content_search(
        query, language=language, offset=(number - 1) * PER_PAGE, limit=PER_PAGE
    )
    if number > 1 and not results.hits:
        raise Http404
    if number == 1:
        _search_record(request, query=query, results=results.total, language=language)
    paginator = Paginator(range(min(results.total, MAX_RESULTS)), PER_PAGE)
    context.update(
        query=query,
        results=results,
        page_obj=paginator.page(number) if results.total else None,
        more_than_shown=results.total > MAX_RESULTS,
        topics=public_topics() if not results.total else [],
    )
    return _search_page(request, context)


def _search_page(request: HttpRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    response = render(request, "content/search.html", context, status=status)
    response["X-Robots-Tag"] = "noindex"
    return response


def _search_record(request: HttpRequest, *, query: str, results: int, language: str) -> None:
    """Queue the `search` touchpoint, with the day's visitor key (none under Global Privacy
    Control or Do Not Track: `inbound.visitors`).

    A search must not fail because the broker is down: then this one is not recorded.
    """
    touchpoint = {
        "query": search_query_normalise(query),
        "results": results,
        "language": language,
        "visitor_key": visitor_key(request),
    }

    def enqueue() -> None:
        try:
            request_publish(tracking_search_record.name, kwargs=touchpoint)
        except Exception as error:
            # Whatever the broker answers (refused, or a pooled connection reset as it stops),
            # the results are served.
            logger.warning("search touchpoint not recorded: broker unavailable (%r)", error)

    transaction.on_commit(enqueue)


# --- Staff: the content-gap report -------------------------------------------------------------

PERIODS = (
    (7, gettext_lazy("Last 7 days")),
    (30, gettext_lazy("Last 30 days")),
    (90, gettext_lazy("Last 90 days")),
)
DEFAULT_PERIOD = 30


class SearchGapsForm(forms.Form):
    period = forms.TypedChoiceField(
        label=gettext_lazy("Period"),
        choices=PERIODS,
        coerce=int,
        initial=DEFAULT_PERIOD,
        required=False,
        empty_value=None,
    )
    language = forms.ChoiceField(
        label=gettext_lazy("Language"),
        choices=[("", gettext_lazy("All languages")), *settings.LANGUAGES],
        required=False,
    )


def _report_filters(request: HttpRequest) -> tuple[SearchGapsForm, dict[str, Any] | None]:
    """The form and the filters it gives: defaults when nothing was chosen, None if invalid."""
    form = SearchGapsForm(request.GET or None)
    if not form.is_bound:
        return form, {"period": DEFAULT_PERIOD, "language": ""}
    if not form.is_valid():
        return form, None
    return form, {**form.cleaned_data, "period": form.cleaned_data["period"] or DEFAULT_PERIOD}


def _since(filters: dict[str, Any]) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=filters["period"])


def _language_name(code: str) -> str:
    return str(dict(settings.LANGUAGES).get(code, code or "—"))


def _query_shown(query: str | None) -> str:
    if query == PERSONAL_DATA_REMOVED:
        return _("(personal data removed)")
    return query or ""


def _report_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **row,
        "query": _query_shown(row["search_query"]),
        "language": _language_name(row["search_language"]),
    }


@role_required(*SEARCH_REPORT_ROLES)
def search_gaps_report(request: HttpRequest) -> HttpResponse:
    form, filters = _report_filters(request)
    context: dict[str, Any] = {
        **admin.site.each_context(request),
        "title": _("Search gaps"),
        "form": form,
        "report_rows": REPORT_ROWS,
    }
    if filters is None:
        return render(request, "content/staff/search_gaps.html", context, status=400)
    since = _since(filters)
    language = filters["language"]
    context.update(
        gaps=[
            _report_row(row)
            for row in search_gaps(since=since, language=language, limit=REPORT_ROWS)
        ],
        top=[
            _report_row(row)
            for row in search_top_queries(since=since, language=language, limit=REPORT_ROWS)
        ],
        filter_query=request.GET.urlencode(),
        show_report=True,
    )
    return render(request, "content/staff/search_gaps.html", context)


@role_required(*SEARCH_REPORT_ROLES)
def search_gaps_csv(request: HttpRequest, report: str) -> HttpResponse:
    """The report as CSV: `gaps` (queries with no results) or `top` (most frequent queries)."""
    form, filters = _report_filters(request)
    if filters is None:
        errors = "; ".join(str(error) for errors in form.errors.values() for error in errors)
        return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")
    since = _since(filters)
    language = filters["language"]
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = "search-gaps" if report == "gaps" else "search-top-queries"
    suffix = f"-{language}" if language else ""
    response["Content-Disposition"] = (
        f'attachment; filename="{name}-{filters["period"]}d{suffix}.csv"'
    )
    writer = csv.writer(response)
    if report == "gaps":
        writer.writerow([_("Query"), _("Language"), _("Searches"), _("Last searched")])
        for row in search_gaps(since=since, language=language, limit=CSV_ROWS_MAX):
            shown = _report_row(row)
            writer.writerow(
                [
                    cell_escape(shown["query"]),
                    shown["language"],
                    row["searches"],
                    _timestamp(row["last_searched"]),
                ]
            )
    else:
        writer.writerow(
            [_("Query"), _("Language"), _("Searches"), _("Average results"), _("Last searched")]
        )
        for row in search_top_queries(since=since, language=language, limit=CSV_ROWS_MAX):
            shown = _report_row(row)
            writer.writerow(
                [
                    cell_escape(shown["query"]),
                    shown["language"],
                    row["searches"],
                    f"{row['average_results'] or 0:.1f}",
                    _timestamp(row["last_searched"]),
                ]
            )
    return response


def _timestamp(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
