"""Staff write e-mails and start campaigns in the admin."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.models import Campaign, Email
from tests.campaigns.test_sending import campaign_for, subscriber

pytestmark = pytest.mark.django_db

AB_DEFAULTS = {"ab_percent": 20, "ab_wait_hours": 4, "ab_metric": "clicks"}


def test_a_new_campaign_leads_to_its_page_to_check_preview_and_send(
    client: Client, marketer: Any
) -> None:
    campaign = campaign_for(subscriber())
    client.force_login(marketer)

    listing = client.get(reverse("admin:campaigns_campaign_changelist")).content.decode()
    response = client.post(
        reverse("admin:campaigns_campaign_add"),
        {"name": "Otoño", "email": campaign.email.pk, "purpose": "newsletter", **AB_DEFAULTS},
    )

    page = reverse("campaigns_staff:campaign", kwargs={"pk": campaign.pk})
    assert f'href="{page}"' in listing and "Revisar y enviar" in listing
    created = Campaign.objects.get(name="Otoño")
    assert response["Location"] == reverse("campaigns_staff:campaign", kwargs={"pk": created.pk})
    assert created.status == Campaign.Status.DRAFT


def test_the_admin_can_not_start_or_schedule_a_send_past_the_checklist(
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
        "status": "sending",
        **AB_DEFAULTS,
    }

    assert client.post(url, data).status_code == 302

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT and campaign.scheduled_at is None
    assert not campaign.deliveries.exists()


def test_a_started_campaign_can_no_longer_be_changed(client: Client, marketer: Any) -> None:
    campaign = campaign_for(subscriber())
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENDING)
    client.force_login(marketer)
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])

    client.post(url, {"name": "Otro nombre", "email": campaign.email.pk, "purpose": "newsletter"})

    campaign.refresh_from_db()
    assert campaign.name == "Fiestas"


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
