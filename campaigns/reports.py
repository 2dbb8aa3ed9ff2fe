"""A campaign's report: how its send went, in aggregates only (never who opened or clicked).

- **Headline**: recipients (deliveries), delivered (sent, or marked as spam: a complaint comes
  from a message that arrived), bounced, failed, not sent (skipped), pending, marked as spam,
  unique clicks (`Delivery.clicked_at`) and all clicks, unique opens (`Delivery.opened_at`)
  and all opens (`email_open` touchpoints; both shown only when the campaign tracks opens),
  and unsubscribes: recipients with an `unsubscribe` touchpoint whose subject is the campaign
  (its link, the mail program's button, the ESP's). Unsubscribing later from the preference
  centre names no campaign and is not counted. Rates are percentages of delivered.
- **Clicks per link** (`email_click` touchpoints grouped by the link id in their properties):
  all clicks, and unique clickers. A click under Global Privacy Control or Do Not Track, and an
  open by someone who did not accept tracking (`campaigns.tracking`), are recorded without the
  contact: they count in "all", not as unique ones, nor in the breakdowns.
- **Breakdowns** by persona and district (the contacts' current ones) and by language (the one
  the e-mail was sent in, `Delivery.language`): recipients, delivered, unique opens, unique
  clicks, click rate, unsubscribes.

No row of a breakdown describes fewer than `MIN_GROUP` (5) people, the usual threshold of
Spanish public statistics: someone who knows the only two recipients in a district must not
learn that one of them unsubscribed. Smaller groups, and districts beyond the first
`DISTRICTS_SHOWN`, are counted together as "others"; when that pool is still under the
threshold, the smallest group shown joins it, so it can't be worked out from the totals either.
A campaign with fewer recipients than that has no breakdowns. The headline stays exact: it is
about the whole send, whose size staff know anyway.

Three queries whatever the size of the send: one pass over the campaign's deliveries grouped by
language, persona and district at once, with conditional counts (the unsubscribers are an
uncorrelated subquery, hashed once), from which the headline and the three breakdowns are
summed in Python; the links; and one pass over the campaign's click and open touchpoints
grouped by kind and link. 100,000 deliveries: about 0.15 s on PostgreSQL.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from campaigns.models import Campaign, CampaignLink, Delivery
from contacts.models import CONTENT_LANGUAGES, Touchpoint

MIN_GROUP = 5
DISTRICTS_SHOWN = 10

DELIVERED = [Delivery.Status.SENT, Delivery.Status.COMPLAINED]
COUNTS = (
    "recipients",
    "delivered",
    "bounced",
    "failed",
    "skipped",
    "pending",
    "complained",
    "opened",
    "clicked",
    "unsubscribed",
)


@dataclass(frozen=True)
class Figures:
    """The counts of one group of recipients (or of all of them)."""

    label: str = ""
    recipients: int = 0
    delivered: int = 0
    bounced: int = 0
    failed: int = 0
    skipped: int = 0
    pending: int = 0
    complained: int = 0
    opened: int = 0
    clicked: int = 0
    unsubscribed: int = 0
    groups: int = 1  # how many groups this row counts together ("others")

    def __add__(self, other: Figures) -> Figures:
        counts = {name: getattr(self, name) + getattr(other, name) for name in COUNTS}
        return Figures(label=self.label, groups=self.groups + other.groups, **counts)

    def _percent(self, part: int) -> float | None:
        return 100 * part / self.delivered if self.delivered else None

    @property
    def open_rate(self) -> float | None:
        return self._percent(self.opened)

    @property
    def click_rate(self) -> float | None:
        return self._percent(self.clicked)

    @property
    def unsubscribe_rate(self) -> float | None:
        return self._percent(self.unsubscribed)

    @property
    def complaint_rate(self) -> float | None:
        return self._percent(self.complained)

    @property
    def delivery_rate(self) -> float | None:
        """Delivered, as a percentage of the messages handed to the mail server."""
        attempted = self.delivered + self.bounced + self.failed
        return 100 * self.delivered / attempted if attempted else None

    @property
    def bounce_rate(self) -> float | None:
        attempted = self.delivered + self.bounced + self.failed
        return 100 * self.bounced / attempted if attempted else None


@dataclass(frozen=True)
class Breakdown:
    key: str  # "persona", "language", "district"
    title: str
    rows: list[Figures]
    others: Figures | None  # the pooled small groups (and districts beyond the first ones)

    @property
    def all_rows(self) -> list[Figures]:
        return [*self.rows, *([self.others] if self.others else [])]


@dataclass(frozen=True)
class LinkClicks:
    position: int
    url: str
    clicks: int
    unique: int


@dataclass(frozen=True)
class Report:
    campaign: Campaign
    totals: Figures
    clicks: int  # every recorded click, anonymous ones included
    opens: int  # every recorded open, anonymous ones included
    links: list[LinkClicks]
    breakdowns: list[Breakdown]  # empty under MIN_GROUP recipients

    @property
    def track_opens(self) -> bool:
        return self.campaign.track_opens

    @property
    def track_clicks(self) -> bool:
        return self.campaign.track_clicks

    @property
    def too_few_to_break_down(self) -> bool:
        return 0 < self.totals.recipients < MIN_GROUP


def _touchpoints(campaign: Campaign, *kinds: str) -> QuerySet[Touchpoint]:
    return Touchpoint.objects.filter(
        subject_type=ContentType.objects.get_for_model(Campaign),
        subject_id=str(campaign.pk),
        kind__in=kinds,
    )


def _counts(campaign: Campaign) -> dict[str, Any]:
    unsubscribers = (
        _touchpoints(campaign, "unsubscribe").filter(contact__isnull=False).values("contact_id")
    )
    status = Delivery.Status
    return {
        "recipients": Count("pk"),
        "delivered": Count("pk", filter=Q(status__in=DELIVERED)),
        "bounced": Count("pk", filter=Q(status=status.BOUNCED)),
        "failed": Count("pk", filter=Q(status=status.FAILED)),
        "skipped": Count("pk", filter=Q(status=status.SKIPPED)),
        "pending": Count("pk", filter=Q(status=status.PENDING)),
        "complained": Count("pk", filter=Q(status=status.COMPLAINED)),
        "opened": Count("pk", filter=Q(opened_at__isnull=False)),
        "clicked": Count("pk", filter=Q(clicked_at__isnull=False)),
        "unsubscribed": Count("pk", filter=Q(contact_id__in=unsubscribers)),
    }


def _cells(campaign: Campaign) -> list[tuple[dict[str, Any], tuple[int, ...]]]:
    """The counts (in `COUNTS` order) per language, persona and district of the campaign's
    recipients: one pass over its deliveries, summed per breakdown afterwards."""
    keys = ["language", "contact__persona_id", "contact__persona__name", "contact__district"]
    rows = (
        Delivery.objects.filter(campaign=campaign)
        .values(*keys)
        .annotate(**_counts(campaign))
        .order_by()
    )
    return [(row, tuple(row[name] for name in COUNTS)) for row in rows]


def _summed(
    cells: Iterable[tuple[dict[str, Any], tuple[int, ...]]],
    group: Callable[[dict[str, Any]], str],
) -> list[Figures]:
    # Plain lists: a few thousand cells, summed three times, in a few milliseconds.
    sums: dict[str, list[int]] = {}
    for row, counts in cells:
        total = sums.setdefault(group(row), [0] * len(COUNTS))
        for index, count in enumerate(counts):
            total[index] += count
    return [
        Figures(label=label, **dict(zip(COUNTS, total, strict=True)))
        for label, total in sums.items()
    ]


def _pooled(groups: Iterable[Figures], *, shown_at_most: int | None = None) -> Breakdown:
    """Groups of MIN_GROUP recipients or more, largest first (at most `shown_at_most`), and the
    rest pooled; a pool under MIN_GROUP takes in the smallest group shown."""
    shown: list[Figures] = []
    pool: list[Figures] = []
    for group in sorted(groups, key=lambda g: (-g.recipients, g.label)):
        room = shown_at_most is None or len(shown) < shown_at_most
        (shown if room and group.recipients >= MIN_GROUP else pool).append(group)
    while pool and shown and sum(g.recipients for g in pool) < MIN_GROUP:
        pool.append(shown.pop())
    others = None
    if pool:
        others = sum(pool[1:], pool[0])
        others = dataclasses.replace(others, label=_("Others"))
    return Breakdown(key="", title="", rows=shown, others=others)


def _breakdown(key: str, title: str, groups: Iterable[Figures], limit: int | None) -> Breakdown:
    pooled = _pooled(groups, shown_at_most=limit)
    return dataclasses.replace(pooled, key=key, title=title)


def _tracked(campaign: Campaign) -> tuple[list[LinkClicks], int]:
    """Clicks per link, and every recorded open (one pass over the two kinds)."""
    rows = (
        _touchpoints(campaign, "email_click", "email_open")
        .values_list("kind", "properties__link")
        .annotate(count=Count("pk"), unique=Count("contact", distinct=True))
        .order_by()
    )
    counted = {(kind, link): (count, unique) for kind, link, count, unique in rows}
    links = CampaignLink.objects.filter(campaign=campaign).order_by("position", "pk")
    clicks = [
        LinkClicks(position, url, *counted.get(("email_click", pk), (0, 0)))
        for pk, position, url in links.values_list("pk", "position", "url")
    ]
    return clicks, counted.get(("email_open", None), (0, 0))[0]


def campaign_report(*, campaign: Campaign) -> Report:
    """The figures of a campaign's send, overall, per link and per group of recipients."""
    cells = _cells(campaign)
    totals = next(iter(_summed(cells, lambda row: _("All recipients"))), Figures())
    links, opens = _tracked(campaign)
    breakdowns: list[Breakdown] = []
    if totals.recipients >= MIN_GROUP:
        languages = dict(CONTENT_LANGUAGES)
        no_persona, no_district = _("No persona"), _("No district")
        breakdowns = [
            _breakdown(
                "persona",
                _("By persona"),
                _summed(cells, lambda row: row["contact__persona__name"] or no_persona),
                None,
            ),
            _breakdown(
                "language",
                _("By language"),
                _summed(cells, lambda row: str(languages.get(row["language"], row["language"]))),
                None,
            ),
            _breakdown(
                "district",
                _("By district"),
                _summed(cells, lambda row: row["contact__district"] or no_district),
                DISTRICTS_SHOWN,
            ),
        ]
    return Report(
        campaign=campaign,
        totals=totals,
        clicks=sum(link.clicks for link in links),
        opens=opens,
        links=links,
        breakdowns=breakdowns,
    )


def report_csv_rows(report: Report) -> Sequence[list[Any]]:
    """The breakdown tables as rows for a CSV file: a header, then one row per group."""
    header = [
        _("Breakdown"),
        _("Group"),
        _("Recipients"),
        _("Delivered"),
        _("Bounced"),
        _("Failed"),
        *([_("Unique opens")] if report.track_opens else []),
        _("Unique clicks"),
        _("Click rate (%)"),
        _("Unsubscribes"),
    ]
    rows: list[list[Any]] = [header]
    for breakdown in [
        Breakdown(key="total", title=_("Total"), rows=[report.totals], others=None),
        *report.breakdowns,
    ]:
        for group in breakdown.all_rows:
            rate = group.click_rate
            rows.append(
                [
                    breakdown.title,
                    group.label,
                    group.recipients,
                    group.delivered,
                    group.bounced,
                    group.failed,
                    *([group.opened] if report.track_opens else []),
                    group.clicked,
                    round(rate, 1) if rate is not None else "",
                    group.unsubscribed,
                ]
            )
    return rows
