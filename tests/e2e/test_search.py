"""Site search in a real browser: from the header of any page, with and without JavaScript, and
the results, the no-results advice, the errors and the staff report free of WCAG violations."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from playwright.sync_api import Page, expect

from content.models import Status
from content.search import search_record
from tests.contacts.factories import TopicFactory
from tests.content.factories import ArticleFactory, FAQFactory
from tests.e2e.accessibility import assert_accessible
from tests.e2e.test_staff_pages import sign_in

pytestmark = pytest.mark.browser

LANGUAGES = ["es", "en"]


def _live(**fields: Any) -> dict[str, Any]:
    return {
        "status": Status.PUBLISHED,
        "published_at": timezone.now() - dt.timedelta(hours=1),
        **fields,
    }


def _url(language: str, name: str, **kwargs: Any) -> str:
    with translation.override(language):
        return reverse(name, kwargs=kwargs or None)


@pytest.fixture
def pool(site: str) -> None:
    """Content about the municipal swimming pool, in Spanish and English, and enough of it
    for a second page of results."""
    topic = TopicFactory(slug="deportes", name_es="Deportes", name_en="Sport")
    ArticleFactory(
        **_live(
            title_es="La piscina municipal abre el 15 de junio",
            slug_es="piscina-abre",
            summary_es="Horarios y precios de la piscina de verano.",
            title_en="The municipal swimming pool opens on 15 June",
            slug_en="pool-opens",
            summary_en="Opening hours and prices of the summer pool.",
        )
    )
    for number in range(11):
        ArticleFactory(
            **_live(
                title_es=f"Cursos de natación en la piscina, grupo {number}",
                title_en=f"Swimming lessons at the pool, group {number}",
                slug_en=f"swimming-lessons-{number}",
            )
        )
    FAQFactory(
        **_live(
            question_es="¿Necesito gorro en la piscina?",
            question_en="Do I need a cap at the pool?",
            answer_en="<p>Yes.</p>",
        ),
        topic=topic,
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_search_pages_have_no_wcag_violations(page: Page, pool: None, language: str) -> None:
    search = _url(language, "content:search")
    word = "piscina" if language == "es" else "pool"
    states = {
        "empty form": search,
        "results": f"{search}?{urlencode({'q': word})}",
        "second page": f"{search}?{urlencode({'q': word, 'page': 2})}",
        "no results": f"{search}?{urlencode({'q': 'xyzzy'})}",
        "too long": f"{search}?{urlencode({'q': 'x' * 201})}",
    }
    for state, url in states.items():
        response = page.goto(url)
        assert response is not None and response.status in {200, 400}, state
        expect(page.locator("html")).to_have_attribute("lang", language)
        assert_accessible(page)


@pytest.mark.parametrize("language", LANGUAGES)
def test_citizen_searches_from_the_header_and_opens_a_result(
    page: Page, pool: None, language: str
) -> None:
    page.goto(_url(language, "home"))
    header = page.get_by_role("search")
    words = "piscina municipal" if language == "es" else "swimming pool opens"
    header.get_by_role("searchbox").fill(words)
    header.get_by_role("button").click()

    expect(page).to_have_url(re.compile(re.escape(_url(language, "content:search")) + r"\?q="))
    first = page.locator(".search-result").first
    expect(first.locator("mark").first).to_be_visible()
    first.get_by_role("link").click()

    slug = "piscina-abre" if language == "es" else "pool-opens"
    expect(page).to_have_url(
        re.compile(re.escape(_url(language, "content:article-detail", slug=slug)) + "$")
    )


def test_search_works_without_javascript(page_without_js: Page, pool: None) -> None:
    page = page_without_js
    page.goto(_url("en", "content:article-list"))
    page.get_by_role("search").get_by_role("searchbox").fill("cap")
    page.get_by_role("search").get_by_role("button").click()

    expect(page.get_by_role("link", name="Do I need a cap at the pool?")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("1 result for “cap”")
    page.get_by_role("main").get_by_role("searchbox").fill("lessons")
    page.get_by_role("main").get_by_role("button").click()

    expect(page.locator(".search-result")).to_have_count(10)
    page.get_by_role("navigation", name="Pagination").get_by_role("link", name="Page 2").click()
    expect(page.locator(".search-result")).to_have_count(1)


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_search_report_has_no_wcag_violations(
    page: Page, site: str, analyst: Any, language: str
) -> None:
    for query, results in [("wifi gratis", 0), ("wifi gratis", 0), ("piscina", 3)]:
        search_record(query=query, results=results, language="es")
    search_record(query="lucia@correo.example", results=0, language="es")
    sign_in(page, analyst, language)

    page.get_by_role("link", name=_link_name(language)).click()
    expect(page.locator(".search-gaps-table tbody tr")).to_have_count(2)
    assert_accessible(page)

    page.get_by_label(_text(language, "Period")).select_option("90")
    page.get_by_role("button", name=_text(language, "Show")).click()
    expect(page).to_have_url(re.compile(r"period=90"))
    assert_accessible(page)

    page.goto(_url(language, "admin:index"))
    assert_accessible(page)


def _text(language: str, message: str) -> str:
    with translation.override(language):
        return translation.gettext(message)


def _link_name(language: str) -> str:
    return _text(language, "Search gaps: what citizens search for and do not find")
