from __future__ import annotations

import pytest

from content.models import Article
from tests.content.factories import ArticleFactory, FAQFactory

pytestmark = pytest.mark.django_db

XSS_CORPUS = [
    '<script>alert("x")</script><p>texto</p>',
    '<p>texto<img src=x onerror="alert(1)"></p>',
    '<p><a href="javascript:alert(1)">pulsa</a></p>',
    '<p><a href="JaVaScRiPt:alert(1)">pulsa</a></p>',
    '<svg onload="alert(1)"><p>texto</p></svg>',
    '<iframe src="https://evil.example"></iframe><p>texto</p>',
    '<p onclick="alert(1)" style="background:url(javascript:alert(1))">texto</p>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">pulsa</a>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph>"
    "</table></mtext></math>",
]

# What Word puts on the clipboard (abridged from a real paste).
WORD_PASTE = """
<html xmlns:o="urn:schemas-microsoft-com:office:office"><head><style>
p.MsoNormal {mso-style-unhide:no; margin:0cm;}</style></head><body lang=ES>
<!--[if gte mso 9]><xml><o:OfficeDocumentSettings></o:OfficeDocumentSettings></xml><![endif]-->
<p class=MsoNormal style='mso-margin-top-alt:auto;mso-bidi-font-family:Calibri'>
<b><span style='font-size:12.0pt;mso-fareast-font-family:"Times New Roman"'>Plazo de
inscripción</span></b><o:p></o:p></p>
<p class=MsoListParagraphCxSpFirst style='mso-list:l0 level1 lfo1'><span
style='mso-list:Ignore'>·<span style='font:7.0pt "Times New Roman"'>&nbsp;</span></span>
Del 1 al 15 de marzo<o:p></o:p></p>
</body></html>
"""


@pytest.mark.parametrize("payload", XSS_CORPUS)
def test_xss_payloads_are_removed_on_save(payload: str) -> None:
    article = ArticleFactory(body_es=payload)
    article.refresh_from_db()
    body = article.body_es.lower()
    for marker in (
        "<script",
        "onerror",
        "onload",
        "onclick",
        "javascript:",
        "<svg",
        "<iframe",
        "style=",
        "data:text",
        "<img",
        "<math",
    ):
        assert marker not in body, (marker, body)


def test_every_language_column_is_sanitised() -> None:
    article = ArticleFactory(body_en="<p>hi<script>alert(1)</script></p>", body_ca="<p>hola</p>")
    article.refresh_from_db()
    assert article.body_en == "<p>hi</p>"
    assert article.body_ca == "<p>hola</p>"


def test_sanitising_applies_to_faq_answers() -> None:
    faq = FAQFactory(answer_es='<p onmouseover="alert(1)">Sí</p>')
    faq.refresh_from_db()
    assert faq.answer_es == "<p>Sí</p>"


def test_word_paste_keeps_text_and_drops_office_markup() -> None:
    article = ArticleFactory(body_es=WORD_PASTE)
    article.refresh_from_db()
    body = article.body_es
    assert "Plazo de\ninscripción" in body or "Plazo de inscripción" in body
    assert "Del 1 al 15 de marzo" in body
    for residue in (
        "mso-",
        "Mso",
        "class=",
        "style=",
        "<span",
        "<o:p",
        "<b>",
        "<xml",
        "<!--",
        "<html",
        "<style",
    ):
        assert residue not in body, (residue, body)


def test_allowed_structure_survives() -> None:
    html = (
        "<h2>Requisitos</h2><h3>Documentos</h3><h4>Originales</h4><ul><li>DNI</li></ul>"
        "<ol><li>Cita</li></ol><blockquote><p>Cita</p></blockquote>"
        '<table><thead><tr><th scope="col">Día</th></tr></thead><tbody><tr><td>Lunes</td></tr>'
        '</tbody></table><p><a href="https://sede.example/tramite">Sede</a></p>'
    )
    article = ArticleFactory(body_es=html)
    article.refresh_from_db()
    for kept in (
        "<h2>",
        "<h3>",
        "<h4>",
        "<ul>",
        "<ol>",
        "<blockquote>",
        "<table>",
        '<th scope="col">',
        'href="https://sede.example/tramite"',
    ):
        assert kept in article.body_es
    assert 'rel="noopener noreferrer"' in article.body_es


def test_editor_empty_paragraph_is_stored_as_empty() -> None:
    article = ArticleFactory(body_es="<p></p>")
    assert Article.objects.get(pk=article.pk).body_es == ""
