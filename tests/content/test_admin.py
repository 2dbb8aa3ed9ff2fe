from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from content.models import Article, Status
from content.revisions import revisions_for
from content.services import article_publish, content_save
from inbound.lib.pagecache import GENERATION_KEY
from tests.contacts.factories import TopicFactory
from tests.content.factories import ArticleFactory, FAQFactory, PageFactory, VideoFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:content_article_changelist"


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _form(**overrides: Any) -> dict[str, Any]:
    data = {
        "title_es": "Nueva biblioteca",
        "slug_es": "nueva-biblioteca",
        "summary_es": "",
        "body_es": "<p>Abre el lunes.</p>",
        "byline": "Comunicación",
        "hero_image_alt_es": "",
        "meta_title_es": "",
        "meta_description_es": "",
        "focus_keyword_es": "",
        "publish_at_0": "",
        "publish_at_1": "",
    }
    for language in ("ca", "eu", "gl", "en"):
        for name in (
            "title",
            "slug",
            "summary",
            "body",
            "hero_image_alt",
            "meta_title",
            "meta_description",
            "focus_keyword",
        ):
            data[f"{name}_{language}"] = ""
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("model", "factory"),
    [
        ("article", ArticleFactory),
        ("page", PageFactory),
        ("faq", FAQFactory),
        ("video", VideoFactory),
    ],
)
def test_editor_opens_the_add_change_and_list_pages(editor: Any, model: str, factory: Any) -> None:
    obj = factory()
    client = _client(editor)
    assert client.get(reverse(f"admin:content_{model}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:content_{model}_add")).status_code == 200
    assert client.get(reverse(f"admin:content_{model}_change", args=[obj.pk])).status_code == 200


def test_analyst_can_view_but_not_add(analyst: Any) -> None:
    client = _client(analyst)
    assert client.get(reverse(CHANGELIST)).status_code == 200
    assert client.get(reverse("admin:content_article_add")).status_code == 403


def test_saving_in_the_admin_sanitises_and_records_a_revision(editor: Any) -> None:
    topic = TopicFactory()
    response = _client(editor).post(
        reverse("admin:content_article_add"),
        _form(body_es='<p onclick="x()">Abre<script>alert(1)</script></p>', topics=[topic.pk]),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    article = Article.objects.get()
    assert article.body_es == "<p>Abre</p>"
    assert list(article.topics.all()) == [topic]
    assert article.status == Status.DRAFT
    assert revisions_for(article).get().author == editor


def test_status_cannot_be_set_through_the_form(writer: Any) -> None:
    _client(writer).post(reverse("admin:content_article_add"), _form(status="published"))
    assert Article.objects.get().status == Status.DRAFT


def test_a_duplicate_slug_shows_a_clear_error(editor: Any) -> None:
    ArticleFactory(slug_es="nueva-biblioteca")
    response = _client(editor).post(reverse("admin:content_article_add"), _form())
    assert response.status_code == 200
    assert (
        "Ya existe un artículo con este identificador en este idioma." in response.content.decode()
    )


def test_editor_publishes_with_the_action(editor: Any) -> None:
    article = ArticleFactory()
    response = _client(editor).post(
        reverse(CHANGELIST), {"action": "publish", "_selected_action": [article.pk]}
    )
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.is_live


def test_writer_is_offered_only_submit_for_review(writer: Any) -> None:
    ArticleFactory()
    response = _client(writer).get(reverse(CHANGELIST))
    actions = [value for value, _label in response.context["action_form"].fields["action"].choices]
    assert "submit_for_review" in actions
    assert "publish" not in actions
    assert "unpublish" not in actions


def test_writer_cannot_publish_by_posting_the_action(writer: Any) -> None:
    article = ArticleFactory()
    client = _client(writer)
    client.post(reverse(CHANGELIST), {"action": "publish", "_selected_action": [article.pk]})
    article.refresh_from_db()
    assert article.status == Status.DRAFT

    client.post(
        reverse(CHANGELIST), {"action": "submit_for_review", "_selected_action": [article.pk]}
    )
    article.refresh_from_db()
    assert article.status == Status.IN_REVIEW


def test_publishing_a_video_without_transcript_shows_why(editor: Any) -> None:
    video = VideoFactory(transcript_es="")
    response = _client(editor).post(
        reverse("admin:content_video_changelist"),
        {"action": "publish", "_selected_action": [video.pk]},
        follow=True,
    )
    assert "No se puede publicar un vídeo sin transcripción." in response.content.decode()
    video.refresh_from_db()
    assert video.status == Status.DRAFT


def _article_with_two_revisions(editor: Any) -> Article:
    article = content_save(obj=ArticleFactory.build(body_es="<p>Versión uno</p>"), actor=editor)
    article.body_es = "<p>Versión dos</p><script>alert(1)</script>"
    article.title_es = 'Título <img src=x onerror="alert(1)">'
    content_save(obj=article, actor=editor)
    return article


def test_the_change_page_lists_revisions_with_compare_and_restore(editor: Any) -> None:
    article = _article_with_two_revisions(editor)
    older = revisions_for(article).last()
    assert older is not None
    page = _client(editor).get(reverse("admin:content_article_change", args=[article.pk]))
    html = page.content.decode()
    assert "Historial de versiones" in html
    assert reverse("admin:content_article_revision_compare", args=[article.pk, older.pk]) in html
    assert reverse("admin:content_article_revision_restore", args=[article.pk, older.pk]) in html


def test_compare_page_shows_the_change_escaped(editor: Any) -> None:
    article = _article_with_two_revisions(editor)
    newer = revisions_for(article).first()
    assert newer is not None
    html = (
        _client(editor)
        .get(reverse("admin:content_article_revision_compare", args=[article.pk, newer.pk]))
        .content.decode()
    )
    assert "&lt;p&gt;Versión uno&lt;/p&gt;" in html
    assert "&lt;p&gt;Versión dos&lt;/p&gt;" in html
    assert "<ins>" in html and "<del>" in html
    assert "<img src=x onerror" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html


def test_restore_in_the_admin_brings_back_the_old_text(editor: Any) -> None:
    article = _article_with_two_revisions(editor)
    older = revisions_for(article).last()
    assert older is not None
    url = reverse("admin:content_article_revision_restore", args=[article.pk, older.pk])
    client = _client(editor)
    assert client.get(url).status_code == 200
    response = client.post(url)
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.body_es == "<p>Versión uno</p>"


def test_analyst_cannot_restore(editor: Any, analyst: Any) -> None:
    article = _article_with_two_revisions(editor)
    older = revisions_for(article).last()
    assert older is not None
    url = reverse("admin:content_article_revision_restore", args=[article.pk, older.pk])
    assert _client(analyst).post(url).status_code == 403
    article.refresh_from_db()
    assert "Versión dos" in article.body_es


def test_a_revision_of_another_article_is_not_found(editor: Any) -> None:
    first = _article_with_two_revisions(editor)
    other = content_save(obj=ArticleFactory.build(), actor=editor)
    revision = revisions_for(first).first()
    assert revision is not None
    url = reverse("admin:content_article_revision_compare", args=[other.pk, revision.pk])
    assert _client(editor).get(url).status_code == 404


def test_writer_cannot_change_a_published_article(editor: Any, writer: Any) -> None:
    article = ArticleFactory(title_es="Horario")
    article_publish(obj=article, actor=editor)
    url = reverse("admin:content_article_change", args=[article.pk])
    client = _client(writer)
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="title_es"' not in page.content.decode()  # read-only view
    assert client.post(url, _form(title_es="Cambiado", slug_es=article.slug_es)).status_code == 403
    article.refresh_from_db()
    assert article.title_es == "Horario"


def test_deleting_a_live_article_drops_the_page_cache_and_its_history(
    editor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    article = content_save(obj=ArticleFactory.build(), actor=editor)
    article_publish(obj=article, actor=editor)
    before = int(cache.get(GENERATION_KEY) or 0)
    with django_capture_on_commit_callbacks(execute=True):
        response = _client(editor).post(
            reverse("admin:content_article_delete", args=[article.pk]), {"post": "yes"}
        )
    assert response.status_code == 302
    assert not Article.objects.exists()
    assert not revisions_for(article).exists()
    assert int(cache.get(GENERATION_KEY) or 0) > before


def test_a_non_image_hero_upload_is_refused_with_a_message(editor: Any) -> None:
    upload = SimpleUploadedFile("foto.jpg", b"MZ\x90\x00 definitely not a picture")
    response = _client(editor).post(
        reverse("admin:content_article_add"),
        _form(hero_image=upload, hero_image_alt_es="Foto"),
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["hero_image"]
    assert not Article.objects.exists()


def test_an_image_without_alt_text_is_refused_in_the_admin(editor: Any) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, "PNG")
    upload = SimpleUploadedFile("foto.png", buffer.getvalue(), content_type="image/png")
    response = _client(editor).post(reverse("admin:content_article_add"), _form(hero_image=upload))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["hero_image_alt_es"]
    assert not Article.objects.exists()
