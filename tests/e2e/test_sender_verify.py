"""Confirming a sender address in a real browser: accessible, and the button works without
JavaScript."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from campaigns.models import Sender
from campaigns.sender_links import sender_token
from tests.e2e.accessibility import assert_accessible

pytestmark = pytest.mark.browser


def verify_path(sender: Sender) -> str:
    return reverse("campaigns:sender-verify", kwargs={"token": sender_token(sender=sender)})


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_confirming_a_sender_has_no_wcag_violations(page: Page, site: str) -> None:
    sender = Sender.objects.create(name="Cultura", email="cultura@villaclara.example")

    response = page.goto(verify_path(sender))

    assert response is not None and response.status == 200
    assert_accessible(page)
    page.get_by_role("button", name="Sí, confirmo esta dirección").click()
    expect(page.get_by_role("status")).to_contain_text("cultura@villaclara.example")
    assert_accessible(page)


def test_confirming_a_sender_works_without_javascript(page_without_js: Page, site: str) -> None:
    sender = Sender.objects.create(name="Cultura", email="cultura@villaclara.example")

    page_without_js.goto(verify_path(sender))
    page_without_js.get_by_role("button", name="Sí, confirmo esta dirección").click()

    expect(page_without_js.get_by_role("status")).to_contain_text("Ya se pueden enviar")
    sender.refresh_from_db()
    assert sender.is_verified
