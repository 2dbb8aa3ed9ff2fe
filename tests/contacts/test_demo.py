"""The demo citizens: realistic, consistent, deterministic and seeded only once."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from contacts.demo import DEMO_DOMAINS, PERSONAS, TOPICS, contacts_demo_seed
from contacts.models import (
    ConsentRecord,
    Contact,
    ContactProperty,
    Persona,
    Segment,
    Subscription,
    Topic,
    Touchpoint,
)
from contacts.segments import segment_count

pytestmark = pytest.mark.django_db

SIZE = 300


def _fingerprint() -> list[tuple[str, str, str, int | None, str, int]]:
    return list(
        Contact.objects.annotate(n=Count("touchpoints"))
        .order_by("email")
        .values_list("email", "last_name", "district", "birth_year", "lifecycle", "n")
    )


def test_seeding_creates_citizens_with_everything_about_them() -> None:
    started = time.monotonic()
    created = contacts_demo_seed(contacts=SIZE)
    elapsed = time.monotonic() - started

    assert created == SIZE
    assert Contact.objects.count() == SIZE
    assert elapsed < 10
    assert sorted(Topic.objects.values_list("slug", flat=True)) == sorted(s for s, *_n in TOPICS)
    assert Topic.objects.get(slug="medio-ambiente").name_en == "Environment"
    assert set(ContactProperty.objects.values_list("key", flat=True)) >= {
        "tiene_hijos",
        "situacion_laboral",
        "vehiculo",
    }
    contact = Contact.objects.order_by("pk").first()
    assert contact is not None
    assert contact.email.rsplit("@", 1)[1] in DEMO_DOMAINS
    assert len(contact.last_name.split()) >= 2
    assert "28990" <= contact.postal_code <= "28999"
    ages = [c.age for c in Contact.objects.all() if c.age is not None]
    assert min(ages) >= 16 and max(ages) <= 90
    languages = Counter(Contact.objects.values_list("language", flat=True))
    assert languages.most_common(1)[0][0] == "es"


def test_subscriptions_come_with_the_consent_that_justifies_them() -> None:
    contacts_demo_seed(contacts=SIZE)

    active = Subscription.objects.filter(status=Subscription.Status.ACTIVE)
    assert active.count() > SIZE // 2
    for subscription in active[:50]:
        latest = (
            ConsentRecord.objects.filter(
                contact=subscription.contact_id, purpose="topic", topic=subscription.topic_id
            )
            .order_by("-occurred_at", "-id")
            .first()
        )
        assert latest is not None and latest.action == ConsentRecord.Action.GRANTED
        assert latest.text and latest.text_version
    assert ConsentRecord.objects.filter(purpose="newsletter", action="granted").exists()


def test_most_subscribers_want_news_at_once_and_some_a_daily_or_weekly_digest() -> None:
    contacts_demo_seed(contacts=SIZE)

    frequencies = Counter(
        Subscription.objects.filter(status="active").values_list("frequency", flat=True)
    )
    assert frequencies.most_common(1)[0][0] == Subscription.Frequency.IMMEDIATE
    assert frequencies[Subscription.Frequency.DAILY] > 0
    assert frequencies[Subscription.Frequency.WEEKLY] > 0


def test_six_months_of_touchpoints_about_ten_per_contact() -> None:
    contacts_demo_seed(contacts=SIZE)

    touchpoints = Touchpoint.objects.all()
    assert 6 * SIZE <= touchpoints.count() <= 16 * SIZE
    oldest = touchpoints.order_by("occurred_at").first()
    assert oldest is not None
    assert (timezone.now() - oldest.occurred_at).days <= 183
    kinds = set(touchpoints.values_list("kind", flat=True))
    assert kinds >= {
        "page_view",
        "search",
        "email_open",
        "email_click",
        "form_submit",
        "survey_response",
    }
    answer = touchpoints.filter(kind="survey_response").first()
    assert answer is not None and 0 <= answer.properties["nps"] <= 10
    assert not Contact.objects.filter(touchpoints__isnull=False, last_activity_at__isnull=True)


def test_personas_segments_and_lifecycle_are_derived() -> None:
    contacts_demo_seed(contacts=SIZE)

    assert list(Persona.objects.values_list("name", flat=True)) == [p["name"] for p in PERSONAS]
    laura = Persona.objects.get(name="Laura, madre trabajadora")
    assert laura.background and laura.goals and laura.frustrations and laura.expectations
    for persona in Persona.objects.all():
        assert persona.contacts.exists(), persona.name
    stages = set(Contact.objects.values_list("lifecycle", flat=True))
    assert stages == set(Contact.Lifecycle.values)
    assert Segment.objects.filter(kind=Segment.Kind.STATIC).count() == 1
    for segment in Segment.objects.all():
        assert segment_count(segment=segment) > 0, segment.name


def test_seeding_twice_changes_nothing() -> None:
    contacts_demo_seed(contacts=SIZE)
    before = _fingerprint()

    assert contacts_demo_seed(contacts=SIZE) == 0

    assert _fingerprint() == before
    assert Persona.objects.count() == len(PERSONAS)


def _seeded_fingerprint(seed: int) -> list[tuple[str, str, str, int | None, str, int]]:
    """Seed, read, and roll back (contacts cannot be deleted: the consent ledger protects them)."""
    with transaction.atomic():
        contacts_demo_seed(contacts=SIZE, seed=seed)
        fingerprint = _fingerprint()
        transaction.set_rollback(True)
    return fingerprint


def test_the_same_seed_gives_the_same_citizens() -> None:
    first = _seeded_fingerprint(7)

    assert _seeded_fingerprint(7) == first


def test_another_seed_gives_other_citizens() -> None:
    assert _seeded_fingerprint(1) != _seeded_fingerprint(2)
