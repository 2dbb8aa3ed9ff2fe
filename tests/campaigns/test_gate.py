"""The pre-send checklist: errors block, warnings ask, each check on the e-mail as it is sent."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from campaigns.gate import campaign_gate
from campaigns.models import Campaign
from content.models import Article
from tests.campaigns.test_sending import campaign_for, subscriber

pytestmark = pytest.mark.django_db

CLEAR = "<p>Hola, vecina. El sábado hay fiesta en la plaza. Ven con tu familia.</p>"


def levels(campaign: Campaign) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for check in campaign_gate(campaign=campaign).checks:
        found.setdefault(check.code, set()).add(check.level)
    return found


def messages(campaign: Campaign, level: str) -> list[str]:
    return [c.message for c in campaign_gate(campaign=campaign).checks if c.level == level]


def with_body(body: str, *contacts: Any, **email: str) -> Campaign:
    campaign = campaign_for(*(contacts or (subscriber(),)))
    for name, value in {"body_es": body, **email}.items():
        setattr(campaign.email, name, value)
    campaign.email.save()
    return campaign


def test_a_clean_email_passes_with_every_check_ok() -> None:
    campaign = with_body(CLEAR)

    gate = campaign_gate(campaign=campaign)

    assert gate.passes and not gate.warnings, [c.message for c in gate.checks if not c.passed]
    assert {c.code for c in gate.checks} >= {
        "audience",
        "merge_tags",
        "languages",
        "subject",
        "unsubscribe",
        "lang",
        "alt",
        "size",
        "links",
        "readability",
    }


def test_an_empty_audience_is_an_error() -> None:
    campaign = with_body(CLEAR)
    campaign.segments.first().members.clear()  # type: ignore[union-attr]

    gate = campaign_gate(campaign=campaign)

    assert not gate.passes
    assert "Nadie de esta audiencia puede recibir este correo" in gate.errors[0].message


def test_an_image_without_alt_text_blocks_and_an_empty_one_warns() -> None:
    missing = with_body(CLEAR + '<p><img src="https://villaclara.example/cartel.png"></p>')
    decorative = with_body(CLEAR + '<p><img src="https://villaclara.example/l.png" alt=""></p>')

    assert "error" in levels(missing)["alt"]
    assert levels(decorative)["alt"] == {"warning"}
    assert any("1 imagen no tiene texto alternativo" in m for m in messages(missing, "error"))


def test_a_broken_link_to_this_site_blocks_and_a_working_one_passes(article: Article) -> None:
    site = settings.SITE_URL
    path = reverse("content:article-detail", kwargs={"slug": article.slug_es})
    good = with_body(CLEAR + f'<p><a href="{site}{path}">Noticia</a></p>')
    broken = with_body(CLEAR + f'<p><a href="{site}/es/noticias/no-existe/">Noticia</a></p>')
    relative = with_body(CLEAR + '<p><a href="/es/no-hay-tal-pagina/">Otra</a></p>')
    outside = with_body(CLEAR + '<p><a href="https://www.boe.es/no-existe/">BOE</a></p>')

    assert levels(good)["links"] == {"ok"}
    assert levels(broken)["links"] == {"error"}
    assert "/es/noticias/no-existe/ (404)" in " ".join(messages(broken, "error"))
    assert levels(relative)["links"] == {"error"}
    assert levels(outside)["links"] == {"ok"}  # other sites are not ours to check


def test_recipients_without_their_language_are_a_warning_naming_how_many() -> None:
    catalan = subscriber(language="ca")
    english = subscriber(language="en")
    campaign = with_body(CLEAR, catalan, english, subscriber(), subject_en="News")

    warnings = messages(campaign, "warning")

    assert any("No hay versión en" in m and "(1)" in m for m in warnings), warnings
    assert levels(campaign)["languages"] == {"warning"}


def test_a_long_subject_warns_and_an_empty_one_blocks() -> None:
    long = with_body(CLEAR, subject_es="Fiestas " * 10)
    assert levels(long)["subject"] == {"warning"}

    campaign = with_body(CLEAR)
    Campaign.objects.filter(pk=campaign.pk)  # same e-mail, no subject
    campaign.email.subject_es = ""
    campaign.email.save()
    assert "error" in levels(campaign)["subject"]


def test_hard_spanish_warns_with_a_plain_language_hint() -> None:
    hard = (
        "<p>La administración municipal, en cumplimiento de la normativa vigente y de "
        "conformidad con las disposiciones reglamentarias correspondientes, comunica la "
        "convocatoria extraordinaria de subvenciones destinadas a la rehabilitación "
        "energética de edificaciones residenciales plurifamiliares.</p>"
    )
    campaign = with_body(hard)

    warning = next(c for c in campaign_gate(campaign=campaign).checks if c.code == "readability")

    assert warning.level == "warning"
    assert "Fernández-Huerta" in warning.message and "frases más cortas" in warning.message


def test_an_email_over_100_kb_is_refused_because_gmail_would_clip_it() -> None:
    campaign = with_body(CLEAR + "<p>" + "Programa de fiestas. " * 6000 + "</p>")

    assert "error" in levels(campaign)["size"]
    assert any("Gmail" in m for m in messages(campaign, "error"))


def test_a_merge_tag_outside_the_sandbox_is_an_error() -> None:
    campaign = with_body("<p>{{ contact.__class__ }}</p>")

    assert "error" in levels(campaign)["merge_tags"]


@pytest.fixture
def article(db: None) -> Article:
    from tests.content.factories import ArticleFactory

    return ArticleFactory(status="published", published_at=timezone.now())


def test_the_checklist_speaks_the_staff_language_after_checking_links_in_other_languages(
    article: Article,
) -> None:
    with translation.override("en"):
        english = reverse("content:article-detail", kwargs={"slug": article.slug_es})
    campaign = with_body(
        CLEAR,
        subscriber(language="en"),
        subscriber(),
        subject_en="News",
        body_en=f'<p>Hello, neighbour. Read <a href="{english}">the news</a>.</p>',
    )

    messages = [check.message for check in campaign_gate(campaign=campaign).checks]

    assert any(m.startswith("Inglés: ") for m in messages)
    assert not any("Every" in m or m.startswith("Spanish") for m in messages), messages
    assert translation.get_language() == "es"
