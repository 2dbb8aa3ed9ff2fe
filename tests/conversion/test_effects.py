"""The outbox: opt-in and staff e-mails, the signed webhook to a real local server, backoff,
the sweeper after a broker outage, and a real worker sending the opt-in."""

from __future__ import annotations

import email
import email.policy
import email.utils
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from conversion.models import SideEffect, Submission
from conversion.outbox import effects_due, effects_process
from conversion.services import optin_read, submission_create
from conversion.tasks import effects_sweep
from tests.contacts.factories import TopicFactory
from tests.conversion.factories import newsletter_form
from tests.factories import StaffFactory
from tests.http_receiver import Receiver, running_receiver, signature_is_valid
from tests.smtp import SmtpSink

SECRET = "un-secreto-compartido"


def submit(form: Any, language: str = "es", **cleaned: Any) -> Submission:
    submission, _created = submission_create(
        form=form,
        cleaned=cleaned,
        files={},
        language=language,
        page="",
        referrer="",
        visitor_key="",
    )
    return submission


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as receiver, override_settings(WEBHOOKS_ALLOW_PRIVATE=True):
        yield receiver  # on loopback, hence WEBHOOKS_ALLOW_PRIVATE


@pytest.mark.django_db
def test_the_optin_email_is_sent_in_the_citizen_language_with_a_working_link(
    client: Any,
) -> None:
    TopicFactory(slug="movilidad")
    submission = submit(
        newsletter_form(),
        language="en",
        email="ana@correo.example",
        temas=["movilidad"],
        boletin=True,
    )

    assert effects_process(submission.pk) == 2  # applied, then the e-mail

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ana@correo.example"]
    assert message.subject.startswith("Confirm your subscription")
    link = next(w for w in message.body.split() if w.startswith(settings.SITE_URL))
    assert link.startswith(f"{settings.SITE_URL}/en/")
    assert link in message.alternatives[0][0]
    effect = submission.side_effects.get(kind=SideEffect.Kind.OPTIN_EMAIL)
    assert (effect.status, effect.attempts) == (SideEffect.Status.DONE, 1)
    assert effect.done_at is not None
    # Sent once: processing again sends nothing.
    assert effects_process(submission.pk) == 0
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_staff_are_notified_with_a_link_to_the_audited_admin_page_and_no_personal_data() -> None:
    StaffFactory(username="prensa", email="prensa@villaclara.example")
    StaffFactory(username="movilidad", email="movilidad@villaclara.example")
    form = newsletter_form(
        notify_emails="prensa@villaclara.example, movilidad@villaclara.example", double_opt_in=False
    )
    submission = submit(form, email="ana@correo.example", nombre="Anabel", utm_source="boletin")

    effects_process(submission.pk)

    message = mail.outbox[0]
    assert message.to == ["prensa@villaclara.example", "movilidad@villaclara.example"]
    assert form.name in message.subject
    html = str(message.alternatives[0][0])
    url = f"{settings.SITE_URL}/es/admin/conversion/submission/{submission.pk}/change/"
    for text in (message.body, html):
        assert url in text
        assert "ana@correo.example" not in text and "Anabel" not in text
        assert "boletin" not in text


@pytest.mark.django_db
def test_staff_notifications_go_to_active_staff_accounts_only() -> None:
    StaffFactory(username="prensa", email="prensa@villaclara.example")
    StaffFactory(username="antigua", email="antigua@villaclara.example", is_active=False)
    form = newsletter_form(
        notify_emails="antigua@villaclara.example, prensa@villaclara.example, otro@fuera.example",
        double_opt_in=False,
    )
    submission = submit(form, email="ana@correo.example")

    effects_process(submission.pk)

    [message] = mail.outbox
    assert message.to == ["prensa@villaclara.example"]


@pytest.mark.django_db
def test_the_webhook_is_posted_signed_with_hmac(receiver: Receiver) -> None:
    form = newsletter_form(webhook_url=receiver.url, webhook_secret=SECRET, double_opt_in=False)
    submission = submit(form, email="ana@correo.example", nombre="Ana")

    effects_process(submission.pk)

    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert signature_is_valid(request, SECRET)  # as docs/webhooks.md tells receivers
    assert not signature_is_valid(request, SECRET, now=time.time() + 301)  # no replays
    payload = json.loads(request["body"])
    assert payload["submission"] == submission.pk
    assert payload["form"] == form.slug
    assert payload["values"]["nombre"] == "Ana"
    assert submission.side_effects.get(kind="webhook").status == SideEffect.Status.DONE


@pytest.mark.django_db
def test_a_failing_webhook_is_retried_with_backoff_then_given_up(receiver: Receiver) -> None:
    receiver.status = 500
    form = newsletter_form(webhook_url=receiver.url, webhook_secret=SECRET, double_opt_in=False)
    submission = submit(form, email="ana@correo.example")

    effects_process(submission.pk)

    effect = submission.side_effects.get(kind="webhook")
    assert (effect.status, effect.attempts) == (SideEffect.Status.PENDING, 1)
    assert "500" in effect.last_error
    waited = (effect.next_attempt_at - timezone.now()).total_seconds()
    assert 50 < waited <= 60  # one minute
    # Not due yet: the sweeper leaves it alone.
    assert effects_due() == 0 and len(receiver.requests) == 1
    delays = []
    for _attempt in range(5):
        effects_due(now=effect.next_attempt_at)
        previous = effect.next_attempt_at
        effect.refresh_from_db()
        delays.append(round((effect.next_attempt_at - previous).total_seconds() / 60))
    assert effect.status == SideEffect.Status.FAILED
    assert effect.attempts == 6
    assert len(receiver.requests) == 6
    assert delays[:4] == [2, 4, 8, 16]


@pytest.mark.django_db
def test_a_redirecting_webhook_counts_as_a_failure(receiver: Receiver) -> None:
    receiver.status = 302
    form = newsletter_form(webhook_url=receiver.url, webhook_secret=SECRET, double_opt_in=False)
    submission = submit(form, email="ana@correo.example")
    effects_process(submission.pk)
    webhook = submission.side_effects.get(kind="webhook")
    assert (webhook.attempts, webhook.status) == (1, SideEffect.Status.PENDING)


@pytest.mark.django_db
def test_the_sweeper_sends_what_a_broker_outage_left_pending(
    broker_down: None, django_capture_on_commit_callbacks: Any, receiver: Receiver
) -> None:
    StaffFactory(username="prensa", email="prensa@villaclara.example")
    form = newsletter_form(
        notify_emails="prensa@villaclara.example", webhook_url=receiver.url, webhook_secret=SECRET
    )
    with django_capture_on_commit_callbacks(execute=True):
        submission = submit(form, email="ana@correo.example", boletin=True)
    assert set(submission.side_effects.values_list("status", flat=True)) == {"pending"}
    assert mail.outbox == [] and receiver.requests == []

    # The periodic task, run as beat would once the broker is back: the submission applied, the
    # opt-in e-mail, the staff notification and the webhook.
    assert effects_sweep() == 4

    assert set(submission.side_effects.values_list("status", flat=True)) == {"done"}
    assert len(mail.outbox) == 2 and len(receiver.requests) == 1
    assert effects_sweep() == 0


@pytest.mark.django_db
def test_the_sweeper_drains_every_batch_in_one_tick_over_one_smtp_connection(
    smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conversion import outbox

    monkeypatch.setattr(outbox, "SWEEP_BATCH", 3)
    form = newsletter_form()
    for number in range(7):  # on-commit hooks never run here: as if the broker had been down
        submit(form, email=f"vecina{number}@correo.example", boletin=True)
    assert smtp_sink.recipients == []

    assert effects_sweep() == 14  # 7 applied, 7 e-mails

    assert sorted(smtp_sink.recipients) == [f"vecina{n}@correo.example" for n in range(7)]
    assert smtp_sink.connections == 1  # batches of 3, 3 and 1 share the sweep's connection
    assert not SideEffect.objects.exclude(status=SideEffect.Status.DONE).exists()
    assert effects_sweep() == 0


@pytest.mark.django_db
def test_each_citizen_gets_a_whole_message_of_their_own_over_smtp(
    smtp_sink: SmtpSink, client: Any
) -> None:
    """The relay renders a form's opt-in once per language and joins each copy's bytes: every
    copy must still be a complete message with its own address, Message-ID and links."""
    TopicFactory(slug="movilidad")
    form = newsletter_form()
    citizens = [("es", "lucia@correo.example"), ("en", "ana@correo.example")]
    citizens += [("es", "nuria@cañada.example")]  # an IDN address: left to Django
    submissions = {
        address: submit(form, language=language, email=address, temas=["movilidad"], boletin=True)
        for language, address in citizens
    }

    assert effects_sweep() == 6  # 3 applied, 3 e-mails

    def on_the_wire(address: str) -> str:  # the domain as DNS knows it (IDNA)
        local, domain = address.split("@")
        return f"{local}@{domain.encode('idna').decode()}"

    parsed = [email.message_from_bytes(m, policy=email.policy.default) for m in smtp_sink.messages]
    sent_to = {on_the_wire(address): address for _language, address in citizens}
    assert sorted(str(m["To"]) for m in parsed) == sorted(sent_to)
    assert len({m["Message-ID"] for m in parsed}) == 3
    for message in parsed:
        assert email.utils.parsedate_to_datetime(str(message["Date"])) is not None
        address = sent_to[str(message["To"])]
        language = {a: lang for lang, a in citizens}[address]
        subject = "Confirma tu suscripción" if language == "es" else "Confirm your subscription"
        assert str(message["Subject"]).strip().startswith(subject)
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        link = next(word for word in text.split() if word.startswith(settings.SITE_URL))
        token = link.rstrip("/").rsplit("/", 1)[1]
        assert optin_read(token) == submissions[address]  # this citizen's own signed link
        assert f'href="{link}"' in html and f'lang="{language}"' in html
        page = client.get(link.removeprefix(settings.SITE_URL))
        assert page.status_code == 200
        assert (
            "Yes, confirm my subscription" in page.content.decode()
            if language == "en"
            else "Sí, confirmar mi suscripción" in page.content.decode()
        )


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_optin_email(
    celery_worker_process: Any, worker_smtp_sink: SmtpSink
) -> None:
    """The relay task runs in a real worker process, which sends over SMTP to the sink."""
    address = f"vecina-{uuid.uuid4().hex[:8]}@correo.example"
    with transaction.atomic():
        submission = submit(newsletter_form(), email=address, boletin=True)
    effects_sweep.delay()  # beat's 2-second tick of the outbox relay

    deadline = time.monotonic() + 60
    effect = None
    while time.monotonic() < deadline:
        effect = submission.side_effects.filter(kind=SideEffect.Kind.OPTIN_EMAIL).first()
        if effect is not None and effect.status == SideEffect.Status.DONE:
            break
        time.sleep(0.2)
    assert effect is not None and effect.status == SideEffect.Status.DONE
    assert worker_smtp_sink.recipients.count(address) == 1
    parsed = [
        email.message_from_bytes(m, policy=email.policy.default)
        for m in worker_smtp_sink.messages
    ]
    message = next(m for m in parsed if str(m["To"]) == address)
    assert str(message["Subject"]).strip().startswith("Confirma tu suscripción")
