from __future__ import annotations

from typing import Any

import pytest

from content.revisions import revision_diff, revisions_for
from content.services import content_revision_restore, content_save
from tests.content.factories import ArticleFactory

pytestmark = pytest.mark.django_db


def test_each_save_writes_a_revision(editor: Any) -> None:
    article = content_save(obj=ArticleFactory.build(), actor=editor)
    article.body_es = "<p>Segunda versión</p>"
    content_save(obj=article, actor=editor)
    revisions = list(revisions_for(article))
    assert len(revisions) == 2
    assert revisions[0].snapshot["body_es"] == "<p>Segunda versión</p>"
    assert revisions[0].author == editor


def test_restore_brings_back_the_old_text(editor: Any) -> None:
    article = content_save(obj=ArticleFactory.build(title_es="Primera"), actor=editor)
    first = revisions_for(article).get()
    article.title_es = "Segunda"
    content_save(obj=article, actor=editor)

    content_revision_restore(obj=article, revision=first, actor=editor)

    article.refresh_from_db()
    assert article.title_es == "Primera"
    assert revisions_for(article).count() == 3


def test_compare_shows_the_change(editor: Any) -> None:
    article = content_save(obj=ArticleFactory.build(body_es="<p>Abre a las 9</p>"), actor=editor)
    article.body_es = "<p>Abre a las 8</p>"
    content_save(obj=article, actor=editor)
    newer, older = revisions_for(article)

    diffs = {d.field: d.lines for d in revision_diff(older, newer)}

    assert list(diffs) == ["body_es"]
    assert ("-", "<p>Abre a las 9</p>") in diffs["body_es"]
    assert ("+", "<p>Abre a las 8</p>") in diffs["body_es"]
