"""Fernández-Huerta readability of Spanish texts: syllables, sentences, score bands, hints."""

from __future__ import annotations

import pytest
from django.utils import translation

from content.readability import (
    Band,
    readability,
    readability_of_html,
    sentences,
    syllables,
    words,
)

ADMINISTRATIVE = (
    "<p>De conformidad con lo establecido en la normativa reguladora del procedimiento "
    "administrativo común de las administraciones públicas, los interesados que pretendan la "
    "obtención de la correspondiente autorización administrativa deberán presentar la "
    "documentación acreditativa de los requisitos exigidos en la convocatoria, debidamente "
    "compulsada, en el registro general de la corporación municipal dentro del plazo "
    "improrrogable establecido al efecto.</p>"
)
PLAIN = (
    "<p>La piscina abre el lunes. Abre de diez a ocho. El bono cuesta poco.</p>"
    "<h2>Cómo ir</h2><p>Ve en bus. La parada está al lado.</p>"
)


@pytest.mark.parametrize(
    ("word", "count"),
    [
        ("ciudadano", 4),
        ("camión", 2),
        ("día", 2),
        ("país", 2),
        ("huelga", 2),
        ("Ayuntamiento", 5),
        ("aéreo", 4),
        ("poeta", 3),
        ("leer", 2),
        ("reúne", 3),
        ("búho", 2),
        ("que", 1),
        ("guerra", 2),
        ("seguí", 2),
        ("pingüino", 3),
        ("Uruguay", 3),
        ("hay", 1),
        ("y", 1),
        ("averiguáis", 4),
        ("km", 1),
    ],
)
def test_spanish_syllables_follow_diphthong_and_hiatus_rules(word: str, count: int) -> None:
    assert syllables(word) == count


def test_numbers_are_not_words_and_do_not_end_sentences() -> None:
    text = "La obra costó 640.000 euros. Abre a las 8:00 y cierra a las 22.30 horas."

    assert words("Cuesta 3,5 euros") == ["Cuesta", "euros"]
    assert sentences(text) == [
        "La obra costó 640.000 euros.",
        "Abre a las 8:00 y cierra a las 22.30 horas.",
    ]


def test_abbreviations_do_not_end_sentences() -> None:
    assert sentences("La Sra. Pérez vive en la c. Mayor. Trabaja aquí.") == [
        "La Sra. Pérez vive en la c. Mayor.",
        "Trabaja aquí.",
    ]


def test_a_heading_without_a_full_stop_is_a_sentence_of_its_own() -> None:
    result = readability_of_html("<h2>Horario de verano</h2><p>Abre a las nueve.</p>")

    assert result is not None
    assert result.sentences == 2
    assert result.words == 7


def test_short_sentences_and_everyday_words_score_very_easy() -> None:
    result = readability_of_html(PLAIN)

    assert result is not None
    assert result.score >= 90
    assert result.band is Band.VERY_EASY
    assert result.is_clear
    assert result.hints == []


def test_a_long_administrative_sentence_scores_very_difficult_with_both_hints() -> None:
    result = readability_of_html(ADMINISTRATIVE)

    assert result is not None
    assert result.sentences == 1 and result.words == 57
    assert result.score == 0
    assert result.band is Band.VERY_DIFFICULT
    with translation.override("en"):
        assert result.hints == [
            "Use shorter sentences: the average is 57 words; aim for under 20.",
            "Prefer shorter, everyday words: the average is 2.8 syllables per word; aim for 2 "
            "or fewer.",
        ]


def test_score_follows_the_formula() -> None:
    # 12 words, 2 sentences, 25 syllables: 206.84 − 0.60 × 208.33 − 1.02 × 6 = 75.72.
    result = readability("Mañana cambia el horario de la biblioteca. Abre muy pronto por exámenes.")

    assert result is not None
    assert (result.words, result.sentences, result.syllables) == (12, 2, 25)
    assert result.score == 76
    assert result.band is Band.FAIRLY_EASY


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (100, Band.VERY_EASY),
        (90, Band.VERY_EASY),
        (89, Band.EASY),
        (80, Band.EASY),
        (75, Band.FAIRLY_EASY),
        (60, Band.STANDARD),
        (59, Band.FAIRLY_DIFFICULT),
        (50, Band.FAIRLY_DIFFICULT),
        (49, Band.DIFFICULT),
        (30, Band.DIFFICULT),
        (29, Band.VERY_DIFFICULT),
        (0, Band.VERY_DIFFICULT),
    ],
)
def test_bands_follow_the_usual_table(score: int, band: Band) -> None:
    assert Band.of(score) is band


def test_band_labels_are_translatable() -> None:
    with translation.override("en"):
        assert str(Band.FAIRLY_DIFFICULT.label) == "fairly difficult"


@pytest.mark.parametrize("text", ["", "   ", "<p></p>", "<p>123 456</p>", "<img src='/a.png'>"])
def test_text_without_words_has_no_score(text: str) -> None:
    assert readability_of_html(text) is None
