"""Lifecycle stages: derived from subscriptions, consent and touchpoints; left when they lapse."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from contacts.derived import derived_refresh_pending
from contacts.lifecycle import contact_lifecycle_refresh, contacts_lifecycle_refresh
from contacts.models import ConsentRecord, Contact, DerivedRefresh, Subscription, Touchpoint
from contacts.services import (
    TouchpointIn,
    subscription_set,
    touchpoint_record,
    touchpoints_record_bulk,
)
from tests.contacts.factories import ContactFactory, TopicFactory, grant

pytestmark = pytest.mark.django_db

Stage = Contact.Lifecycle


def _touch(contact: Contact, kind: str, days_ago: float = 1, **properties: Any) -> Touchpoint:
    return Touchpoint.objects.create(
        contact=contact,
        kind=kind,
        stage="serve",
        properties=properties,
        occurred_at=timezone.now() - timedelta(days=days_ago),
    )


def _stage(contact: Contact) -> str:
    contacts_lifecycle_refresh()
    contact.refresh_from_db()
    return contact.lifecycle


def test_a_contact_without_subscription_or_consent_is_a_contact() -> None:
    contact = ContactFactory()
    _touch(contact, "email_click")

    assert _stage(contact) == Stage.CONTACT


def test_an_active_subscription_makes_a_subscriber_and_unsubscribing_leaves_it() -> None:
    contact = ContactFactory()
    topic = TopicFactory(slug="movilidad")
    subscription_set(contact=contact, topic=topic, status=Subscription.Status.ACTIVE)

    assert _stage(contact) == Stage.SUBSCRIBER

    subscription_set(contact=contact, topic=topic, status=Subscription.Status.UNSUBSCRIBED)
    assert _stage(contact) == Stage.CONTACT


def test_a_pending_subscription_is_not_enough() -> None:
    contact = ContactFactory()
    subscription_set(
        contact=contact, topic=TopicFactory(slug="cultura"), status=Subscription.Status.PENDING
    )

    assert _stage(contact) == Stage.CONTACT


def test_a_current_newsletter_grant_makes_a_subscriber_until_withdrawn() -> None:
    contact = ContactFactory()
    grant(contact, occurred_at=timezone.now() - timedelta(days=10))

    assert _stage(contact) == Stage.SUBSCRIBER

    grant(contact, action=ConsentRecord.Action.WITHDRAWN)
    assert _stage(contact) == Stage.CONTACT


def test_a_subscriber_who_clicked_recently_is_engaged_and_lapses_after_90_days() -> None:
    contact = ContactFactory()
    grant(contact)
    click = _touch(contact, "email_click", days_ago=30)

    assert _stage(contact) == Stage.ENGAGED

    Touchpoint.objects.filter(pk=click.pk).update(occurred_at=timezone.now() - timedelta(days=91))
    assert _stage(contact) == Stage.SUBSCRIBER


@pytest.mark.parametrize("kind", ["email_click", "form_submit", "survey_response", "cta_click"])
def test_each_engaging_kind_makes_a_subscriber_engaged(kind: str) -> None:
    contact = ContactFactory()
    grant(contact)
    _touch(contact, kind)

    assert _stage(contact) == Stage.ENGAGED


def test_opening_emails_or_viewing_pages_does_not_engage() -> None:
    contact = ContactFactory()
    grant(contact)
    _touch(contact, "email_open")
    _touch(contact, "page_view")

    assert _stage(contact) == Stage.SUBSCRIBER


def test_a_promoter_who_is_engaged_is_an_advocate() -> None:
    contact = ContactFactory()
    grant(contact)
    _touch(contact, "survey_response", days_ago=5, nps=9)

    assert _stage(contact) == Stage.ADVOCATE


def test_a_detractor_answer_alone_does_not_make_an_advocate() -> None:
    contact = ContactFactory()
    grant(contact)
    _touch(contact, "survey_response", days_ago=5, nps=6)

    assert _stage(contact) == Stage.ENGAGED


def test_three_participations_in_a_year_make_an_advocate_and_it_lapses_with_them() -> None:
    contact = ContactFactory()
    grant(contact)
    _touch(contact, "form_submit", days_ago=10)
    _touch(contact, "form_submit", days_ago=200)
    old = _touch(contact, "survey_response", days_ago=300, nps=5)

    assert _stage(contact) == Stage.ADVOCATE

    Touchpoint.objects.filter(pk=old.pk).update(occurred_at=timezone.now() - timedelta(days=400))
    assert _stage(contact) == Stage.ENGAGED


def test_an_advocate_who_stops_engaging_falls_back_to_subscriber() -> None:
    contact = ContactFactory()
    grant(contact)
    _touch(contact, "survey_response", days_ago=120, nps=10)
    _touch(contact, "form_submit", days_ago=150)
    _touch(contact, "form_submit", days_ago=160)

    # Promoter and three participations within the year, but nothing in the last 90 days.
    assert _stage(contact) == Stage.SUBSCRIBER


def test_a_promoter_without_consent_or_subscription_stays_a_contact() -> None:
    contact = ContactFactory()
    _touch(contact, "survey_response", nps=10)

    assert _stage(contact) == Stage.CONTACT


def test_anonymised_contacts_are_contacts() -> None:
    contact = ContactFactory(anonymised_at=timezone.now(), lifecycle=Stage.ENGAGED)
    grant(contact)
    _touch(contact, "email_click")

    assert _stage(contact) == Stage.CONTACT


def test_refresh_counts_only_changed_contacts_and_can_be_limited() -> None:
    subscriber, other = ContactFactory(), ContactFactory()
    grant(subscriber)
    grant(other)

    assert contacts_lifecycle_refresh(contacts=Contact.objects.filter(pk=subscriber.pk)) == 1
    other.refresh_from_db()
    assert other.lifecycle == Stage.CONTACT
    assert contacts_lifecycle_refresh() == 1
    assert contacts_lifecycle_refresh() == 0


def test_refreshing_one_contact_returns_and_sets_its_stage() -> None:
    contact = ContactFactory()
    grant(contact)

    assert contact_lifecycle_refresh(contact=contact) == Stage.SUBSCRIBER
    assert contact.lifecycle == Stage.SUBSCRIBER


def test_an_engaging_touchpoint_refreshes_the_stage_at_the_next_tick() -> None:
    contact = ContactFactory()
    grant(contact)
    contacts_lifecycle_refresh()

    touchpoint_record(kind="email_click", contact=contact)
    contact.refresh_from_db()
    assert contact.lifecycle == Stage.SUBSCRIBER

    assert derived_refresh_pending() == 1
    contact.refresh_from_db()
    assert contact.lifecycle == Stage.ENGAGED


def test_a_page_view_queues_nothing() -> None:
    contact = ContactFactory()

    touchpoint_record(kind="page_view", contact=contact)

    assert derived_refresh_pending() == 0


def test_many_touchpoints_of_one_contact_queue_it_once() -> None:
    contact = ContactFactory()
    grant(contact)

    for _ in range(3):
        touchpoint_record(kind="email_click", contact=contact)
    touchpoints_record_bulk(rows=[TouchpointIn(kind="cta_click", contact_id=contact.pk)] * 2)

    assert DerivedRefresh.objects.count() == 1
    assert derived_refresh_pending(batch_size=1) == 1
    assert DerivedRefresh.objects.count() == 0
    contact.refresh_from_db()
    assert contact.lifecycle == Stage.ENGAGED


def test_the_queue_is_drained_in_batches() -> None:
    contacts = ContactFactory.create_batch(5)
    for contact in contacts:
        grant(contact)
        touchpoint_record(kind="form_submit", contact=contact)

    assert derived_refresh_pending(batch_size=2) == 5

    assert DerivedRefresh.objects.count() == 0
    assert set(Contact.objects.values_list("lifecycle", flat=True)) == {Stage.ENGAGED}


def test_the_refresh_task_refreshes_every_contact() -> None:
    from contacts.tasks_personas import lifecycle_refresh

    contact = ContactFactory()
    grant(contact)

    lifecycle_refresh()

    contact.refresh_from_db()
    assert contact.lifecycle == Stage.SUBSCRIBER
