from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone

from content.models import Article, Status
from content.services import (
    article_publish,
    article_submit_for_review,
    article_unpublish,
    content_publish,
    content_publish_due,
    content_save,
)
from content.tasks import content_publish_due as content_publish_due_task
from inbound.lib.errors import DomainError
from inbound.lib.pagecache import GENERATION_KEY
from inbound.models import AuditEntry
from tests.content.factories import ArticleFactory, VideoFactory

pytestmark = pytest.mark.django_db


def _generation() -> int:
    return int(cache.get(GENERATION_KEY) or 0)


def test_editor_holds_the_publish_permission_for_every_type(editor: Any) -> None:
    for model in ("article", "page", "faq", "video"):
        assert editor.has_perm(f"content.publish_{model}")


def test_marketer_and_analyst_cannot_publish(marketer: Any, analyst: Any) -> None:
    assert not marketer.has_perm("content.publish_article")
    assert not analyst.has_perm("content.publish_article")


def test_editor_publishes_an_article(editor: Any, django_capture_on_commit_callbacks: Any) -> None:
    article = ArticleFactory()
    with django_capture_on_commit_callbacks(execute=True):
        article_publish(obj=article, actor=editor)
    article.refresh_from_db()
    assert article.status == Status.PUBLISHED
    assert article.published_at is not None
    assert Article.objects.live().filter(pk=article.pk).exists()
    assert AuditEntry.objects.filter(action="content_publish", object_id=str(article.pk)).exists()


def test_writer_without_publish_permission_cannot_publish(writer: Any) -> None:
    article = ArticleFactory()
    with pytest.raises(DomainError) as error:
        article_publish(obj=article, actor=writer)
    assert error.value.status == 403
    article.refresh_from_db()
    assert article.status == Status.DRAFT


def test_writer_can_submit_for_review(writer: Any) -> None:
    article = ArticleFactory()
    article_submit_for_review(obj=article, actor=writer)
    article.refresh_from_db()
    assert article.status == Status.IN_REVIEW


def test_publishing_bumps_the_page_cache_generation(
    editor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    before = _generation()
    with django_capture_on_commit_callbacks(execute=True):
        content_publish(obj=ArticleFactory(), actor=editor)
    assert _generation() > before


def test_unpublishing_bumps_the_generation_and_hides_the_article(
    editor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    article = ArticleFactory()
    with django_capture_on_commit_callbacks(execute=True):
        content_publish(obj=article, actor=editor)
    before = _generation()
    with django_capture_on_commit_callbacks(execute=True):
        article_unpublish(obj=article, actor=editor)
    assert _generation() > before
    assert not Article.objects.live().exists()
    article.refresh_from_db()
    assert article.status == Status.DRAFT


def test_updating_published_content_bumps_the_generation(
    editor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    article = ArticleFactory()
    with django_capture_on_commit_callbacks(execute=True):
        content_publish(obj=article, actor=editor)
    before = _generation()
    article.title_es = "Horario ampliado"
    with django_capture_on_commit_callbacks(execute=True):
        content_save(obj=article, actor=editor)
    assert _generation() > before
    assert AuditEntry.objects.filter(action="content_update").exists()


def test_editing_a_draft_leaves_the_cache_alone(
    editor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    article = ArticleFactory()
    before = _generation()
    with django_capture_on_commit_callbacks(execute=True):
        content_save(obj=article, actor=editor)
    assert _generation() == before


def test_a_future_publish_time_schedules_instead_of_publishing(editor: Any) -> None:
    article = ArticleFactory()
    when = timezone.now() + dt.timedelta(hours=2)
    content_publish(obj=article, actor=editor, at=when)
    article.refresh_from_db()
    assert article.is_scheduled
    assert not Article.objects.live().exists()
    assert AuditEntry.objects.filter(action="content_schedule").exists()


def test_scheduled_content_goes_live_when_due(editor: Any) -> None:
    article = ArticleFactory()
    when = timezone.now() + dt.timedelta(hours=2)
    content_publish(obj=article, actor=editor, at=when)

    assert content_publish_due(when - dt.timedelta(minutes=1)) == 0
    before = _generation()
    assert content_publish_due(when + dt.timedelta(seconds=1)) == 1

    article.refresh_from_db()
    assert article.published_at == when
    assert Article.objects.live(now=when + dt.timedelta(seconds=1)).filter(pk=article.pk).exists()
    assert _generation() > before
    assert content_publish_due(when + dt.timedelta(minutes=5)) == 0  # only once


def test_drafts_with_a_publish_time_are_not_published_by_the_schedule() -> None:
    ArticleFactory(publish_at=timezone.now() - dt.timedelta(hours=1))
    assert content_publish_due(timezone.now()) == 0
    assert not Article.objects.live().exists()


def test_the_celery_task_publishes_due_content(editor: Any) -> None:
    article = ArticleFactory()
    content_publish(obj=article, actor=editor, at=timezone.now() + dt.timedelta(seconds=1))
    Article.objects.filter(pk=article.pk).update(publish_at=timezone.now() - dt.timedelta(1))
    assert content_publish_due_task.apply().get() == 1


def test_a_video_without_transcript_cannot_be_published(editor: Any) -> None:
    video = VideoFactory(transcript_es="")
    with pytest.raises(DomainError) as error:
        content_publish(obj=video, actor=editor)
    assert "transcripción" in str(error.value.message)
    video.refresh_from_db()
    assert video.status == Status.DRAFT


def test_a_past_publish_time_is_not_backdated(editor: Any) -> None:
    article = ArticleFactory(publish_at=timezone.now() - dt.timedelta(days=30))
    content_publish(obj=article, actor=editor)
    article.refresh_from_db()
    assert article.published_at is not None
    assert article.published_at > timezone.now() - dt.timedelta(minutes=1)


def test_changing_published_text_needs_the_publish_permission(editor: Any, writer: Any) -> None:
    article = ArticleFactory()
    content_publish(obj=article, actor=editor)
    article.title_es = "Cambio sin permiso"
    with pytest.raises(DomainError):
        content_save(obj=article, actor=writer)
    article.refresh_from_db()
    assert article.title_es != "Cambio sin permiso"
