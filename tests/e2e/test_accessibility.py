"""The axe check itself: it must run under the site's CSP and fail loudly on a real barrier."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.e2e.accessibility import assert_accessible

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_accessibility_check_reports_an_image_without_alt_text(page: Page) -> None:
    response = page.goto("/es/")
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.locator(".brand img").evaluate("img => img.removeAttribute('alt')")

    with pytest.raises(pytest.fail.Exception) as failure:
        assert_accessible(page)

    report = str(failure.value)
    assert "[critical] image-alt: Images must have alternative text" in report
    assert "https://dequeuniversity.com/rules/axe/" in report
    assert '<img src="/static/img/logo.svg"' in report
