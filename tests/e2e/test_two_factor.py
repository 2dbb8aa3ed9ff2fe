"""Two-step sign-in in a real browser: a Marketer who must use it is sent to enrol, adds the key
to an "app" (the test computes the codes) with JavaScript off, and signs in again with password
and code. The enrolment, login and token pages pass axe in Spanish."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.accessibility import assert_accessible
from tests.factories import STAFF_PASSWORD
from tests.inbound.test_two_factor import totp

pytestmark = pytest.mark.browser


def password_sign_in(page: Page, user: Any, code: str = "") -> None:
    page.goto("/es/admin/login/?next=/es/admin/")
    page.get_by_label("Nombre de usuario").fill(user.username)
    page.get_by_label("Contraseña").fill(STAFF_PASSWORD)
    if code:
        page.get_by_label("Código de verificación").fill(code)
    page.get_by_role("button", name="Iniciar sesión").click()


def test_a_required_marketer_enrols_and_signs_in_with_a_code_without_javascript(
    page_without_js: Page, marketer: Any, settings: Any
) -> None:
    settings.STAFF_2FA_REQUIRED = True
    page = page_without_js
    password_sign_in(page, marketer)
    page.wait_for_url("**/staff/account/two-factor/**")
    expect(page.get_by_role("heading", name="Activar la verificación en dos pasos")).to_be_visible()
    expect(page.get_by_role("img", name="Código QR")).to_be_visible()
    secret = page.locator("code.two-factor-secret").inner_text()

    page.get_by_label("Código de tu aplicación").fill(totp(secret))
    page.get_by_role("button", name="Activar la verificación en dos pasos").click()

    page.wait_for_url("**/es/admin/")
    expect(page.get_by_text("La verificación en dos pasos está activada")).to_be_visible()

    page.context.clear_cookies()
    password_sign_in(page, marketer, code=totp(secret, time.time() + 30))
    page.wait_for_url("**/es/admin/")
    expect(page.get_by_role("heading", name="Relación con la ciudadanía")).to_be_visible()


@pytest.mark.parametrize("viewport", ["desktop", "mobile"], indirect=True)
def test_the_enrolment_login_and_token_pages_have_no_wcag_violations(
    page: Page, editor: Any
) -> None:
    page.goto("/es/admin/login/")
    assert_accessible(page)
    password_sign_in(page, editor)
    page.wait_for_url("**/es/admin/")

    page.goto("/es/staff/account/two-factor/")
    expect(page.get_by_role("img", name="Código QR")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Código de tu aplicación").fill("12")
    page.get_by_role("button", name="Activar la verificación en dos pasos").click()
    expect(page.get_by_role("alert")).to_contain_text("Introduce el código de 6 cifras")
    assert_accessible(page)

    page.goto("/es/staff/account/api-tokens/")
    page.get_by_role("button", name="Crear un token").click()
    expect(page.locator("code.api-token-new")).to_be_visible()
    assert_accessible(page)
