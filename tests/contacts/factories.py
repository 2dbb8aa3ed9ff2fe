from __future__ import annotations

import factory

from contacts.models import ConsentRecord, Contact, Topic


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"tema-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").capitalize())


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    email = factory.Sequence(lambda n: f"vecina{n}@correo.example")
    first_name = "María"
    last_name = "García"
    email_status = Contact.EmailStatus.ACTIVE


def grant(
    contact: Contact,
    purpose: str = ConsentRecord.Purpose.NEWSLETTER,
    topic: Topic | None = None,
    action: str = ConsentRecord.Action.GRANTED,
    **kwargs: object,
) -> ConsentRecord:
    from contacts.services import consent_record

    return consent_record(
        contact=contact,
        purpose=purpose,
        topic=topic,
        action=action,
        legal_basis=ConsentRecord.LegalBasis.CONSENT,
        text="Acepto recibir información del Ayuntamiento.",
        text_version="v1",
        source=ConsentRecord.Source.FORM,
        **kwargs,  # type: ignore[arg-type]
    )
