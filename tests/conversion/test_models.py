"""Form and field invariants staff meet in the builder."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import translation

from contacts.models import ConsentRecord
from conversion.models import Form, FormField
from tests.conversion.factories import FormFactory, FormFieldFactory
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["//evil.example/", "https://evil.example/", "/\\evil", "es/x"])
def test_a_redirect_outside_the_site_is_refused(path: str) -> None:
    form = FormFactory.build(redirect_path=path)
    with pytest.raises(ValidationError) as error:
        form.full_clean(exclude=["slug", "name"])
    assert "redirect_path" in error.value.message_dict


def test_an_internal_redirect_path_is_accepted() -> None:
    form = FormFactory.build(redirect_path="/es/gracias/")
    form.full_clean()


def test_staff_notification_addresses_are_checked_one_by_one() -> None:
    StaffFactory(username="prensa", email="prensa@villaclara.example")
    StaffFactory(username="movilidad", email="Movilidad@villaclara.example")
    form = FormFactory.build(notify_emails="prensa@villaclara.example,\nno-es-un-correo")
    with pytest.raises(ValidationError) as error:
        form.full_clean()
    [message] = error.value.message_dict["notify_emails"]
    assert "no-es-un-correo" in message
    form.notify_emails = "prensa@villaclara.example;\n movilidad@villaclara.example "
    form.full_clean()
    assert form.notify_email_list == ["prensa@villaclara.example", "movilidad@villaclara.example"]


def test_staff_notifications_may_only_go_to_active_staff_accounts() -> None:
    StaffFactory(username="prensa", email="prensa@villaclara.example")
    StaffFactory(username="antigua", email="antigua@villaclara.example", is_active=False)
    form = FormFactory.build(
        notify_emails="prensa@villaclara.example\nantigua@villaclara.example, vecina@correo.example"
    )
    with translation.override("es"), pytest.raises(ValidationError) as error:
        form.full_clean()
    assert error.value.message_dict["notify_emails"] == [
        "antigua@villaclara.example, vecina@correo.example: no es la dirección de una cuenta "
        "activa del personal."
    ]


def test_a_webhook_needs_a_secret() -> None:
    form = FormFactory.build(webhook_url="https://crm.villaclara.example/hook")
    with pytest.raises(ValidationError) as error:
        form.full_clean()
    assert "webhook_secret" in error.value.message_dict


def test_a_key_is_unique_within_a_form() -> None:
    field = FormFieldFactory(key="email")
    FormFieldFactory(key="email")  # another form: fine
    with pytest.raises(IntegrityError):
        FormFieldFactory(form=field.form, key="email")


def test_choices_are_read_as_value_and_label_per_line() -> None:
    field = FormFieldFactory.build(choices="coche|Coche\n\n bici | Bicicleta \npie")
    assert field.choice_pairs() == [("coche", "Coche"), ("bici", "Bicicleta"), ("pie", "pie")]


def test_a_consent_field_needs_purpose_text_and_version() -> None:
    field = FormFieldFactory.build(kind=FormField.Kind.CONSENT)
    with pytest.raises(ValidationError) as error:
        field.clean()
    assert set(error.value.message_dict) == {"consent_purpose", "consent_text", "consent_version"}
    field.consent_purpose = ConsentRecord.Purpose.NEWSLETTER
    field.consent_text = "Quiero el boletín."
    field.consent_version = "v1"
    field.clean()


def test_a_select_without_choices_and_an_unknown_contact_target_are_refused() -> None:
    field = FormFieldFactory.build(
        kind=FormField.Kind.SELECT, target=FormField.Target.CONTACT, target_key="is_staff"
    )
    with pytest.raises(ValidationError) as error:
        field.clean()
    assert set(error.value.message_dict) == {"choices", "target_key"}


def test_the_fingerprint_changes_with_the_fields_a_citizen_sees() -> None:
    form = FormFactory()
    field = FormFieldFactory(form=form, label_es="Nombre")
    before = form.fields_fingerprint()
    assert form.fields_fingerprint() == before
    field.label_es = "Tu nombre"
    field.save()
    assert Form.objects.get(pk=form.pk).fields_fingerprint() != before


def test_the_demo_form_is_published_valid_and_seeded_once() -> None:
    from conversion.demo import conversion_demo_seed

    assert conversion_demo_seed() == 1
    assert conversion_demo_seed() == 0
    form = Form.objects.get(slug="boletin-movilidad")
    assert form.status == Form.Status.PUBLISHED
    assert form.title_es == "Suscríbete al boletín de movilidad"
    form.full_clean()
    for field in form.fields.all():
        field.full_clean()
    kinds = set(form.fields.values_list("kind", flat=True))
    assert {"email", "topics", "consent", "utm", "postal_code"} <= kinds
