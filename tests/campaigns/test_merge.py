"""Merge tags: a sandbox that knows a few contact fields, reports errors where they are."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError

from campaigns.merge import MergeTag, merge_parse, merge_render
from campaigns.models import Email


def contact(**values: object) -> SimpleNamespace:
    defaults: dict[str, object] = {"first_name": "", "district": "", "properties": {}}
    return SimpleNamespace(**{**defaults, **values})


def test_a_tag_renders_the_recipient_value_or_its_fallback() -> None:
    pieces, errors = merge_parse('Hola, {{ contact.first_name|default:"vecino/a" }}.')

    assert errors == []
    assert pieces == ["Hola, ", MergeTag("first_name", "vecino/a"), "."]
    assert merge_render(pieces, contact(first_name="Lucía"), html=False) == "Hola, Lucía."
    assert merge_render(pieces, contact(first_name="  "), html=False) == "Hola, vecino/a."


def test_values_are_escaped_in_html_and_fallbacks_written_as_they_stand() -> None:
    pieces, _errors = merge_parse("<p>{{ contact.first_name|default:&quot;vecino/a&quot; }}</p>")

    hostile = contact(first_name='<img src=x onerror="alert(1)">')
    assert merge_render(pieces, hostile, html=True) == (
        "<p>&lt;img src=x onerror=&quot;alert(1)&quot;&gt;</p>"
    )
    assert merge_render(pieces, contact(), html=True) == "<p>vecino/a</p>"


def test_a_defined_custom_property_may_be_used() -> None:
    pieces, errors = merge_parse("{{ contact.properties.barrio }}", properties=["barrio"])

    assert errors == []
    assert merge_render(pieces, contact(properties={"barrio": "San Blas"}), html=False) == (
        "San Blas"
    )


@pytest.mark.parametrize(
    ("text", "line", "column", "says"),
    [
        ("Hola {{ contact.__class__ }}", 1, 6, "no se puede usar"),
        ("Hola\n  {{ settings.SECRET_KEY }}", 2, 3, "no es una etiqueta"),
        ("{{ contact.password }}", 1, 1, "no se puede usar"),
        ("{{ contact.properties.renta }}", 1, 1, "no se puede usar"),
        ("Hola {% load static %}", 1, 6, "etiquetas de plantilla"),
        ("Hola {{ contact.first_name", 1, 6, "no se cierra"),
    ],
)
def test_anything_beyond_the_whitelist_is_an_error_with_its_position_and_renders_nothing(
    text: str, line: int, column: int, says: str
) -> None:
    pieces, errors = merge_parse(text)

    assert [(e.line, e.column) for e in errors] == [(line, column)]
    assert says in errors[0].message
    rendered = merge_render(pieces, contact(first_name="Ana"), html=False)
    assert "{{" not in rendered and "{%" not in rendered and "SECRET" not in rendered


@pytest.mark.django_db
def test_saving_an_email_with_a_bad_tag_is_refused_naming_field_and_position() -> None:
    email = Email(name="Boletín", subject_es="Hola", body_es="<p>Hola {{ contact.__dict__ }}</p>")

    with pytest.raises(ValidationError) as refused:
        email.full_clean()

    messages = refused.value.message_dict["body_es"]
    assert messages and messages[0].startswith("Línea 1, columna 9")
