"""A campaign's staff page in a real browser: it passes axe, and while the send runs its
progress bar moves on its own (htmx polling), with no reload; its report passes axe too."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from campaigns.control import campaign_send_now
from campaigns.sending import campaign_start, campaigns_send_due
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
    expect(
        page.get_by_role("heading", name="Lista de comprobación antes de enviar")
    ).to_be_visible()
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


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_the_report_of_a_send_passes_axe_and_shows_its_chart_and_tables(
    page: Page, site: str, analyst: Any, smtp_sink: SmtpSink
) -> None:
    campaign = with_body(CLEAR, *(subscriber(district="Centro") for _ in range(6)))
    campaign_start(campaign=campaign)
    campaigns_send_due()
    sign_in(page, analyst, "es")

    page.goto(reverse("campaigns_staff:report", kwargs={"pk": campaign.pk}))

    chart = page.get_by_role("img", name=re.compile(r"^Qué pasó con los 6 mensajes"))
    expect(chart).to_be_visible()
    summary = page.get_by_role("table", name="Resumen del envío")
    expect(summary.get_by_role("row", name=re.compile(r"^Entregados 6"))).to_be_visible()
    expect(page.get_by_role("table", name="Por distrito")).to_contain_text("Centro")
    assert_accessible(page)
