"""The citizen's form built from the staff's fields: widgets, limits, anti-abuse, progressive
profiling and errors in the citizen's language."""

from __future__ import annotations

import time
from io import BytesIO
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import translation

from contacts.models import ContactProperty
from conversion.forms import (
    TOO_FAST,
    contact_known_values,
    fields_for_template,
    form_class_for,
    started_token,
)
from conversion.models import Form, FormField
from tests.contacts.factories import ContactFactory, TopicFactory
from tests.conversion.factories import FormFieldFactory, newsletter_form

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def post(form: Form, language: str = "en", **values: Any) -> Any:
    """A bound citizen form as a browser would send it, shown 10 seconds ago."""
    data = {"started": started_token(time.time() - 10), "website": "", **values}
    files = data.pop("files", {})
    return form_class_for(form, language=language)(data=data, files=files)


def test_fields_carry_autocomplete_and_consents_are_unticked() -> None:
    form = newsletter_form()
    html = str(form_class_for(form, language="en")())
    assert 'autocomplete="email"' in html
    assert 'autocomplete="given-name"' in html
    assert 'autocomplete="postal-code"' in html
    assert 'name="boletin"' in html and "checked" not in html
    for name in ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"):
        assert f'type="hidden" name="{name}"' in html


def test_labels_follow_the_citizen_language() -> None:
    form = newsletter_form()
    assert "I want the newsletter." in str(form_class_for(form, language="en")())
    assert "Quiero recibir el boletín." in str(form_class_for(form, language="es")())


def test_a_valid_form_gives_clean_values() -> None:
    topic = TopicFactory(slug="movilidad")
    bound = post(
        newsletter_form(),
        email="Vecina@Correo.example",
        nombre="Ana",
        cp="28999",
        temas=[topic.slug],
        boletin="on",
        utm_source="boletin",
    )
    assert bound.is_valid(), bound.errors
    assert bound.cleaned_data["email"] == "vecina@correo.example"
    assert bound.cleaned_data["temas"] == ["movilidad"]
    assert bound.cleaned_data["boletin"] is True
    assert bound.cleaned_data["seguimiento"] is False


def test_a_form_sent_too_fast_is_refused_with_a_message() -> None:
    form = newsletter_form()
    bound = form_class_for(form, language="en")(
        data={"started": started_token(), "email": "ana@correo.example"}
    )
    with translation.override("en"):
        assert not bound.is_valid()
        assert bound.non_field_errors() == [str(TOO_FAST)]


def test_a_tampered_start_time_is_refused_and_replaced_by_a_fresh_one() -> None:
    form = newsletter_form()
    bound = form_class_for(form, language="en")(
        data={"started": "forged:1:abc", "email": "ana@correo.example"}
    )
    assert not bound.is_valid()
    assert bound.data["started"] != "forged:1:abc"
    assert 'value="forged' not in str(bound)


@override_settings(CONVERSION_MIN_FILL_SECONDS=0)
def test_the_minimum_fill_time_is_a_setting() -> None:
    form = newsletter_form()
    bound = form_class_for(form, language="en")(
        data={"started": started_token(), "email": "ana@correo.example"}
    )
    assert bound.is_valid(), bound.errors


def test_a_filled_honeypot_is_detected() -> None:
    bound = post(newsletter_form(), email="bot@spam.example", website="http://spam.example")
    assert bound.honeypot_filled
    assert not post(newsletter_form(), email="ana@correo.example").honeypot_filled


def test_texts_are_limited_by_kind_and_by_field() -> None:
    form = newsletter_form()
    FormFieldFactory(form=form, key="comentario", kind=FormField.Kind.TEXTAREA)
    FormFieldFactory(form=form, key="alias", kind=FormField.Kind.TEXT, max_length=10)
    bound = post(
        form, email="a@correo.example", nombre="x" * 201, comentario="y" * 5001, alias="z" * 11
    )
    with translation.override("en"):
        assert not bound.is_valid()
        assert set(bound.errors) == {"nombre", "comentario", "alias"}
        assert "at most 200 characters" in bound.errors["nombre"][0]
    assert post(
        form, email="a@correo.example", nombre="x" * 100, comentario="y" * 5000, alias="z" * 10
    ).is_valid()


def test_errors_are_in_the_citizen_language() -> None:
    form = newsletter_form()
    with translation.override("en"):
        bound = post(form, email="no-es-un-correo", cp="99999")
        assert not bound.is_valid()
        assert bound.errors["email"] == ["Enter a valid email address."]
        assert "five digits" in bound.errors["cp"][0]


def test_a_phone_is_normalised_and_a_bad_one_refused() -> None:
    form = newsletter_form()
    FormFieldFactory(
        form=form,
        key="telefono",
        kind=FormField.Kind.PHONE,
        target=FormField.Target.CONTACT,
        target_key="phone",
    )
    bound = post(form, email="a@correo.example", telefono="600 123 456")
    assert bound.is_valid(), bound.errors
    assert bound.cleaned_data["telefono"] == "+34600123456"
    assert "telefono" in post(form, email="a@correo.example", telefono="12").errors


def test_a_custom_property_value_is_checked_by_the_crm() -> None:
    ContactProperty.objects.create(
        key="vehiculo",
        label="Vehículo",
        type=ContactProperty.Type.CHOICE,
        choices=["coche", "bici"],
    )
    form = newsletter_form()
    FormFieldFactory(
        form=form,
        key="vehiculo",
        kind=FormField.Kind.TEXT,
        target=FormField.Target.PROPERTY,
        target_key="vehiculo",
    )
    bound = post(form, email="a@correo.example", vehiculo="patinete")
    with translation.override("en"):
        assert not bound.is_valid()
        assert "not one of the allowed choices" in bound.errors["vehiculo"][0]
    assert post(form, email="a@correo.example", vehiculo="bici").is_valid()


@pytest.mark.parametrize(
    ("name", "content", "ok"),
    [
        ("foto.png", PNG, True),
        ("informe.pdf", b"%PDF-1.7\n" + b"0" * 32, True),
        ("foto.png", b"MZ\x90\x00 not an image", False),  # the name says PNG, the bytes don't
        ("script.html", b"<script>alert(1)</script>", False),
    ],
)
def test_uploads_are_checked_by_their_content(name: str, content: bytes, ok: bool) -> None:
    form = newsletter_form()
    FormFieldFactory(form=form, key="adjunto", kind=FormField.Kind.FILE)
    upload = SimpleUploadedFile(name, content, content_type="image/png")
    bound = post(form, email="a@correo.example", files={"adjunto": upload})
    assert bound.is_valid() is ok
    if not ok:
        with translation.override("en"):
            assert bound.errors["adjunto"] == ["Send a PDF, JPEG or PNG file."]


@override_settings(CONVERSION_MAX_UPLOAD_MB=1)
def test_an_upload_over_the_size_limit_is_refused() -> None:
    form = newsletter_form()
    FormFieldFactory(form=form, key="adjunto", kind=FormField.Kind.FILE)
    big = SimpleUploadedFile("foto.png", PNG + b"\x00" * (1024 * 1024), content_type="image/png")
    bound = post(form, email="a@correo.example", files={"adjunto": big})
    with translation.override("en"):
        assert not bound.is_valid()
        assert "1 MB at most" in bound.errors["adjunto"][0]
    assert BytesIO  # the module is used by SimpleUploadedFile only


def progressive_form() -> Form:
    form = newsletter_form(progressive_max_fields=4)
    FormFieldFactory(
        form=form,
        key="vehiculo",
        kind=FormField.Kind.SELECT,
        progressive=True,
        choices_es="coche|Coche\nbici|Bici",
        order=100,
    )
    FormFieldFactory(form=form, key="barrio", kind=FormField.Kind.TEXT, progressive=True, order=101)
    return form


def test_an_anonymous_visitor_never_sees_progressive_fields() -> None:
    fields = form_class_for(progressive_form(), language="es")().fields
    assert "vehiculo" not in fields and "barrio" not in fields
    assert {"email", "nombre", "cp", "temas"} <= set(fields)


def test_a_recognised_contact_is_asked_new_questions_instead_of_known_ones() -> None:
    contact = ContactFactory(first_name="Ana", postal_code="28999")
    form = progressive_form()
    fields = form_class_for(form, language="es", known=contact_known_values(contact))().fields
    # Known first name and postal code are dropped, not prefilled.
    assert "nombre" not in fields and "cp" not in fields
    # E-mail and two consents count towards the 4; one place left: topics come first.
    assert "email" in fields and "boletin" in fields and "seguimiento" in fields
    assert "temas" in fields
    assert "vehiculo" not in fields


def test_the_progressive_queue_fills_the_room_left() -> None:
    contact = ContactFactory(first_name="Ana", postal_code="28999")
    form = progressive_form()
    form.progressive_max_fields = 5
    form.save()
    fields = form_class_for(form, language="es", known=contact_known_values(contact))().fields
    assert "vehiculo" in fields and "barrio" not in fields
    assert "Ana" not in str(form_class_for(form, language="es", known={"first_name": "Ana"})())


def test_groups_are_marked_for_fieldsets() -> None:
    form = newsletter_form()
    FormFieldFactory(form=form, key="como", kind=FormField.Kind.RADIO, choices_es="a|A\nb|B")
    items = {item.bound.name: item for item in fields_for_template(post(form))}
    assert items["temas"].is_group and items["como"].is_group
    assert items["boletin"].is_checkbox and not items["boletin"].is_group
    assert not items["email"].is_group
    assert "website" not in items and "utm_source" not in items
