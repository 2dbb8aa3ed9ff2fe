"""A/B tests of a campaign: versions tried on a share of the audience, the winner to the rest.

The campaign's e-mail is version A; each of `Campaign.variants` is another version (a different
subject, content or both). When the send starts (`ab_assign`), `ab_percent` of the recipients,
drawn at random, are split evenly among the versions and sent at once; the rest wait. After
`ab_wait_hours` (`abtests_decide_due`, on beat's sending tick) the version with the best rate of
unique clicks (or unique opens, when the campaign tracks them) among its delivered messages
wins; a tie, or no click at all, keeps version A. The winner is written on the waiting
deliveries, which become due at once. The significance of the difference (pooled two-proportion
z-test, `conversion.abtests`) is shown to staff but does not hold the send: the rest of the
audience should not wait for a test that may never be conclusive.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Q, Subquery

from campaigns.models import Campaign, Delivery, Email
from inbound.audit import audit_record
from inbound.lib.stats import two_proportion_z_test

logger = logging.getLogger(__name__)

DELIVERED = [Delivery.Status.SENT, Delivery.Status.COMPLAINED]


def campaign_emails(campaign: Campaign) -> list[Email]:
    """Version A (the campaign's e-mail), then its variants."""
    return [campaign.email, *campaign.variants.order_by("pk")]


def ab_testing(campaign: Campaign) -> bool:
    return campaign.ab_decided_at is None and campaign.variants.exists()


def ab_assign(*, campaign: Campaign, recipients: int, now: dt.datetime) -> int:
    """Draw the test share of the fresh deliveries at random, one version each in turn; the
    rest wait for the decision. Returns how many are in the test."""
    emails = campaign_emails(campaign)
    share = max(len(emails), round(recipients * campaign.ab_percent / 100))
    per_version = max(1, share // len(emails))
    undecided = Delivery.objects.filter(campaign=campaign, email__isnull=True)
    in_test = 0
    for email in emails:
        drawn = undecided.order_by("?").values("pk")[:per_version]
        in_test += Delivery.objects.filter(pk__in=Subquery(drawn)).update(
            email=email, in_ab_test=True
        )
    undecided.update(next_attempt_at=now + dt.timedelta(hours=campaign.ab_wait_hours))
    return in_test


@dataclass(frozen=True)
class VersionResult:
    email: Email
    label: str
    delivered: int
    successes: int  # unique clicks, or unique opens
    p_value: float | None  # against version A

    @property
    def rate_percent(self) -> float | None:
        return 100 * self.successes / self.delivered if self.delivered else None


def ab_results(campaign: Campaign) -> list[VersionResult]:
    """Each version's delivered messages and unique clicks (or opens) in the test."""
    metric = "opened_at" if campaign.ab_metric == "opens" else "clicked_at"
    emails = campaign_emails(campaign)
    rows = {
        row["email"]: row
        for row in Delivery.objects.filter(campaign=campaign, in_ab_test=True)
        .values("email")
        .annotate(
            delivered=Count("pk", filter=Q(status__in=DELIVERED)),
            successes=Count("pk", filter=Q(status__in=DELIVERED, **{f"{metric}__isnull": False})),
        )
    }
    control = rows.get(campaign.email_id, {"delivered": 0, "successes": 0})
    results = []
    for index, email in enumerate(emails):
        row = rows.get(email.pk, {"delivered": 0, "successes": 0})
        p_value = None
        if index and row["delivered"] and control["delivered"]:
            test = two_proportion_z_test(
                conversions_a=control["successes"],
                visitors_a=control["delivered"],
                conversions_b=row["successes"],
                visitors_b=row["delivered"],
            )
            p_value = test.p_value if test else None
        results.append(
            VersionResult(
                email=email,
                label=chr(ord("A") + index),
                delivered=row["delivered"],
                successes=row["successes"],
                p_value=p_value,
            )
        )
    return results


def ab_winner(results: list[VersionResult]) -> VersionResult:
    """The best rate; version A on a tie or when nothing was clicked (or opened)."""
    best = results[0]
    for result in results[1:]:
        if (result.rate_percent or 0) > (best.rate_percent or 0):
            best = result
    return best


@transaction.atomic
def ab_decide(*, campaign: Campaign, now: dt.datetime) -> Email | None:
    """Choose the winner and release the waiting deliveries to it; None if already decided."""
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if locked.ab_decided_at is not None:
        return None
    winner = ab_winner(ab_results(locked)).email
    locked.ab_winner, locked.ab_decided_at = winner, now
    locked.save(update_fields=["ab_winner", "ab_decided_at", "updated_at"])
    released = Delivery.objects.filter(
        campaign=locked, email__isnull=True, status=Delivery.Status.PENDING
    ).update(email=winner, next_attempt_at=now)
    audit_record(
        action="campaigns.abtest_decided",
        obj=locked,
        detail={"winner": winner.pk, "released": released},
    )
    campaign.ab_winner, campaign.ab_decided_at = winner, now
    return winner


def abtests_decide_due(now: dt.datetime) -> int:
    """Decide every test whose wait is over; how many were decided."""
    decided = 0
    for campaign in Campaign.objects.filter(
        status__in=[Campaign.Status.SENDING, Campaign.Status.PAUSED],
        ab_decided_at__isnull=True,
        variants__isnull=False,
        started_at__isnull=False,
    ).distinct():
        if campaign.started_at and now >= campaign.started_at + dt.timedelta(
            hours=campaign.ab_wait_hours
        ):
            decided += ab_decide(campaign=campaign, now=now) is not None
    return decided
