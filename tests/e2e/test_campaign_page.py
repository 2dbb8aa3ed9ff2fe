"""A campaign's staff page in a real browser: it passes axe, and while the send runs its
progress bar moves on its own (htmx polling), with no reload."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from campaigns.control import campaign_send_now
from campaigns.sending import campaigns_send_due
from tests.campaigns.test_gate import CLEAR, with_body
from tests.campaigns.test_sending import subscriber
from tests.e2e.accessibility import assert_accessible
from tests.e2e.test_staff_pages import sign_in
from tests.smtp import SmtpSink

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_the_progress_bar_follows_the_send_without_reloading(
    page: Page, site: str, marketer: Any, smtp_sink: SmtpSink
) -> None:
    campaign = with_body(CLEAR, subscriber(), subscriber(), subscriber(language="ca"))
    sign_in(page, marketer, "es")
    url = reverse("campaigns_staff:campaign", kwargs={"pk": campaign.pk})
    page.goto(url)
    expect(page.get_by_role("heading", name="Lista de comprobación antes de enviar")).to_be_visible()
    assert_accessible(page)

    campaign_send_now(campaign=campaign, by=marketer, confirmed=True)
    page.reload()
    bar = page.locator("#campaign-progress-bar")
    expect(bar).to_have_attribute("value", "0")
    page.evaluate("window.loadedOnce = true")  # gone if the page were reloaded

    campaigns_send_due()

    expect(bar).to_have_attribute("value", "3", timeout=10_000)
    expect(page.locator("#campaign-progress")).to_contain_text("3 de 3 procesados (100 %)")
    assert page.evaluate("window.loadedOnce") is True
    assert_accessible(page)
