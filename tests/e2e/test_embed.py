"""A form embedded on another institution's site, in a real browser.

The other site is a tiny HTTP server on 127.0.0.1 while the live server answers on localhost:
another site for the browser, so it sends none of our cookies into the frame, exactly as on
the Internet; both stay on loopback, so Chromium's private-network rules do not get in the way.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from conversion.models import Form, Submission
from tests.conversion.test_public_forms import demo_like_form, form_url
from tests.e2e.accessibility import assert_accessible

pytestmark = pytest.mark.browser

SUCCESS_ES = "Gracias por suscribirte al boletín de movilidad."


class OtherSite:
    """Another institution's site: serves one page, set by the test, at every path."""

    def __init__(self) -> None:
        self.html = ""
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = site.html.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def frames(self, url: str) -> None:
        self.html = (
            '<!DOCTYPE html><html lang="es"><head><meta charset="utf-8"><title>Sede</title>'
            f'</head><body><h1>Sede electrónica</h1><iframe src="{url}" title="Formulario" '
            'width="800" height="1400"></iframe></body></html>'
        )

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sede() -> Iterator[OtherSite]:
    site = OtherSite()
    yield site
    site.stop()


@pytest.fixture
def stranger() -> Iterator[OtherSite]:
    site = OtherSite()
    yield site
    site.stop()


@pytest.fixture
def form(site: str, sede: OtherSite, settings: Any) -> Form:
    settings.CONVERSION_MIN_FILL_SECONDS = 0
    settings.SITE_URL = site  # the definition's submit_url
    return demo_like_form(embed_origins=sede.origin)


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_a_listed_site_frames_the_form_and_the_thanks_stay_inside(
    page: Page, site: str, sede: OtherSite, form: Form
) -> None:
    sede.frames(site + form_url(form, "embed", "es"))
    page.goto(sede.origin + "/tramites/")
    frame = page.frame_locator("iframe")

    frame.get_by_role("textbox", name="Email").fill("vecina.sede@correo.example")
    frame.get_by_label("First name").fill("Lucía")
    frame.get_by_label("Quiero recibir el boletín de movilidad.").check()
    frame.locator("button[type=submit]").click()

    expect(frame.get_by_role("status")).to_contain_text(SUCCESS_ES)
    assert page.url == sede.origin + "/tramites/"  # the citizen never left the other site
    assert Submission.objects.get().values["first_name"] == "Lucía"
    assert page.context.cookies() == []  # nothing was needed from, or left in, the browser


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_a_site_that_is_not_listed_cannot_frame_the_form(
    page: Page, site: str, stranger: OtherSite, form: Form
) -> None:
    stranger.frames(site + form_url(form, "embed", "es"))

    with page.expect_console_message(lambda message: "frame-ancestors" in message.text):
        page.goto(stranger.origin + "/")

    expect(page.frame_locator("iframe").locator("form")).to_have_count(0)


FETCH_FORM = """async ([definitionUrl]) => {
    try {
        const definition = await (await fetch(definitionUrl + "?lang=es")).json();
        const response = await fetch(definition.submit_url + "?lang=es", {
            method: "POST",
            headers: {"Content-Type": "application/json"},
            body: JSON.stringify({
                token: definition.token,
                values: {email: "vecina.api@correo.example", newsletter: true},
                utm: {utm_source: "sede"},
                website: "",
            }),
        });
        return [response.status, (await response.json()).message];
    } catch (error) {
        return ["blocked", String(error)];
    }
}"""


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_a_listed_site_sends_the_form_as_json_from_the_browser(
    page: Page, site: str, sede: OtherSite, form: Form
) -> None:
    sede.html = '<!DOCTYPE html><html lang="es"><title>Sede</title><h1>Sede</h1></html>'
    page.goto(sede.origin + "/")

    status, message = page.evaluate(FETCH_FORM, [f"{site}/api/v1/forms/{form.slug}/"])

    assert (status, message) == (201, SUCCESS_ES)
    assert Submission.objects.get().utm == {"utm_source": "sede"}


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_a_site_that_is_not_listed_cannot_call_the_json_api(
    page: Page, site: str, stranger: OtherSite, form: Form
) -> None:
    stranger.html = '<!DOCTYPE html><html lang="es"><title>Otra</title><h1>Otra</h1></html>'
    page.goto(stranger.origin + "/")

    status, _message = page.evaluate(FETCH_FORM, [f"{site}/api/v1/forms/{form.slug}/"])

    assert status == "blocked"
    assert Submission.objects.count() == 0


def _embed_form(page: Page, form: Form) -> None:
    page.goto(form_url(form, "embed", "es"))


def _embed_errors(page: Page, form: Form) -> None:
    page.goto(form_url(form, "embed", "es"))
    page.locator("#id_postal_code").fill("99999")
    page.locator("button[type=submit]").click()
    expect(page.get_by_role("alert")).to_be_visible()


def _embed_thanks(page: Page, form: Form) -> None:
    page.goto(form_url(form, "embed", "es"))
    page.get_by_role("textbox", name="Email").fill("vecina.axe@correo.example")
    page.locator("button[type=submit]").click()
    expect(page.get_by_role("status")).to_be_visible()


STATES = {"form": _embed_form, "errors": _embed_errors, "thanks": _embed_thanks}


@pytest.mark.parametrize("state", list(STATES))
def test_the_embedded_form_has_no_wcag_violations(page: Page, form: Form, state: str) -> None:
    STATES[state](page, form)

    expect(page.locator("html")).to_have_attribute("lang", "es")
    assert_accessible(page)
