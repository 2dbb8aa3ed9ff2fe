"""Staged submissions: the request stores the submission and its outbox; the relay applies it;
on a double opt-in form only the citizen's confirmation reaches the contact. Idempotency,
erased addresses, proposals, per-address limits, recognised-contact tokens."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail, signing
from django.utils import timezone

from contacts.models import ConsentRecord, Contact, Subscription, Tombstone, Touchpoint
from contacts.validation import email_hash
from conversion import wake
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


def _outbox(submission: Submission) -> set[tuple[str, str]]:
    return set(SideEffect.objects.filter(submission=submission).values_list("kind", "status"))


def test_the_request_stores_only_the_submission_and_its_outbox() -> None:
    TopicFactory(slug="movilidad")
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
    assert submission.email_hash == email_hash("ana@correo.example")
    assert submission.contact is None and submission.applied_at is None
    assert _outbox(submission) == {
        ("apply", "pending"),
        ("staff_notification", "pending"),
        ("webhook", "pending"),
    }
    # Nothing about anyone changes from a form anyone can fill in.
    assert not Contact.objects.exists()
    assert not ConsentRecord.objects.exists()
    assert not Subscription.objects.exists()
    assert not Touchpoint.objects.exists()


def test_on_a_double_optin_form_the_relay_only_sends_the_optin_email() -> None:
    TopicFactory(slug="movilidad")
    submission, _created = submit(
        newsletter_form(), email="ana@correo.example", nombre="Ana", temas=["movilidad"],
        boletin=True,
    )  # fmt: skip

    assert effects_due() == 2  # applied, then the opt-in e-mail

    assert [m.to for m in mail.outbox] == [["ana@correo.example"]]
    assert _outbox(submission) == {("apply", "done"), ("optin_email", "done")}
    assert not Contact.objects.exists()
    assert not ConsentRecord.objects.exists()
    assert not Subscription.objects.exists()
    assert not Touchpoint.objects.exists()
    assert effects_due() == 0  # applied once


def test_confirming_applies_the_contact_consents_subscriptions_and_touchpoints() -> None:
    movilidad = TopicFactory(slug="movilidad")
    submission, _created = submit(
        newsletter_form(), email="ana@correo.example", nombre="Ana", cp="28999",
        temas=["movilidad"], boletin=True, utm_source="boletin",
    )  # fmt: skip
    effects_due()

    optin_confirm(optin_token(submission))

    contact = Contact.objects.get(email="ana@correo.example")
    assert (contact.first_name, contact.postal_code, contact.source) == ("Ana", "28999", "form")
    assert contact.email_verified_at is not None
    assert contact.email_status == Contact.EmailStatus.ACTIVE
    consent = ConsentRecord.objects.get(contact=contact)
    assert (consent.purpose, consent.action, consent.text, consent.text_version) == (
        "newsletter", "granted", "Quiero recibir el boletín.", "v1",
    )  # fmt: skip
    subscription = Subscription.objects.get(contact=contact)
    assert (subscription.topic, subscription.status) == (movilidad, Subscription.Status.ACTIVE)
    submit_touchpoint = Touchpoint.objects.get(contact=contact, kind="form_submit")
    assert submit_touchpoint.properties["submission"] == submission.pk
    assert submit_touchpoint.properties["utm_source"] == "boletin"
    assert Touchpoint.objects.filter(contact=contact, kind="optin_confirmed").count() == 1
    submission.refresh_from_db()
    assert submission.contact == contact and submission.optin_confirmed_at is not None


def test_the_consent_text_is_recorded_in_the_language_shown() -> None:
    form = newsletter_form()
    submission, _created = submission_create(
        form=form,
        cleaned={"email": "en@correo.example", "boletin": True},
        files={},
        language="en",
        page="",
        referrer="",
        visitor_key="",
    )
    effects_due()
    optin_confirm(optin_token(submission))
    assert ConsentRecord.objects.get().text == "I want the newsletter."


def test_without_double_optin_the_relay_applies_everything_and_sends_no_optin_email() -> None:
    TopicFactory(slug="cultura")
    form = newsletter_form(double_opt_in=False)
    submission, _created = submit(form, email="ana@correo.example", temas=["cultura"],
                                  boletin=True)  # fmt: skip
    assert not Contact.objects.exists()  # not in the request

    effects_due()

    contact = Contact.objects.get(email="ana@correo.example")
    assert Subscription.objects.get(contact=contact).status == Subscription.Status.ACTIVE
    assert ConsentRecord.objects.get(contact=contact).purpose == "newsletter"
    assert Touchpoint.objects.get(kind="form_submit").contact == contact
    assert _outbox(submission) == {("apply", "done")}
    assert mail.outbox == []


def test_a_confirmed_subscription_never_goes_back() -> None:
    topic = TopicFactory(slug="cultura")
    contact = ContactFactory(email="ana@correo.example")
    Subscription.objects.create(contact=contact, topic=topic, status=Subscription.Status.ACTIVE)
    submission, _created = submit(newsletter_form(), email="ana@correo.example", temas=["cultura"])
    effects_due()
    assert Subscription.objects.get().status == Subscription.Status.ACTIVE
    optin_confirm(optin_token(submission))
    assert Subscription.objects.get().status == Subscription.Status.ACTIVE


def test_an_unconfirmed_submission_never_changes_an_existing_contact() -> None:
    from conversion.proposals import contact_proposals

    contact = ContactFactory(email="ana@correo.example", first_name="Ana", postal_code="28001")
    form = newsletter_form(double_opt_in=False)

    submission, _created = submit(form, email="ana@correo.example", nombre="Mallory", cp="28999")
    effects_due()

    contact.refresh_from_db()
    assert (contact.first_name, contact.postal_code) == ("Ana", "28001")
    submission.refresh_from_db()
    assert submission.proposal == Submission.Proposal.PENDING
    [proposal] = contact_proposals(contact=contact)
    assert {(c.field, c.current, c.proposed) for c in proposal.changes} == {
        ("first_name", "Ana", "Mallory"),
        ("postal_code", "28001", "28999"),
    }


def test_a_confirmed_submission_updates_what_the_citizen_typed_and_keeps_the_rest() -> None:
    ContactFactory(email="ana@correo.example", first_name="Ana", postal_code="28001",
                   phone="+34600123456")  # fmt: skip
    submission, _created = submit(
        newsletter_form(), email="ana@correo.example", nombre="Ana María", cp="", boletin=True
    )
    effects_due()
    assert Contact.objects.get().first_name == "Ana"  # not before the confirmation

    optin_confirm(optin_token(submission))

    contact = Contact.objects.get()
    assert (contact.first_name, contact.postal_code, contact.phone) == (
        "Ana María", "28001", "+34600123456",
    )  # fmt: skip
    submission.refresh_from_db()
    assert submission.proposal == Submission.Proposal.NONE


def test_a_submission_without_email_is_kept_without_contact() -> None:
    submission, created = submit(newsletter_form(), nombre="Anónima")
    effects_due()
    submission.refresh_from_db()
    assert created and submission.contact is None and submission.applied_at is not None
    assert not Contact.objects.exists()
    touchpoint = Touchpoint.objects.get()
    assert (touchpoint.kind, touchpoint.contact) == ("form_submit", None)


def test_an_erased_person_is_answered_like_anyone_and_nothing_personal_is_stored() -> None:
    Tombstone.objects.create(email_hash=email_hash("borrada@correo.example"))
    submit(newsletter_form(slug="a"), email="otra@correo.example", boletin=True)

    erased, created = submit(newsletter_form(slug="b"), email="borrada@correo.example",
                             nombre="Borrada", boletin=True)  # fmt: skip

    assert created  # the same answer as for anyone else
    erased.refresh_from_db()
    assert erased.values == {} and erased.email_hash == "" and erased.visitor_key == ""
    assert not SideEffect.objects.filter(submission=erased).exists()
    effects_due()
    assert [m.to for m in mail.outbox] == [["otra@correo.example"]]
    assert not Contact.objects.exists()
    assert not Touchpoint.objects.exists()


def test_an_address_erased_after_the_request_is_redacted_by_the_relay() -> None:
    submission, _created = submit(newsletter_form(), email="ana@correo.example", nombre="Ana",
                                  boletin=True)  # fmt: skip
    Tombstone.objects.create(email_hash=email_hash("ana@correo.example"))

    effects_due()

    submission.refresh_from_db()
    assert submission.values == {} and submission.email_hash == ""
    assert mail.outbox == []
    assert not Contact.objects.exists()


def test_the_same_submission_twice_within_the_window_counts_once() -> None:
    form = newsletter_form()
    first, created = submit(form, email="ana@correo.example", nombre="Ana", boletin=True)
    again, created_again = submit(form, email="ANA@correo.example", nombre="Ana", boletin=True)
    assert created and not created_again
    assert again == first
    assert Submission.objects.count() == 1
    assert SideEffect.objects.count() == 1
    effects_due()
    assert len(mail.outbox) == 1
    other, created_other = submit(form, email="ana@correo.example", nombre="Anita")
    assert created_other and other != first


def test_the_same_submission_after_the_window_counts_again(settings: Any) -> None:
    form = newsletter_form()
    first, _created = submit(form, email="ana@correo.example")
    Submission.objects.filter(pk=first.pk).update(
        created_at=timezone.now()
        - dt.timedelta(seconds=settings.CONVERSION_IDEMPOTENCY_WINDOW_SECONDS * 3),
        idempotency_key="old",
    )
    second, created = submit(form, email="ana@correo.example")
    assert created and second != first


def test_the_submission_stands_when_the_broker_is_down_and_its_effects_wait_in_the_outbox(
    broker_down: None,
    django_capture_on_commit_callbacks: Any,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
) -> None:
    settings.CONVERSION_RELAY_WAKE = True
    monkeypatch.setattr(wake, "_next_wake_at", 0.0)  # no wake of an earlier test holds this one
    StaffFactory(username="prensa", email="prensa@villaclara.example")
    form = newsletter_form(notify_emails="prensa@villaclara.example")
    with django_capture_on_commit_callbacks(execute=True):
        submission, created = submit(form, email="ana@correo.example", boletin=True)
    assert created
    assert "outbox relay not woken" in caplog.text  # the wake met the refused connection
    assert Submission.objects.filter(pk=submission.pk).exists()
    assert set(submission.side_effects.values_list("status", flat=True)) == {"pending"}
    assert mail.outbox == []

    # The relay, once beat's tick reaches a worker: applied, staff told, opt-in e-mail sent.
    assert effects_due() == 3

    assert len(mail.outbox) == 2


def test_a_burst_of_submissions_tries_a_broken_broker_once_and_keeps_every_submission(
    broker_down: None,
    django_capture_on_commit_callbacks: Any,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
) -> None:
    """The wake is deduplicated per process: a burst publishes once (here: fails once and
    backs off), not once per submission."""
    settings.CONVERSION_RELAY_WAKE = True
    monkeypatch.setattr(wake, "_next_wake_at", 0.0)
    form = newsletter_form()
    for number in range(20):
        with django_capture_on_commit_callbacks(execute=True):
            submit(form, email=f"vecina{number}@correo.example", boletin=True)

    assert caplog.text.count("outbox relay not woken") == 1
    assert Submission.objects.count() == 20
    assert SideEffect.objects.filter(status=SideEffect.Status.PENDING).count() == 20


def test_optin_emails_to_one_address_are_limited_per_day_whoever_sends_them(
    settings: Any,
) -> None:
    settings.CONVERSION_OPTIN_EMAILS_PER_ADDRESS_PER_DAY = 2
    form = newsletter_form()
    for name in ("Uno", "Dos", "Tres"):  # three strangers, three different submissions
        submit(form, email="victima@correo.example", nombre=name, boletin=True)
        effects_due()

    assert len(mail.outbox) == 2
    withheld = SideEffect.objects.get(status=SideEffect.Status.CANCELLED)
    assert withheld.kind == "optin_email" and "limit" in withheld.last_error
    assert effects_due() == 0  # never retried


# --- Double opt-in ------------------------------------------------------------------------------


def pending_submission() -> Submission:
    TopicFactory(slug="movilidad")
    submission, _created = submit(
        newsletter_form(), email="ana@correo.example", temas=["movilidad"], boletin=True
    )
    effects_due()
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
    assert ConsentRecord.objects.count() == 1


def test_reading_an_optin_link_changes_nothing() -> None:
    submission = pending_submission()
    assert optin_read(optin_token(submission)) == submission
    assert not Subscription.objects.exists() and not Contact.objects.exists()
    assert Submission.objects.get().optin_confirmed_at is None


@pytest.mark.parametrize("token", ["", "nonsense", "eyJzIjoxfQ:1:forged"])
def test_a_tampered_optin_link_is_refused_and_changes_nothing(token: str) -> None:
    pending_submission()
    with pytest.raises(OptinLinkInvalid):
        optin_confirm(token)
    assert not Subscription.objects.exists() and not Contact.objects.exists()


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
    assert not Subscription.objects.exists() and not Contact.objects.exists()


def test_an_optin_link_of_an_erased_address_is_refused() -> None:
    submission = pending_submission()
    Tombstone.objects.create(email_hash=email_hash("ana@correo.example"))
    with pytest.raises(OptinLinkInvalid):
        optin_confirm(optin_token(submission))
    assert not Contact.objects.exists()


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
    assert SideEffect.objects.filter(submission=submission).count() == 2


def test_applying_a_batch_of_optins_costs_the_same_queries_whatever_its_size() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from conversion.applying import submissions_apply

    form = newsletter_form()
    # One of each batch becomes a proposal (an UPDATE per proposal state, whatever the size).
    ContactFactory(email="conocida0@correo.example")
    ContactFactory(email="nueva0@correo.example")

    def applied(count: int, prefix: str) -> int:
        ids = [
            submit(form, email=f"{prefix}{n}@correo.example", nombre="Ana", boletin=True)[0].pk
            for n in range(count)
        ]
        with CaptureQueriesContext(connection) as queries:
            assert submissions_apply(submission_ids=ids) == count
        return len(queries)

    assert applied(3, "conocida") == applied(30, "nueva")
    assert SideEffect.objects.filter(kind="optin_email").count() == 33
    assert Submission.objects.filter(applied_at__isnull=True).count() == 0
    assert Submission.objects.filter(proposal=Submission.Proposal.PENDING).count() == 2


def test_the_optin_email_follows_a_changed_form_though_its_template_is_kept() -> None:
    """The rendered opt-in e-mail is kept across the relay's batches, keyed by the form's
    version: a title changed in between shows in the next e-mail."""
    form = newsletter_form()
    submit(form, email="primera@correo.example", boletin=True)
    effects_due()
    form.title_es = "Boletín de movilidad renovado"
    form.save()
    submit(form, email="segunda@correo.example", boletin=True)
    effects_due()

    first, second = mail.outbox
    assert "renovado" not in first.body
    assert "Boletín de movilidad renovado" in second.body


def test_a_relay_sweep_leaves_rows_arriving_one_by_one_to_the_next_wake() -> None:
    """A sweep takes everything due and what sending it queued, then stops: two short claims in
    a row end it, however many rows keep arriving."""
    from inbound.lib.leases import relay_sweep

    claims = iter([[1, 2, 3], [4, 5], [6], [7], [8]])  # a full batch of 3, then a trickle
    sent: list[list[int]] = []

    def send(ids: list[int], backend: Any) -> int:
        sent.append(ids)
        return len(ids)

    done = relay_sweep(claim=lambda limit: next(claims), send=send, batch=3, budget=60)

    assert sent == [[1, 2, 3], [4, 5], [6]]
    assert done == 6
