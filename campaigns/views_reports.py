"""A campaign's report, under /<lang>/staff/campaigns/<id>/report/ (`campaigns.reports`), and
its breakdowns as CSV.

Both need `campaigns.view_campaign` (Marketers, Analysts, Administrators): they show aggregates
only, never who opened, clicked or unsubscribed, and no breakdown row describes fewer than five
people, so nothing personal leaves with them and neither is audited.
"""

from __future__ import annotations

import csv
import io

from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from campaigns.models import Campaign
from campaigns.reports import MIN_GROUP, Breakdown, Report, campaign_report, report_csv_rows
from inbound.lib.charts import BarChart, bar_chart
from inbound.lib.spreadsheets import cell_escape

VIEW = "campaigns.view_campaign"


def _campaign(request: HttpRequest, pk: int) -> Campaign:
    if not request.user.has_perm(VIEW):
        raise PermissionDenied
    campaign: Campaign = get_object_or_404(Campaign.objects.select_related("email"), pk=pk)
    return campaign


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{number_format(value, 1)} %"


def _outcome_chart(report: Report) -> BarChart:
    totals = report.totals
    bars = [(_("Delivered"), totals.delivered)]
    if report.track_opens:
        bars.append((_("Opened"), totals.opened))
    if report.track_clicks:
        bars.append((_("Clicked"), totals.clicked))
    bars += [
        (_("Unsubscribed"), totals.unsubscribed),
        (_("Bounced"), totals.bounced),
        (_("Failed"), totals.failed),
    ]
    return bar_chart(
        id="chart-outcome",
        title=_("What happened to the %(count)s messages")
        % {"count": number_format(totals.recipients)},
        bars=[(label, value, number_format(value)) for label, value in bars],
        maximum=totals.recipients,
    )


def _click_rate_chart(breakdown: Breakdown) -> BarChart:
    rows = breakdown.all_rows
    return bar_chart(
        id=f"chart-{breakdown.key}",
        title=_("Click rate, %(breakdown)s") % {"breakdown": breakdown.title.lower()},
        bars=[(row.label, row.click_rate or 0, _percent(row.click_rate)) for row in rows],
    )


@never_cache
@login_required
@require_GET
def campaign_report_page(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    report = campaign_report(campaign=campaign)
    breakdowns = [
        {
            "breakdown": breakdown,
            "chart": _click_rate_chart(breakdown) if report.track_clicks else None,
        }
        for breakdown in report.breakdowns
    ]
    context = {
        **admin.site.each_context(request),
        "title": _("Report: %(name)s") % {"name": campaign.name},
        "campaign": campaign,
        "report": report,
        "totals": report.totals,
        "outcome_chart": _outcome_chart(report) if report.totals.recipients else None,
        "breakdowns": breakdowns,
        "min_group": MIN_GROUP,
    }
    return render(request, "campaigns/staff/report.html", context)


@never_cache
@login_required
@require_GET
def campaign_report_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """The totals and the breakdowns as CSV (aggregates; spreadsheet formulas made inert)."""
    campaign = _campaign(request, pk)
    report = campaign_report(campaign=campaign)
    buffer = io.StringIO()
    buffer.write("\ufeff")  # so spreadsheets read it as UTF-8
    writer = csv.writer(buffer)
    for row in report_csv_rows(report):
        writer.writerow([cell_escape(value) for value in row])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = (
        f'attachment; filename="campaign-{campaign.pk}-report-{stamp}.csv"'
    )
    return response
