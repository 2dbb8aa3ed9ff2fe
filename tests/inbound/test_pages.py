"""The public base pages as a citizen receives them (without a browser)."""

from __future__ import annotations

import pytest
from django.test import Client

from inbound.demo import demo_seed
from inbound.models import LegalPage

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db: None) -> None:
    demo_seed(with_passwords=False)


def test_root_redirects_to_spanish_by_default(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/es/"


def test_root_follows_the_browser_language_when_we_have_it(client: Client) -> None:
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.8")["Location"] == "/en/"
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="fr-FR")["Location"] == "/es/"


def test_home_shows_the_institution_and_what_citizens_can_do(client: Client) -> None:
    html = client.get("/es/").content.decode()
    assert '<html lang="es">' in html
    assert "Ayuntamiento de Villaclara del Río</h1>" in html
    assert "Qué puedes hacer aquí" in html
    assert "Suscríbete" in html or "Elige sobre qué quieres recibir información" in html
    assert 'href="/es/accesibilidad/"' in html
    assert 'href="/es/privacidad/"' in html
    assert 'href="/es/noticias/">Noticias</a>' in html  # main navigation
    assert 'href="/es/preguntas-frecuentes/">Preguntas frecuentes</a>' in html
    assert 'href="/en/" hreflang="en" lang="en">English</a>' in html


def test_english_home_links_back_to_the_spanish_page(client: Client) -> None:
    html = client.get("/en/").content.decode()
    assert '<html lang="en">' in html
    assert "What you can do here" in html
    assert 'href="/es/" hreflang="es" lang="es">Español</a>' in html


def test_language_switcher_points_to_the_same_page_in_the_other_language(
    client: Client, demo: None
) -> None:
    html = client.get("/es/accesibilidad/").content.decode()
    assert 'href="/en/accessibility/" hreflang="en"' in html


def test_accessibility_statement_has_the_fields_rd_1112_2018_asks_for(
    client: Client, demo: None
) -> None:
    response = client.get("/es/accesibilidad/")
    html = response.content.decode()
    assert response.status_code == 200
    for heading in (
        "Situación de cumplimiento",
        "Contenido no accesible",
        "Preparación de la presente declaración",
        "Observaciones y datos de contacto",
        "Procedimiento de reclamación",
    ):
        assert heading in html, heading
    assert "parcialmente conforme" in html
    assert "accesibilidad@villaclara.example" in html
    assert "Real Decreto 1112/2018" in html
    assert '<time datetime="2026-11-02">' in html


def test_privacy_policy_is_the_text_staff_edited(client: Client, demo: None) -> None:
    page = LegalPage.objects.get(kind="privacy", language="es")
    page.body = '<p>Nuevo texto.</p><script>alert(1)</script><p onclick="x()">Otro</p>'
    page.save()
    html = client.get("/es/privacidad/").content.decode()
    assert "<p>Nuevo texto.</p>" in html
    assert "<script>alert" not in html
    assert "onclick" not in html


def test_privacy_policy_falls_back_to_spanish_marked_as_such(client: Client, demo: None) -> None:
    LegalPage.objects.filter(kind="privacy", language="en").delete()
    html = client.get("/en/privacy/").content.decode()
    assert '<article lang="es">' in html
    assert "Política de privacidad" in html
    assert "it is shown in Spanish" in html


def test_privacy_policy_missing_everywhere_is_a_404_not_a_500(client: Client) -> None:
    assert client.get("/es/privacidad/").status_code == 404


def test_unknown_language_prefix_is_a_404_in_spanish(client: Client) -> None:
    response = client.get("/fr/", HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 404
    assert '<html lang="es">' in html
    assert "Página no encontrada" in html
    assert "La página que buscas no existe" in html


def test_unknown_page_is_a_404_in_the_page_language(client: Client) -> None:
    response = client.get("/en/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_pages_send_security_headers_and_a_request_id(client: Client) -> None:
    response = client.get("/es/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert len(response["X-Request-ID"]) == 32


def test_a_sane_request_id_from_the_proxy_is_kept_and_a_hostile_one_replaced(
    client: Client,
) -> None:
    kept = client.get("/healthz", HTTP_X_REQUEST_ID="lb-1234abcd")
    assert kept["X-Request-ID"] == "lb-1234abcd"
    replaced = client.get("/healthz", HTTP_X_REQUEST_ID='x" level="CRITICAL')
    assert replaced["X-Request-ID"] != 'x" level="CRITICAL'
    assert len(replaced["X-Request-ID"]) == 32


def test_public_pages_set_no_cookie(client: Client, demo: None) -> None:
    for url in ("/es/", "/en/", "/es/accesibilidad/", "/es/privacidad/", "/fr/"):
        assert not client.get(url).cookies, url


def test_server_error_page_is_in_spanish_and_renders_without_a_request() -> None:
    from django.template.loader import render_to_string
    from django.utils import translation

    with translation.override("es"):
        html = render_to_string("500.html")
    assert "Algo ha fallado" in html
    assert '<html lang="es">' in html


def test_public_page_is_served_from_the_cache_after_the_first_visit(
    client: Client, demo: None, django_assert_num_queries: object
) -> None:
    first = client.get("/es/privacidad/").content
    with django_assert_num_queries(0):  # type: ignore[operator]
        again = client.get("/es/privacidad/")
    assert again.content == first
    assert again["Content-Language"] == "es"
    assert again["X-Request-ID"]


def test_staff_edit_in_the_admin_shows_at_once_on_the_cached_page(
    client: Client, demo: None, editor: object
) -> None:
    assert "Nuevo apartado" not in client.get("/es/privacidad/").content.decode()  # now cached
    page = LegalPage.objects.get(kind="privacy", language="es")
    staff = Client()
    staff.force_login(editor)  # type: ignore[arg-type]
    response = staff.post(
        f"/es/admin/inbound/legalpage/{page.pk}/change/",
        {
            "kind": "privacy",
            "language": "es",
            "title": page.title,
            "body": page.body + "<h2>Nuevo apartado</h2>",
        },
    )
    assert response.status_code == 302
    assert "Nuevo apartado" in client.get("/es/privacidad/").content.decode()


def test_cached_page_is_per_language(client: Client, demo: None) -> None:
    assert "Política de privacidad" in client.get("/es/privacidad/").content.decode()
    assert "Privacy policy</h1>" in client.get("/en/privacy/").content.decode()


def test_query_strings_share_the_cached_page(
    client: Client, demo: None, django_assert_num_queries: object
) -> None:
    client.get("/es/privacidad/")
    with django_assert_num_queries(0):  # type: ignore[operator]
        response = client.get("/es/privacidad/?utm_source=boletin&x=123")
    assert "Política de privacidad" in response.content.decode()


@pytest.mark.parametrize(
    ("language", "subscriptions", "my_data"),
    [
        ("es", "/es/preferencias/", "/es/mis-datos/"),
        ("en", "/en/preferences/", "/en/my-data/"),
    ],
)
def test_every_page_links_to_the_subscription_and_data_request_pages_from_its_footer(
    client: Client, demo: None, language: str, subscriptions: str, my_data: str
) -> None:
    """Citizens manage their subscriptions and their data from the site, not only from an
    e-mail: each request page e-mails a link to the address typed there."""
    pages = [f"/{language}/", "/es/noticias/" if language == "es" else "/en/news/",
             "/es/privacidad/" if language == "es" else "/en/privacy/",
             f"/{language}/no-such-page/", subscriptions, my_data]  # fmt: skip
    for path in pages:
        html = client.get(path).content.decode()
        footer = html[html.index('<footer class="site-footer">') :]
        assert f'<a href="{subscriptions}">' in footer, path
        assert f'<a href="{my_data}">' in footer, path
    assert client.get(subscriptions).status_code == client.get(my_data).status_code == 200
