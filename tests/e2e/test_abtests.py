"""A/B tests in a real browser: the results page, declaring the winner and the admin pass axe."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import Page, expect

from conversion.demo import conversion_demo_seed
from conversion.models import ABTest
from tests.e2e.accessibility import assert_accessible
from tests.e2e.test_staff_pages import sign_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
@pytest.mark.parametrize("language", ["es", "en"])
def test_the_ab_test_pages_have_no_wcag_violations(
    page: Page, site: str, marketer: Any, language: str
) -> None:
    conversion_demo_seed()
    test = ABTest.objects.get()  # the demo's, with two weeks of figures
    sign_in(page, marketer, language)
    with translation.override(language):
        urls = [
            reverse("conversion_staff:abtest", kwargs={"pk": test.pk}),
            reverse("conversion_staff:abtest-declare", kwargs={"pk": test.pk})
            + f"?winner={test.variants.get().pk}",
            reverse("conversion_staff:overview"),
            reverse("admin:conversion_abtest_changelist"),
            reverse("admin:conversion_abtest_change", args=[test.pk]),
            reverse("admin:conversion_abtest_add"),
            reverse("admin:conversion_landingpage_change", args=[test.landing_page_id]),
        ]
    for url in urls:
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        assert_accessible(page)


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_a_marketer_declares_the_demo_variant_the_winner(
    page: Page, site: str, marketer: Any
) -> None:
    conversion_demo_seed()
    test = ABTest.objects.get()
    variant = test.variants.get()
    sign_in(page, marketer, "en")
    with translation.override("en"):
        page.goto(reverse("conversion_staff:abtest", kwargs={"pk": test.pk}))
    expect(page.get_by_role("table", name="Results per version")).to_contain_text(
        "Current page (control)"
    )

    page.get_by_role("link", name=f"Declare “{variant.name}” the winner").click()
    expect(page.get_by_role("table", name="What changes on the page")).to_contain_text(
        "Your area, no traffic surprises"
    )
    page.get_by_role("button", name=f"Yes, declare “{variant.name}” the winner").click()

    expect(page.locator(".messagelist")).to_contain_text("won and the page now shows its texts")
    assert_accessible(page)
    page.goto("/en/take-part/mobility-newsletter/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your area, no traffic surprises")
    expect(page.get_by_role("button", name="Send me the newsletter")).to_be_visible()
