"""The contact page in the admin: timeline, audit of every look, read-only for analysts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from contacts.services import TouchpointIn, touchpoints_record_bulk
from inbound.models import AuditEntry
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_contact_page_shows_the_timeline_newest_first_paginated(
    client: Client, marketer: Any
) -> None:
    contact = ContactFactory()
    start = timezone.now() - dt.timedelta(days=60)
    touchpoints_record_bulk(
        rows=[
            TouchpointIn(
                kind="page_view",
                contact_id=contact.pk,
                occurred_at=start + dt.timedelta(days=i),
                properties={"n": i},
            )
            for i in range(30)
        ]
    )
    client.force_login(marketer)
    url = reverse("admin:contacts_contact_change", args=[contact.pk])
    html = client.get(url).content.decode()
    assert "n=29" in html and "n=5" in html and "n=4" not in html  # 25 per page, newest first
    assert html.index("n=29") < html.index("n=28")
    older = client.get(url + "?timeline=2").content.decode()
    assert "n=4" in older and "n=0" in older and "n=29" not in older


def test_every_staff_look_at_a_contact_is_audited(client: Client, analyst: Any) -> None:
    contact = ContactFactory()
    client.force_login(analyst)
    response = client.get(reverse("admin:contacts_contact_change", args=[contact.pk]))
    assert response.status_code == 200
    entry = AuditEntry.objects.get(action="contact_viewed")
    assert entry.actor == analyst
    assert entry.object_id == str(contact.pk)


def test_analyst_cannot_change_a_contact(client: Client, analyst: Any) -> None:
    contact = ContactFactory(first_name="Rosa")
    client.force_login(analyst)
    url = reverse("admin:contacts_contact_change", args=[contact.pk])
    response = client.post(url, {"email": contact.email, "first_name": "Otra"})
    assert response.status_code == 403
    contact.refresh_from_db()
    assert contact.first_name == "Rosa"
