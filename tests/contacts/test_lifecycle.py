"""Lifecycle stages: derived from subscriptions, consent and touchpoints; left when they lapse."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from contacts.lifecycle import (
    connect_signals,
    contact_lifecycle_refresh,
    contacts_lifecycle_refresh,
)
from contacts.models import ConsentRecord, Contact, Subscription, Touchpoint
from contacts.services import subscription_set, touchpoint_record
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


def test_recording_an_engaging_touchpoint_refreshes_the_stage_after_commit(
    django_capture_on_commit_callbacks: Any,
) -> None:
    connect_signals()
    contact = ContactFactory()
    grant(contact)
    contacts_lifecycle_refresh()

    with django_capture_on_commit_callbacks(execute=True):
        touchpoint_record(kind="email_click", contact=contact)

    contact.refresh_from_db()
    assert contact.lifecycle == Stage.ENGAGED


def test_the_refresh_task_refreshes_every_contact() -> None:
    from contacts.tasks_personas import lifecycle_refresh

    contact = ContactFactory()
    grant(contact)

    lifecycle_refresh()

    contact.refresh_from_db()
    assert contact.lifecycle == Stage.SUBSCRIBER
