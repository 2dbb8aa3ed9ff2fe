"""A submission in one transaction: contact, consents, subscriptions, touchpoint and outbox;
idempotency; the double opt-in confirmation; recognised-contact tokens."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail, signing
from django.utils import timezone

from contacts.models import ConsentRecord, Contact, Subscription, Tombstone, Touchpoint
from contacts.validation import email_hash
from conversion import services
from conversion.models import SideEffect, Submission
from conversion.outbox import effects_due
from conversion.services import (
    OptinLinkExpired,
    OptinLinkInvalid,
    contact_from_token,
    contact_token,
    optin_confirm,
    optin_read,
    optin_token,
    submission_create,
)
from inbound.lib.errors import DomainError
from tests.contacts.factories import ContactFactory, TopicFactory
from tests.conversion.factories import newsletter_form
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def submit(form: Any, **cleaned: Any) -> tuple[Submission, bool]:
    values = {"seguimiento": False, "boletin": False, **cleaned}
    return submission_create(
        form=form,
        cleaned=values,
        files={},
        language="es",
        page="/es/formularios/boletin/",
        referrer="https://buscador.example/",
        visitor_key="a" * 32,
    )


def test_a_submission_stores_contact_consent_subscriptions_touchpoint_and_outbox() -> None:
    movilidad = TopicFactory(slug="movilidad")
    form = newsletter_form(
        notify_emails="prensa@villaclara.example",
        webhook_url="https://crm.example/h",
        webhook_secret="s3cret",
    )

    submission, created = submit(
        form,
        email="ana@correo.example",
        nombre="Ana",
        cp="28999",
        temas=["movilidad"],
        boletin=True,
        utm_source="boletin",
    )

    assert created
    submission.refresh_from_db()
    assert submission.form_version == form.version
    assert submission.values == {
        "email": "ana@correo.example",
        "nombre": "Ana",
        "cp": "28999",
        "temas": ["movilidad"],
        "boletin": True,
        "seguimiento": False,
    }
    assert submission.utm == {"utm_source": "boletin"}
    assert submission.visitor_key == "a" * 32
    contact = Contact.objects.get(email="ana@correo.example")
    assert submission.contact == contact
    assert (contact.first_name, contact.postal_code, contact.source) == ("Ana", "28999", "form")
    consent = ConsentRecord.objects.get(contact=contact)
    assert (consent.purpose, consent.text, consent.text_version) == (
        "newsletter",
        "Quiero recibir el boletín.",
        "v1",
    )
    subscription = Subscription.objects.get(contact=contact)
    assert (subscription.topic, subscription.status) == (movilidad, Subscription.Status.PENDING)
    touchpoint = Touchpoint.objects.get(contact=contact, kind="form_submit")
    assert touchpoint.properties["submission"] == submission.pk
    assert touchpoint.properties["utm_source"] == "boletin"
    assert set(submission.side_effects.values_list("kind", "status")) == {
        ("optin_email", "pending"),
        ("staff_notification", "pending"),
        ("webhook", "pending"),
    }


def test_the_consent_text_is_recorded_in_the_language_shown() -> None:
    form = newsletter_form()
    submission_create(
        form=form,
        cleaned={"email": "en@correo.example", "boletin": True},
        files={},
        language="en",
        page="",
        referrer="",
        visitor_key="",
    )
    assert ConsentRecord.objects.get().text == "I want the newsletter."


def test_without_double_opt_in_subscriptions_start_active_and_no_optin_email() -> None:
    TopicFactory(slug="cultura")
    form = newsletter_form(double_opt_in=False)
    submission, _created = submit(form, email="ana@correo.example", temas=["cultura"])
    assert Subscription.objects.get().status == Subscription.Status.ACTIVE
    assert not submission.side_effects.exists()


def test_a_confirmed_subscription_never_goes_back_to_pending() -> None:
    topic = TopicFactory(slug="cultura")
    contact = ContactFactory(email="ana@correo.example")
    Subscription.objects.create(contact=contact, topic=topic, status=Subscription.Status.ACTIVE)
    submit(newsletter_form(), email="ana@correo.example", temas=["cultura"])
    assert Subscription.objects.get().status == Subscription.Status.ACTIVE


def test_blanks_never_overwrite_what_we_knew() -> None:
    ContactFactory(email="ana@correo.example", first_name="Ana", postal_code="28999")
    submit(newsletter_form(), email="ana@correo.example", nombre="", cp="")
    contact = Contact.objects.get(email="ana@correo.example")
    assert (contact.first_name, contact.postal_code) == ("Ana", "28999")


def test_a_submission_without_email_is_kept_without_contact() -> None:
    submission, created = submit(newsletter_form(), nombre="Anónima")
    assert created and submission.contact is None
    assert not Contact.objects.exists()
    assert Touchpoint.objects.get().kind == "form_submit"


def test_an_erased_person_is_refused_and_nothing_is_stored() -> None:
    Tombstone.objects.create(email_hash=email_hash("borrada@correo.example"))
    with pytest.raises(DomainError):
        submit(newsletter_form(), email="borrada@correo.example", boletin=True)
    assert not Submission.objects.exists()
    assert not Contact.objects.exists()
    assert not Touchpoint.objects.exists()


def test_the_same_submission_twice_within_the_window_counts_once() -> None:
    form = newsletter_form()
    first, created = submit(form, email="ana@correo.example", nombre="Ana", boletin=True)
    again, created_again = submit(form, email="ANA@correo.example", nombre="Ana", boletin=True)
    assert created and not created_again
    assert again == first
    assert Submission.objects.count() == 1
    assert ConsentRecord.objects.count() == 1
    assert Touchpoint.objects.filter(kind="form_submit").count() == 1
    other, created_other = submit(form, email="ana@correo.example", nombre="Anita")
    assert created_other and other != first


def test_the_same_submission_after_the_window_counts_again(settings: Any) -> None:
    form = newsletter_form()
    first, _created = submit(form, email="ana@correo.example")
    Submission.objects.filter(pk=first.pk).update(
        created_at=timezone.now()
        - dt.timedelta(seconds=settings.CONVERSION_IDEMPOTENCY_WINDOW_SECONDS * 3)
        if hasattr(settings, "CONVERSION_IDEMPOTENCY_WINDOW_SECONDS")
        else timezone.now() - dt.timedelta(hours=1),
        idempotency_key="old",
    )
    second, created = submit(form, email="ana@correo.example")
    assert created and second != first


def test_a_concurrent_twin_insert_returns_the_first_and_writes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two requests pass the look-up at once: the unique key stops the second insert."""
    form = newsletter_form()
    twin, _created = submit(form, email="ana@correo.example", boletin=True)
    # The second request did not see the twin (it was not committed yet when it looked).
    monkeypatch.setattr(services, "_existing", lambda keys, since: None)

    again, created = submit(form, email="ana@correo.example", boletin=True)

    assert not created and again == twin
    assert Submission.objects.count() == 1
    assert ConsentRecord.objects.count() == 1
    assert Touchpoint.objects.filter(kind="form_submit").count() == 1


def test_the_submission_stands_when_the_broker_is_down_and_its_effects_wait_in_the_outbox(
    broker_down: None, django_capture_on_commit_callbacks: Any, caplog: pytest.LogCaptureFixture
) -> None:
    StaffFactory(username="prensa", email="prensa@villaclara.example")
    form = newsletter_form(notify_emails="prensa@villaclara.example")
    with django_capture_on_commit_callbacks(execute=True):
        submission, created = submit(form, email="ana@correo.example", boletin=True)
    assert created
    assert "broker" not in caplog.text  # the request never tried to publish
    assert Submission.objects.filter(pk=submission.pk).exists()
    assert set(submission.side_effects.values_list("status", flat=True)) == {"pending"}
    assert mail.outbox == []

    assert effects_due() == 2  # the relay, once beat's tick reaches a worker

    assert len(mail.outbox) == 2


# --- Double opt-in ------------------------------------------------------------------------------


def pending_submission() -> Submission:
    TopicFactory(slug="movilidad")
    submission, _created = submit(
        newsletter_form(), email="ana@correo.example", temas=["movilidad"], boletin=True
    )
    return submission


def test_confirming_activates_the_subscriptions_and_verifies_the_address() -> None:
    submission = pending_submission()
    confirmed = optin_confirm(optin_token(submission))
    assert confirmed == submission
    assert Subscription.objects.get().status == Subscription.Status.ACTIVE
    contact = Contact.objects.get()
    assert contact.email_verified_at is not None
    assert contact.email_status == Contact.EmailStatus.ACTIVE
    submission.refresh_from_db()
    assert submission.optin_confirmed_at is not None
    assert Touchpoint.objects.filter(kind="optin_confirmed").count() == 1


def test_confirming_twice_is_harmless() -> None:
    submission = pending_submission()
    token = optin_token(submission)
    optin_confirm(token)
    first_at = Submission.objects.get().optin_confirmed_at
    assert optin_confirm(token) == submission
    assert Submission.objects.get().optin_confirmed_at == first_at
    assert Touchpoint.objects.filter(kind="optin_confirmed").count() == 1


def test_reading_an_optin_link_changes_nothing() -> None:
    submission = pending_submission()
    assert optin_read(optin_token(submission)) == submission
    assert Subscription.objects.get().status == Subscription.Status.PENDING
    assert Submission.objects.get().optin_confirmed_at is None


@pytest.mark.parametrize("token", ["", "nonsense", "eyJzIjoxfQ:1:forged"])
def test_a_tampered_optin_link_is_refused_and_changes_nothing(token: str) -> None:
    pending_submission()
    with pytest.raises(OptinLinkInvalid):
        optin_confirm(token)
    assert Subscription.objects.get().status == Subscription.Status.PENDING


def test_a_link_for_another_submission_key_is_refused() -> None:
    submission = pending_submission()
    forged = signing.TimestampSigner(salt="conversion.optin").sign_object(
        {"s": submission.pk, "k": "0" * 16}
    )
    with pytest.raises(OptinLinkInvalid):
        optin_confirm(forged)


def test_an_expired_optin_link_is_refused_and_changes_nothing(settings: Any) -> None:
    submission = pending_submission()
    token = optin_token(submission)
    settings.CONVERSION_OPTIN_MAX_AGE_DAYS = -1  # every link is older than that
    with pytest.raises(OptinLinkExpired):
        optin_confirm(token)
    assert Subscription.objects.get().status == Subscription.Status.PENDING


# --- Recognised contacts ----------------------------------------------------------------------


def test_a_contact_token_names_the_contact_while_it_keeps_the_address() -> None:
    contact = ContactFactory()
    token = contact_token(contact)
    assert contact_from_token(token) == contact
    assert contact_from_token(token + "x") is None
    assert contact_from_token("") is None
    contact.email = "otra@correo.example"
    contact.save()
    assert contact_from_token(token) is None


def test_side_effect_rows_are_unique_per_kind() -> None:
    submission = pending_submission()
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        SideEffect.objects.create(submission=submission, kind=SideEffect.Kind.OPTIN_EMAIL)
