from __future__ import annotations

import datetime as dt

import pytest
from django.core import signing
from django.utils import timezone

from content.services import PreviewLinkInvalid, content_preview_read, content_preview_token
from tests.content.factories import ArticleFactory, VideoFactory

pytestmark = pytest.mark.django_db


def test_a_preview_token_reads_back_the_unpublished_item() -> None:
    article = ArticleFactory()
    assert content_preview_read(content_preview_token(article)) == article


def test_tokens_name_the_content_type() -> None:
    video = VideoFactory()
    assert content_preview_read(content_preview_token(video)) == video


def test_a_tampered_token_is_refused() -> None:
    token = content_preview_token(ArticleFactory())
    tampered = token[:-2] + ("aa" if not token.endswith("aa") else "bb")
    with pytest.raises(PreviewLinkInvalid):
        content_preview_read(tampered)


def test_a_token_signed_for_another_purpose_is_refused() -> None:
    article = ArticleFactory()
    token = signing.dumps({"m": "content.article", "pk": article.pk}, salt="contacts.preferences")
    with pytest.raises(PreviewLinkInvalid):
        content_preview_read(token)


def test_a_token_for_a_non_content_model_is_refused() -> None:
    token = signing.dumps({"m": "auth.user", "pk": 1}, salt="content.preview")
    with pytest.raises(PreviewLinkInvalid):
        content_preview_read(token)


def test_an_expired_token_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    token = content_preview_token(ArticleFactory())
    later = timezone.now().timestamp() + dt.timedelta(days=7, seconds=1).total_seconds()
    monkeypatch.setattr(signing.time, "time", lambda: later)
    with pytest.raises(PreviewLinkInvalid) as error:
        content_preview_read(token)
    assert error.value.code == "expired"
