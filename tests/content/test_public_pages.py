"""The public content pages as a citizen (and a search engine) sees them."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from content.models import Article, Status
from content.services import content_preview_token, content_publish
from inbound.lib.pagecache import public_page
from tests.contacts.factories import TopicFactory
from tests.content.factories import ArticleFactory, FAQFactory, PageFactory, VideoFactory

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


def live(**fields: Any) -> dict[str, Any]:
    return {
        "status": Status.PUBLISHED,
        "published_at": timezone.now() - dt.timedelta(hours=1),
        **fields,
    }


def url(name: str, language: str = "es", **kwargs: Any) -> str:
    with translation.override(language):
        return reverse(name, kwargs=kwargs or None)


def json_ld(html: str) -> list[dict[str, Any]]:
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    return [json.loads(block) for block in blocks]


def get(client: Client, path: str, status: int = 200, **extra: Any) -> Any:
    response = client.get(path, **extra)
    assert response.status_code == status, path
    return response


# --- Articles ----------------------------------------------------------------------------------


def test_citizen_reads_a_live_article_with_its_image_topics_and_date(client: Client) -> None:
    topic = TopicFactory(slug="movilidad", name="Movilidad")
    article = ArticleFactory(
        **live(byline="Ana Pérez"),
        hero_image=SimpleUploadedFile("bus.png", PNG, content_type="image/png"),
        hero_image_alt_es="Un autobús eléctrico en la plaza",
    )
    article.topics.add(topic)
    html = get(client, url("content:article-detail", slug=article.slug_es)).content.decode()
    assert article.title_es in html
    assert 'alt="Un autobús eléctrico en la plaza"' in html
    assert "Ana Pérez" in html
    assert "<time datetime=" in html
    assert url("content:topic-detail", slug="movilidad") in html
    assert "La biblioteca abrirá de 8:00 a 22:00" in html


def test_article_json_ld_is_an_article_and_a_breadcrumb_list(client: Client) -> None:
    article = ArticleFactory(**live())
    html = get(client, url("content:article-detail", slug=article.slug_es)).content.decode()
    types = [block["@type"] for block in json_ld(html)]
    assert types == ["Article", "BreadcrumbList"]
    assert json_ld(html)[0]["headline"] == article.title_es
    assert '<nav class="breadcrumbs"' in html


def test_hreflang_links_only_name_languages_the_article_is_written_in(client: Client) -> None:
    article = ArticleFactory(**live(title_en="Library hours", slug_en="library-hours"))
    spanish_only = ArticleFactory(**live())
    html = get(client, url("content:article-detail", slug=article.slug_es)).content.decode()
    assert 'hreflang="en"' in html and "/en/" in html and "library-hours" in html
    assert 'hreflang="x-default"' in html
    other = get(client, url("content:article-detail", slug=spanish_only.slug_es)).content.decode()
    assert '<link rel="alternate" hreflang="en"' not in other
    assert '<link rel="canonical"' in other
    assert 'property="og:title"' in other


def test_an_article_is_read_in_english_at_its_english_slug(client: Client) -> None:
    article = ArticleFactory(**live(title_en="Library hours", slug_en="library-hours"))
    html = get(client, url("content:article-detail", "en", slug="library-hours")).content.decode()
    assert "Library hours" in html
    get(client, url("content:article-detail", "en", slug=article.slug_es), 404)


def test_an_article_not_written_in_english_is_not_found_in_english(client: Client) -> None:
    article = ArticleFactory(**live())
    get(client, url("content:article-detail", "en", slug=article.slug_es), 404)


def test_drafts_and_scheduled_articles_are_not_found(client: Client) -> None:
    draft = ArticleFactory()
    scheduled = ArticleFactory(
        status=Status.PUBLISHED, publish_at=timezone.now() + dt.timedelta(days=1)
    )
    future = ArticleFactory(**live(published_at=timezone.now() + dt.timedelta(days=1)))
    for article in (draft, scheduled, future):
        get(client, url("content:article-detail", slug=article.slug_es), 404)
    html = get(client, url("content:article-list")).content.decode()
    assert draft.title_es not in html and scheduled.title_es not in html


def test_related_articles_share_a_topic_and_are_at_most_three(client: Client) -> None:
    topic = TopicFactory()
    article = ArticleFactory(**live())
    article.topics.add(topic)
    related = [ArticleFactory(**live()) for _ in range(4)]
    for other in related:
        other.topics.add(topic)
    unrelated = ArticleFactory(**live())
    response = get(client, url("content:article-detail", slug=article.slug_es))
    section = response.content.decode().split('id="related-title"')[1]
    assert section.count('class="card article-card"') == 3
    assert {other.title_es for other in related[1:]} <= set(
        re.findall(r">([^<]+)</a></h3>", section)
    )
    assert unrelated.title_es not in section


def test_article_list_is_paginated_by_twelve_with_the_current_page_marked(
    client: Client,
) -> None:
    for _ in range(13):
        ArticleFactory(**live())
    first = get(client, url("content:article-list")).content.decode()
    assert first.count('class="card article-card"') == 12
    assert 'aria-current="page">' in first and 'href="?page=2"' in first
    second = get(client, url("content:article-list") + "?page=2").content.decode()
    assert second.count('class="card article-card"') == 1
    get(client, url("content:article-list") + "?page=3", 404)
    get(client, url("content:article-list") + "?page=02", 404)
    get(client, url("content:article-list") + "?page=x", 404)


def test_article_detail_runs_a_bounded_number_of_queries(
    client: Client, django_assert_max_num_queries: Any
) -> None:
    topic = TopicFactory()
    article = ArticleFactory(**live())
    article.topics.add(topic)
    with django_assert_max_num_queries(6):
        get(client, url("content:article-detail", slug=article.slug_es))


def test_article_list_runs_a_bounded_number_of_queries(
    client: Client, django_assert_max_num_queries: Any
) -> None:
    for _ in range(12):
        ArticleFactory(**live()).topics.add(TopicFactory())
    with django_assert_max_num_queries(6):
        get(client, url("content:article-list"))


# --- Cache and conditional GET -----------------------------------------------------------------


def test_article_page_is_served_from_the_cache_after_the_first_view(
    client: Client, django_assert_max_num_queries: Any
) -> None:
    article = ArticleFactory(**live())
    path = url("content:article-detail", slug=article.slug_es)
    first = get(client, path).content
    # Only the conditional-GET lookup of `updated_at` remains.
    with django_assert_max_num_queries(1):
        again = get(client, path)
    assert again.content == first


def test_publishing_shows_the_new_article_on_the_cached_list(
    client: Client, editor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    ArticleFactory(**live())
    draft = ArticleFactory()
    assert draft.title_es not in get(client, url("content:article-list")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        content_publish(obj=draft, actor=editor)
    assert draft.title_es in get(client, url("content:article-list")).content.decode()


def test_list_pages_are_cached_separately() -> None:
    calls: list[str] = []

    @public_page(vary_on=("page",))
    def view(request: Any) -> Any:
        from django.http import HttpResponse

        calls.append(request.GET.get("page", "1"))
        return HttpResponse(request.GET.get("page", "1"))

    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory

    from inbound.lib.pagecache import PublicPageCacheMiddleware

    handler = PublicPageCacheMiddleware(view)
    factory = RequestFactory()
    for query in ("", "?page=2", "?page=2&utm_source=x", "", "?utm_source=y"):
        request = factory.get("/es/noticias/" + query)
        request.user = AnonymousUser()
        handler(request)
    assert calls == ["1", "2"]


def test_an_unchanged_article_answers_304_to_a_conditional_get(client: Client) -> None:
    article = ArticleFactory(**live())
    path = url("content:article-detail", slug=article.slug_es)
    first = get(client, path)
    assert first["ETag"] and first["Last-Modified"]
    get(client, path, 304, HTTP_IF_NONE_MATCH=first["ETag"])
    get(client, path, 304, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])


# --- Topics, pages, FAQs, videos ---------------------------------------------------------------


def test_topic_page_shows_its_description_live_articles_and_faqs(client: Client) -> None:
    topic = TopicFactory(slug="medio-ambiente", name="Medio ambiente")
    topic.description_es = "Todo sobre residuos y parques."
    topic.save()
    article = ArticleFactory(**live())
    article.topics.add(topic)
    draft = ArticleFactory()
    draft.topics.add(topic)
    FAQFactory(**live(question_es="¿Cuándo pasa el camión?"), topic=topic)
    html = get(client, url("content:topic-detail", slug="medio-ambiente")).content.decode()
    assert "Todo sobre residuos y parques." in html
    assert article.title_es in html and draft.title_es not in html
    assert "¿Cuándo pasa el camión?" in html
    get(client, url("content:topic-detail", slug="no-such-topic"), 404)


def test_a_nested_page_is_found_through_its_parents_slugs(client: Client) -> None:
    parent = PageFactory(**live(slug_es="servicios"))
    child = PageFactory(
        **live(slug_es="empadronamiento", title_es="Empadronamiento"), parent=parent
    )
    html = get(
        client, url("content:page-detail", path="servicios/empadronamiento")
    ).content.decode()
    assert "Empadronamiento" in html and parent.title_es in html
    get(client, url("content:page-detail", path="empadronamiento"), 404)
    get(client, url("content:page-detail", path="otra/empadronamiento"), 404)
    PageFactory(slug_es="borrador", parent=child)
    get(client, url("content:page-detail", path="servicios/empadronamiento/borrador"), 404)


def test_faq_page_groups_questions_in_accordions_with_faq_json_ld(client: Client) -> None:
    topic = TopicFactory(name="Padrón")
    FAQFactory(**live(), topic=topic)
    FAQFactory(question_es="Borrador", topic=topic)
    html = get(client, url("content:faq-list")).content.decode()
    assert "<details" in html and "<summary>¿Cómo me empadrono?</summary>" in html
    assert "Borrador" not in html
    faq_ld = json_ld(html)[0]
    assert faq_ld["@type"] == "FAQPage"
    assert faq_ld["mainEntity"][0]["name"] == "¿Cómo me empadrono?"


def test_video_page_embeds_the_privacy_enhanced_player_and_shows_the_transcript(
    client: Client,
) -> None:
    video = VideoFactory(**live())
    html = get(client, url("content:video-detail", slug=video.slug_es)).content.decode()
    assert '<iframe src="https://www.youtube-nocookie.com/embed/abc123" title=' in html
    assert "Hoy explicamos cómo separar los residuos" in html


def test_an_uploaded_video_plays_natively_with_captions(client: Client) -> None:
    video = VideoFactory(
        **live(),
        provider="file",
        embed_url="",
        video_file=SimpleUploadedFile("v.mp4", b"\x00" * 32, content_type="video/mp4"),
        captions=SimpleUploadedFile("v.vtt", b"WEBVTT\n", content_type="text/vtt"),
    )
    html = get(client, url("content:video-detail", slug=video.slug_es)).content.decode()
    assert "<video controls" in html and '<track kind="captions"' in html


def test_a_draft_video_is_not_found(client: Client) -> None:
    get(client, url("content:video-detail", slug=VideoFactory().slug_es), 404)


# --- Preview -----------------------------------------------------------------------------------


def test_a_preview_link_shows_the_unpublished_article_without_indexing_or_caching(
    client: Client,
) -> None:
    article = ArticleFactory()
    path = url("content:preview", token=content_preview_token(article))
    response = get(client, path)
    assert article.title_es in response.content.decode()
    assert "preview-banner" in response.content.decode()
    assert response["X-Robots-Tag"].startswith("noindex")
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    article.title_es = "Título cambiado"
    article.save()
    assert "Título cambiado" in get(client, path).content.decode()


def test_preview_links_for_videos_and_pages_render(client: Client) -> None:
    for obj in (VideoFactory(), PageFactory(), FAQFactory()):
        get(client, url("content:preview", token=content_preview_token(obj)))


def test_a_tampered_preview_link_is_not_found(client: Client) -> None:
    token = content_preview_token(ArticleFactory())
    get(client, url("content:preview", token=token[:-2] + "xx"), 404)


def test_an_expired_preview_link_is_not_found(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core import signing

    token = content_preview_token(ArticleFactory())
    later = timezone.now().timestamp() + dt.timedelta(days=8).total_seconds()
    monkeypatch.setattr(signing.time, "time", lambda: later)
    get(client, url("content:preview", token=token), 404)


# --- Home --------------------------------------------------------------------------------------


def test_home_shows_the_three_latest_articles_and_topics(client: Client) -> None:
    topic = TopicFactory(name="Cultura")
    articles = [ArticleFactory(**live()) for _ in range(4)]
    articles[0].topics.add(topic)
    html = get(client, "/es/").content.decode()
    assert html.count('class="card article-card"') == 3
    assert "Cultura" in html
    assert url("content:article-list") in html


def test_home_shows_featured_articles_first_then_the_latest_others(client: Client) -> None:
    ArticleFactory(**live(title_es="Fiestas patronales de septiembre", featured=True))
    others = [ArticleFactory(**live()) for _ in range(4)]
    html = get(client, "/es/").content.decode()
    featured_section = html.split('id="featured-news"')[1].split("</section>")[0]
    latest_section = html.split('id="latest-news"')[1].split("</section>")[0]
    assert "Fiestas patronales de septiembre" in featured_section
    assert "Fiestas patronales de septiembre" not in latest_section
    assert latest_section.count('class="card article-card"') == 3
    assert others[-1].title_es in latest_section


def test_home_has_no_featured_section_when_nothing_is_featured(client: Client) -> None:
    ArticleFactory(**live())
    html = get(client, "/es/").content.decode()
    assert 'id="featured-news"' not in html
    assert 'id="latest-news"' in html


def test_language_switcher_links_to_the_article_in_the_other_language(client: Client) -> None:
    article = ArticleFactory(**live(title_en="Library hours", slug_en="library-hours"))
    spanish_only = ArticleFactory(**live())
    html = get(client, url("content:article-detail", slug=article.slug_es)).content.decode()
    assert (
        f'href="{url("content:article-detail", "en", slug="library-hours")}" hreflang="en"' in html
    )
    other = get(client, url("content:article-detail", slug=spanish_only.slug_es)).content.decode()
    assert 'href="/en/" hreflang="en"' in other


def test_home_describes_the_institution_as_a_government_organization(client: Client) -> None:
    html = get(client, "/es/").content.decode()
    data = [
        json.loads(block.split(">", 1)[1].split("</script>")[0])
        for block in html.split('<script type="application/ld+json"')[1:]
    ]
    organization = next(item for item in data if item["@type"] == "GovernmentOrganization")
    assert organization["name"] == "Ayuntamiento de Villaclara del Río"
    assert organization["url"] == "http://testserver/"


def test_article_page_has_a_twitter_card(client: Client) -> None:
    article = ArticleFactory(**live(meta_title_es="Biblioteca: horario de exámenes"))
    html = get(client, url("content:article-detail", slug=article.slug_es)).content.decode()
    assert '<meta name="twitter:card" content="summary">' in html
    assert '<meta name="twitter:title" content="Biblioteca: horario de exámenes">' in html


def test_a_cached_article_is_served_without_a_query_with_the_same_headers(
    client: Client, django_assert_num_queries: Any
) -> None:
    article = ArticleFactory(**live())
    path = url("content:article-detail", slug=article.slug_es)
    first = get(client, path)
    with django_assert_num_queries(0):
        again = get(client, path)
        not_modified = get(client, path, 304, HTTP_IF_NONE_MATCH=first["ETag"])
        since = get(client, path, 304, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert again.content == first.content
    for header in ("ETag", "Last-Modified", "Content-Language", "Content-Type"):
        assert again[header] == first[header]
    assert again["Content-Security-Policy"] and again["X-Frame-Options"] == "DENY"
    assert not_modified["ETag"] == first["ETag"] and since["ETag"] == first["ETag"]


def test_logged_in_staff_never_get_the_cached_page(client: Client, editor: Any) -> None:
    article = ArticleFactory(**live())
    path = url("content:article-detail", slug=article.slug_es)
    get(client, path)
    Article.objects.filter(pk=article.pk).update(title_es="Cambio sin invalidar la caché")
    assert "Cambio sin invalidar" not in get(client, path).content.decode()
    client.force_login(editor)
    assert "Cambio sin invalidar" in get(client, path).content.decode()
