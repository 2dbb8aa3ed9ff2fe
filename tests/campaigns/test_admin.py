"""Staff write e-mails and start campaigns in the admin."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.models import Campaign, Email
from tests.campaigns.test_sending import campaign_for, subscriber

pytestmark = pytest.mark.django_db


def test_a_marketer_starts_a_campaign_and_sees_how_many_it_goes_to(
    client: Client, marketer: Any
) -> None:
    campaign = campaign_for(subscriber(), subscriber())
    client.force_login(marketer)

    response = client.post(
        reverse("admin:campaigns_campaign_changelist"),
        {"action": "start_sending", "_selected_action": [campaign.pk]},
        follow=True,
    )

    assert "Fiestas: enviando a 2 destinatarios." in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENDING and campaign.deliveries.count() == 2


def test_starting_again_says_it_was_already_sent(client: Client, marketer: Any) -> None:
    campaign = campaign_for(subscriber())
    client.force_login(marketer)
    changelist = reverse("admin:campaigns_campaign_changelist")
    data = {"action": "start_sending", "_selected_action": [campaign.pk]}
    client.post(changelist, data)

    response = client.post(changelist, data, follow=True)

    assert "Esta campaña ya se ha enviado o se está enviando." in response.content.decode()
    assert campaign.deliveries.count() == 1


def test_an_analyst_can_not_start_a_campaign(client: Client, analyst: Any) -> None:
    campaign = campaign_for(subscriber())
    client.force_login(analyst)

    page = client.get(reverse("admin:campaigns_campaign_changelist"))
    client.post(
        reverse("admin:campaigns_campaign_changelist"),
        {"action": "start_sending", "_selected_action": [campaign.pk]},
    )

    assert page.status_code == 200 and "start_sending" not in page.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT and not campaign.deliveries.exists()


def test_an_email_with_a_tag_outside_the_sandbox_is_not_saved(
    client: Client, marketer: Any
) -> None:
    client.force_login(marketer)

    response = client.post(
        reverse("admin:campaigns_email_add"),
        {
            "name": "Boletín",
            "subject_es": "Hola",
            "body_es": "<p>{{ contact.__class__.__mro__ }}</p>",
        },
    )

    assert response.status_code == 200
    assert "Línea 1, columna 4" in response.content.decode()
    assert not Email.objects.exists()


def test_a_time_to_send_at_schedules_the_campaign_and_clearing_it_takes_it_back(
    client: Client, marketer: Any
) -> None:
    campaign = campaign_for(subscriber())
    client.force_login(marketer)
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    data = {
        "name": "Fiestas",
        "email": campaign.email.pk,
        "purpose": "newsletter",
        "segments": [s.pk for s in campaign.segments.all()],
        "scheduled_at_0": "2030-02-03",
        "scheduled_at_1": "09:30:00",
    }

    assert client.post(url, data).status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SCHEDULED
    assert campaign.scheduled_at is not None and campaign.scheduled_at.year == 2030

    client.post(url, {**data, "scheduled_at_0": "", "scheduled_at_1": ""})
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT and campaign.scheduled_at is None
