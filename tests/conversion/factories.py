from __future__ import annotations

from typing import Any

import factory

from contacts.models import ConsentRecord
from conversion.models import Form, FormField


class FormFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Form

    name = factory.Sequence(lambda n: f"Formulario {n}")
    slug = factory.Sequence(lambda n: f"formulario-{n}")
    title_es = "Suscríbete"
    title_en = "Subscribe"
    success_message_es = "¡Gracias!"
    success_message_en = "Thank you!"
    purpose_notice_es = "Enviarte información municipal."
    purpose_notice_en = "Sending you council news."
    status = Form.Status.PUBLISHED


class FormFieldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FormField

    form = factory.SubFactory(FormFactory)
    key = factory.Sequence(lambda n: f"campo_{n}")
    order = factory.Sequence(lambda n: n)
    kind = FormField.Kind.TEXT
    label_es = factory.LazyAttribute(lambda o: o.key.replace("_", " ").capitalize())
    label_en = factory.LazyAttribute(lambda o: o.key.replace("_", " ").capitalize())


def newsletter_form(**form_kwargs: Any) -> Form:
    """E-mail, first name, postal code, topics, a newsletter consent, a tracking consent, UTM."""
    form = FormFactory(**form_kwargs)
    field = FormFieldFactory
    field(
        form=form,
        key="email",
        kind=FormField.Kind.EMAIL,
        required=True,
        target=FormField.Target.CONTACT,
        target_key="email",
        label_en="Email address",
    )
    field(
        form=form,
        key="nombre",
        kind=FormField.Kind.TEXT,
        target=FormField.Target.CONTACT,
        target_key="first_name",
        label_en="First name",
    )
    field(
        form=form,
        key="cp",
        kind=FormField.Kind.POSTAL_CODE,
        target=FormField.Target.CONTACT,
        target_key="postal_code",
        label_en="Postal code",
    )
    field(form=form, key="temas", kind=FormField.Kind.TOPICS, label_en="Topics")
    field(
        form=form,
        key="boletin",
        kind=FormField.Kind.CONSENT,
        consent_purpose=ConsentRecord.Purpose.NEWSLETTER,
        consent_version="v1",
        consent_text_es="Quiero recibir el boletín.",
        consent_text_en="I want the newsletter.",
    )
    field(
        form=form,
        key="seguimiento",
        kind=FormField.Kind.CONSENT,
        consent_purpose=ConsentRecord.Purpose.TRACKING,
        consent_version="v1",
        consent_text_es="Recordadme en este dispositivo.",
        consent_text_en="Remember me on this device.",
    )
    field(form=form, key="utm", kind=FormField.Kind.UTM)
    return form
