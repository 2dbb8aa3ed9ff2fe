"""Who a campaign goes to (`campaign_audience`): read by the checklist (`campaigns.gate`), the
staff pages and the sending engine (`campaigns.sending`), which materialises it into deliveries."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from campaigns.models import Campaign
from contacts.models import Contact, Subscription
from contacts.segments import segment_members
from contacts.selectors import contacts_emailable


def campaign_audience(*, campaign: Campaign) -> QuerySet[Contact]:
    """Who the campaign goes to: members of any of its segments (everyone when it names none)
    minus the excluded segments, among the contacts the consent selector allows for its
    purpose (and topic). A bulletin made automatically (`campaigns.bulletins`) goes only to
    the subscribers who chose its frequency (immediate, daily or weekly)."""
    contacts = contacts_emailable(purpose=campaign.purpose, topic=campaign.topic)
    if campaign.bulletin_frequency:
        contacts = contacts.filter(
            Exists(
                Subscription.objects.filter(
                    contact=OuterRef("pk"),
                    topic=campaign.topic,
                    frequency=campaign.bulletin_frequency,
                )
            )
        )
    included = Q()
    for segment in campaign.segments.all():
        included |= Q(pk__in=segment_members(segment=segment).values("pk"))
    if included:
        contacts = contacts.filter(included)
    for segment in campaign.excluded_segments.all():
        contacts = contacts.exclude(pk__in=segment_members(segment=segment).values("pk"))
    return contacts
