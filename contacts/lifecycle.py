"""The lifecycle stage of a contact, derived from what they did — never typed by staff.

The stages, from the most to the least engaged; a contact is in the first one that holds:

- **advocate**: engaged, and in the last 365 days either answered a survey with an NPS of 9
  or 10 (a `survey_response` touchpoint with `properties["nps"] >= 9`) or took part at least
  3 times (`form_submit` or `survey_response` touchpoints).
- **engaged**: subscriber, and in the last 90 days clicked an email or a call to action,
  submitted a form or answered a survey (`email_click`, `cta_click`, `form_submit`,
  `survey_response`).
- **subscriber**: an active subscription to a topic, or a current grant of newsletter consent
  (the latest newsletter record of the consent ledger is a grant).
- **contact**: everyone else, and every anonymised contact.

A stage is left as soon as its conditions lapse: the stage is recomputed, not promoted. The
refresh is one `UPDATE … SET lifecycle = CASE …` over any set of contacts: nightly for all, and
within seconds for those who recorded a touchpoint that can change their stage
(`contacts.derived`).
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Case, Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact, GreaterThanOrEqual
from django.utils import timezone

from contacts.models import ConsentRecord, Contact, Subscription, Touchpoint
from contacts.selectors import consent_latest_action

ENGAGED_DAYS = 90
ADVOCATE_DAYS = 365
ENGAGING_KINDS = ("email_click", "form_submit", "survey_response", "cta_click")
PARTICIPATION_KINDS = ("form_submit", "survey_response")
PROMOTER_NPS = 9
ADVOCATE_PARTICIPATIONS = 3

Lifecycle = Contact.Lifecycle


def lifecycle_expression() -> Case:
    """The stage of the outer contact row, as one SQL expression (usable in UPDATE or SELECT)."""
    now = timezone.now()
    touchpoints = Touchpoint.objects.filter(contact=OuterRef("pk"))
    subscriber = Exists(
        Subscription.objects.filter(contact=OuterRef("pk"), status=Subscription.Status.ACTIVE)
    ) | Q(
        Exact(
            consent_latest_action(ConsentRecord.Purpose.NEWSLETTER, None),
            ConsentRecord.Action.GRANTED,
        )
    )
    engaged = subscriber & Exists(
        touchpoints.filter(
            kind__in=ENGAGING_KINDS, occurred_at__gte=now - timedelta(days=ENGAGED_DAYS)
        )
    )
    year = touchpoints.filter(occurred_at__gte=now - timedelta(days=ADVOCATE_DAYS))
    promoter = Exists(year.filter(kind="survey_response", properties__nps__gte=PROMOTER_NPS))
    participations = Coalesce(
        Subquery(
            year.filter(kind__in=PARTICIPATION_KINDS)
            .order_by()
            .values("contact")
            .annotate(n=Count("pk"))
            .values("n")[:1]
        ),
        0,
    )
    advocate = engaged & (promoter | Q(GreaterThanOrEqual(participations, ADVOCATE_PARTICIPATIONS)))
    return Case(
        When(anonymised_at__isnull=False, then=Value(Lifecycle.CONTACT)),
        When(advocate, then=Value(Lifecycle.ADVOCATE)),
        When(engaged, then=Value(Lifecycle.ENGAGED)),
        When(subscriber, then=Value(Lifecycle.SUBSCRIBER)),
        default=Value(Lifecycle.CONTACT),
    )


def contacts_lifecycle_refresh(*, contacts: QuerySet[Contact] | None = None) -> int:
    """Recompute the stage of `contacts` (all by default) in one UPDATE.

    Only rows whose stage changes are written; returns how many changed.
    """
    queryset = Contact.objects.all() if contacts is None else contacts
    return (
        queryset.order_by()
        .annotate(_stage=lifecycle_expression())
        .exclude(lifecycle=F("_stage"))
        .update(lifecycle=F("_stage"))
    )


def contact_lifecycle_refresh(*, contact: Contact) -> str:
    """Recompute one contact's stage; returns it (and sets it on `contact`)."""
    contacts_lifecycle_refresh(contacts=Contact.objects.filter(pk=contact.pk))
    contact.lifecycle = Contact.objects.values_list("lifecycle", flat=True).get(pk=contact.pk)
    return contact.lifecycle
