"""A/B tests of e-mails: a random share tries each version, the winner goes to the rest."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.abtests import ab_results
from campaigns.control import campaign_send_now
from campaigns.models import Campaign, Delivery, Email
from campaigns.sending import campaigns_send_due
from inbound.models import AuditEntry
from tests.campaigns.test_gate import CLEAR, with_body
from tests.campaigns.test_sending import subscriber
from tests.smtp import SmtpSink

pytestmark = pytest.mark.django_db


def subjects(sink: SmtpSink) -> list[str]:
    return [
        str(email.message_from_bytes(raw, policy=email.policy.default)["Subject"])
        for raw in sink.messages
    ]


def ab_campaign(recipients: int, **fields: Any) -> Campaign:
    contacts = [subscriber(email=f"vecino{n}@correo.example") for n in range(recipients)]
    campaign = with_body(CLEAR, *contacts, subject_es="Fiestas de San Blas")
    version_b = Email.objects.create(name="B", subject_es="¡Ya llegan las fiestas!", body_es=CLEAR)
    campaign.variants.add(version_b)
    for name, value in fields.items():
        setattr(campaign, name, value)
    campaign.save()
    return campaign


def click(campaign: Campaign, version: Email, count: int) -> None:
    """Unique clicks of `count` recipients of that version (as the tracked redirect records)."""
    rows = Delivery.objects.filter(campaign=campaign, email=version, status="sent")[:count]
    Delivery.objects.filter(pk__in=[d.pk for d in rows]).update(clicked_at=timezone.now())


def test_only_the_test_share_is_sent_at_first_split_evenly_between_versions(
    marketer: Any, smtp_sink: SmtpSink
) -> None:
    campaign = ab_campaign(50, ab_percent=20)

    campaign_send_now(campaign=campaign, by=marketer)
    campaigns_send_due()

    sent = subjects(smtp_sink)
    assert len(sent) == 10
    assert sent.count("Fiestas de San Blas") == sent.count("¡Ya llegan las fiestas!") == 5
    waiting = campaign.deliveries.filter(status="pending", email__isnull=True)
    assert waiting.count() == 40


def test_after_the_wait_the_version_with_more_unique_clicks_goes_to_the_rest(
    marketer: Any, smtp_sink: SmtpSink
) -> None:
    campaign = ab_campaign(50, ab_percent=20, ab_wait_hours=4)
    campaign_send_now(campaign=campaign, by=marketer)
    campaigns_send_due()
    version_a = campaign.email
    version_b = campaign.variants.get()
    click(campaign, version_a, 1)
    click(campaign, version_b, 3)

    assert campaigns_send_due(now=timezone.now() + dt.timedelta(hours=3)).sent == 0
    campaigns_send_due(now=timezone.now() + dt.timedelta(hours=4, minutes=1))

    campaign.refresh_from_db()
    assert campaign.ab_winner == version_b and campaign.ab_decided_at is not None
    sent = subjects(smtp_sink)
    assert len(sent) == 50 and sent.count("¡Ya llegan las fiestas!") == 45
    assert campaign.status == Campaign.Status.SENT
    assert Delivery.objects.filter(campaign=campaign).values("contact").distinct().count() == 50
    results = ab_results(campaign)
    assert [(r.label, r.delivered, r.successes) for r in results] == [("A", 5, 1), ("B", 5, 3)]
    assert AuditEntry.objects.filter(action="campaigns.abtest_decided").count() == 1


def test_a_tie_or_no_clicks_keeps_version_a(marketer: Any, smtp_sink: SmtpSink) -> None:
    campaign = ab_campaign(20, ab_percent=20, ab_wait_hours=1)
    campaign_send_now(campaign=campaign, by=marketer)
    campaigns_send_due()

    campaigns_send_due(now=timezone.now() + dt.timedelta(hours=2))

    campaign.refresh_from_db()
    assert campaign.ab_winner == campaign.email
    assert subjects(smtp_sink).count("Fiestas de San Blas") == 2 + 16


def test_the_checklist_checks_every_version(marketer: Any) -> None:
    campaign = ab_campaign(3)
    version_b = campaign.variants.get()
    version_b.body_es = CLEAR + '<p><img src="https://villaclara.example/cartel.png"></p>'
    version_b.save()

    from campaigns.gate import campaign_gate

    errors = [check.message for check in campaign_gate(campaign=campaign).errors]

    assert errors and all(message.startswith("Versión B: ") for message in errors), errors


def test_opens_can_only_decide_when_the_campaign_tracks_them(client: Client, marketer: Any) -> None:
    campaign = ab_campaign(2)
    client.force_login(marketer)

    response = client.post(
        reverse("admin:campaigns_campaign_change", args=[campaign.pk]),
        {
            "name": campaign.name,
            "email": campaign.email.pk,
            "purpose": "newsletter",
            "variants": [campaign.variants.get().pk],
            "ab_percent": 20,
            "ab_wait_hours": 4,
            "ab_metric": "opens",
            "track_clicks": "on",
        },
    )

    assert response.status_code == 200
    assert (
        "Las aperturas solo se cuentan si la campaña mide aperturas." in response.content.decode()
    )


def test_the_campaign_page_shows_each_versions_results(
    client: Client, marketer: Any, smtp_sink: SmtpSink
) -> None:
    campaign = ab_campaign(20)
    campaign_send_now(campaign=campaign, by=marketer)
    campaigns_send_due()
    click(campaign, campaign.variants.get(), 2)
    client.force_login(marketer)

    html = client.get(reverse("campaigns_staff:campaign", kwargs={"pk": campaign.pk})).content
    page = html.decode()

    assert "Prueba A/B" in page and "Resultados por versión" in page
    assert "¡Ya llegan las fiestas!" in page and "100,0 %" in page
    assert "Se elegirá la versión ganadora el" in page
