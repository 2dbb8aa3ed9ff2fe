"""Calls to action: the template tag, `[[cta:…]]` blocks in articles, clicks, impressions, CTR."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.template import Context, Template
from django.test import Client
from django.utils import translation

from contacts.models import Touchpoint
from contacts.services import touchpoint_record
from content.blocks import blocks_render
from conversion.models import CallToAction
from conversion.stats import ClickRate, click_rates
from inbound.celery import app as celery_app
from tests.content.factories import ArticleFactory
from tests.conversion.landing_factories import (
    CallToActionFactory,
    LandingPageFactory,
    live,
    private_in_tmp,  # noqa: F401 -- a fixture
    simple_form,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_in_tmp")]


@pytest.fixture
def tracked(monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any) -> Any:
    """Run the tracking task a request queues on commit, in-process."""
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    return lambda: django_capture_on_commit_callbacks(execute=True)


def cta_to_page(**values: Any) -> CallToAction:
    page = LandingPageFactory(form=simple_form(), **live())
    return CallToActionFactory(landing_page=page, **values)


def touchpoints(kind: str, cta: CallToAction) -> list[Touchpoint]:
    return list(
        Touchpoint.objects.filter(
            kind=kind,
            subject_type=ContentType.objects.get_for_model(CallToAction),
            subject_id=str(cta.pk),
        )
    )


def render(template: str) -> str:
    with translation.override("en"):
        return Template("{% load conversion %}" + template).render(Context({}))


# --- Showing a CTA -------------------------------------------------------------------------------


def test_the_template_tag_shows_a_button_through_the_click_counter() -> None:
    cta = cta_to_page()

    html = render(f'{{% call_to_action "{cta.name}" %}}')

    assert f'<a class="button" href="/en/cta/{cta.pk}/">Download the guide</a>' in html
    assert f'src="/en/cta/{cta.pk}/seen.gif" alt="" width="1" height="1"' in html


def test_the_template_tag_finds_a_cta_by_id() -> None:
    cta = cta_to_page(style=CallToAction.Style.BANNER)

    html = render(f"{{% call_to_action {cta.pk} %}}")

    assert 'class="cta cta-banner"' in html
    assert "<p>A free guide.</p>" in html


@pytest.mark.parametrize("key", ["no-such-cta", "99999", "999999999999999999999", "²"])
def test_an_unknown_cta_shows_nothing(key: str) -> None:
    cta_to_page()

    assert render(f'{{% call_to_action "{key}" %}}') == ""


def test_an_inactive_cta_shows_nothing() -> None:
    cta = cta_to_page(active=False)

    assert render(f'{{% call_to_action "{cta.name}" %}}') == ""


def test_a_cta_to_a_page_not_written_in_english_shows_nothing_in_english() -> None:
    page = LandingPageFactory(form=simple_form(), title_en="", slug_en="", **live())
    cta = CallToActionFactory(landing_page=page)

    assert render(f'{{% call_to_action "{cta.name}" %}}') == ""


def test_cta_text_is_escaped() -> None:
    cta = cta_to_page(text_en='<script>alert("x")</script>')

    html = render(f'{{% call_to_action "{cta.name}" %}}')

    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_a_cta_needs_a_landing_page_or_an_internal_path() -> None:
    with pytest.raises(ValidationError):
        CallToActionFactory.build(name="sin-destino").full_clean()
    with pytest.raises(ValidationError):
        CallToActionFactory.build(name="fuera", target_path="https://evil.example/").full_clean()


# --- In articles ---------------------------------------------------------------------------------


def test_a_cta_paragraph_in_an_article_shows_the_cta(client: Client) -> None:
    cta = cta_to_page()
    article = ArticleFactory(
        **live(
            title_en="Rental aid",
            slug_en="rental-aid",
            body_en=f"<p>Apply now.</p><p>[[cta:{cta.name}]]</p>",
        )
    )

    html = client.get(f"/en/news/{article.slug_en}/").content.decode()

    assert f'href="/en/cta/{cta.pk}/"' in html
    assert "[[cta:" not in html


def test_an_unknown_cta_paragraph_is_removed_without_an_error(client: Client) -> None:
    article = ArticleFactory(
        **live(
            title_en="Rental aid",
            slug_en="rental-aid",
            body_en="<p>Apply now.</p><p>[[cta:gone]]</p><p>[[nothing:x]]</p>",
        )
    )

    response = client.get(f"/en/news/{article.slug_en}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Apply now." in html
    assert "[[" not in html


def test_a_marker_inside_other_text_is_left_as_text() -> None:
    html = blocks_render("<p>Write [[cta:x]] in a paragraph of its own.</p>")

    assert html == "<p>Write [[cta:x]] in a paragraph of its own.</p>"


# --- Clicks --------------------------------------------------------------------------------------


def test_a_click_is_recorded_and_redirects_to_the_landing_page(
    client: Client, tracked: Any
) -> None:
    cta = cta_to_page()

    with tracked():
        response = client.get(f"/en/cta/{cta.pk}/")

    assert response.status_code == 302
    assert response["Location"] == f"/en/take-part/{cta.landing_page.slug_en}/"
    [click] = touchpoints("cta_click", cta)
    assert click.stage == "convert"
    assert click.contact is None


def test_a_click_to_an_internal_path_redirects_there(client: Client) -> None:
    cta = CallToActionFactory(target_path="/en/news/")

    response = client.get(f"/en/cta/{cta.pk}/")

    assert response.status_code == 302
    assert response["Location"] == "/en/news/"


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example", "https://evil.example/"])
def test_a_click_never_leaves_the_site(client: Client, target: str) -> None:
    # Written past validation (e.g. by a data import): the redirect still refuses it.
    cta = CallToActionFactory(target_path=target)

    response = client.get(f"/en/cta/{cta.pk}/")

    assert response.status_code == 404
    assert touchpoints("cta_click", cta) == []


def test_a_click_on_an_inactive_or_unknown_cta_is_not_found(client: Client) -> None:
    cta = cta_to_page(active=False)

    assert client.get(f"/en/cta/{cta.pk}/").status_code == 404
    assert client.get("/en/cta/987654/").status_code == 404


# --- Impressions ---------------------------------------------------------------------------------


def test_the_beacon_is_a_gif_that_is_never_cached_and_records_an_impression(
    client: Client, tracked: Any
) -> None:
    cta = cta_to_page()

    with tracked():
        response = client.get(f"/en/cta/{cta.pk}/seen.gif", REMOTE_ADDR="203.0.113.5")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert response["Cache-Control"] == "no-store"
    assert response.content.startswith(b"GIF89a")
    assert not response.cookies
    [impression] = touchpoints("cta_impression", cta)
    assert impression.stage == "convert"
    assert impression.visitor_key != ""


def test_impressions_are_rate_limited_per_visitor(
    client: Client, tracked: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("conversion.views_landing.IMPRESSIONS_PER_MINUTE", 3)
    cta = cta_to_page()

    with tracked():
        statuses = [
            client.get(f"/en/cta/{cta.pk}/seen.gif", REMOTE_ADDR="203.0.113.5").status_code
            for _ in range(6)
        ]
        client.get(f"/en/cta/{cta.pk}/seen.gif", REMOTE_ADDR="198.51.100.1")

    assert statuses == [200] * 6
    assert len(touchpoints("cta_impression", cta)) == 4


def test_the_beacon_of_an_unknown_cta_records_nothing(client: Client, tracked: Any) -> None:
    with tracked():
        response = client.get("/en/cta/987654/seen.gif")

    assert response.status_code == 200
    assert not Touchpoint.objects.filter(kind="cta_impression").exists()


# --- Click-through rate --------------------------------------------------------------------------


def test_click_rates_count_impressions_and_clicks_per_cta() -> None:
    shown, unseen = cta_to_page(), cta_to_page()
    for _ in range(4):
        touchpoint_record(kind="cta_impression", subject=shown)
    touchpoint_record(kind="cta_click", subject=shown)

    rates = click_rates([shown, unseen])

    assert rates[shown.pk] == ClickRate(impressions=4, clicks=1, rate=0.25)
    assert rates[unseen.pk] == ClickRate(impressions=0, clicks=0, rate=None)


def test_the_cta_changelist_shows_the_click_through_rate(client: Client, admin_user: Any) -> None:
    ctas = [cta_to_page() for _ in range(3)]
    for _ in range(2):
        touchpoint_record(kind="cta_impression", subject=ctas[0])
    touchpoint_record(kind="cta_click", subject=ctas[0])
    client.force_login(admin_user)

    response = client.get("/en/admin/conversion/calltoaction/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "2 / 1 (50.0%)" in html
    assert html.count("0 / 0 (—)") == 2
