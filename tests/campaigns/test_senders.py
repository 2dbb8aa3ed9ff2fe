"""Verified senders: an address e-mails campaigns only after its owner followed the link sent to
it; a verified sender is the From of the campaign, its name encoded as mail needs."""

from __future__ import annotations

import re
import time
from email.headerregistry import Address
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Sender
from campaigns.rendering import CampaignRenderer
from campaigns.sender_links import sender_token
from campaigns.sending import campaign_start, campaigns_send_due
from inbound.celery import app as celery_app
from tests.campaigns.test_sending import campaign_for, parsed, subscriber
from tests.smtp import SmtpSink

pytestmark = pytest.mark.django_db

NAME = "Ayuntamiento de Villaclara del Río"


@pytest.fixture
def eager_celery(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run enqueued tasks in-process, so their e-mails land in the test outbox."""
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


def link_in(message: Any) -> str:
    match = re.search(r"https?://\S+", message.body)
    assert match is not None, message.body
    return match.group(0)


def verify_link(sender: Sender) -> str:
    return reverse("campaigns:sender-verify", kwargs={"token": sender_token(sender=sender)})


def add_sender(client: Client, capture: Any, **data: str) -> Any:
    with capture(execute=True):
        return client.post(reverse("admin:campaigns_sender_add"), data, follow=True)


def test_adding_a_sender_emails_a_link_that_verifies_it_only_when_confirmed(
    client: Client, marketer: Any, eager_celery: None, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(marketer)

    response = add_sender(
        client, django_capture_on_commit_callbacks, name=NAME, email="cultura@villaclara.example"
    )

    assert "Hemos enviado un enlace a cultura@villaclara.example" in response.content.decode()
    sender = Sender.objects.get(email="cultura@villaclara.example")
    assert not sender.is_verified
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["cultura@villaclara.example"]
    assert mail.outbox[0].subject.startswith("Confirma cultura@villaclara.example como remitente")
    link = link_in(mail.outbox[0])
    visitor = Client()  # the owner of the address: not logged in

    page = visitor.get(link)

    assert page.status_code == 200
    assert "¿Confirmas que se pueden enviar campañas de correo" in page.content.decode()
    assert page["X-Robots-Tag"] == "noindex, nofollow"
    sender.refresh_from_db()
    assert not sender.is_verified  # a mail scanner opening the link verifies nothing

    done = visitor.post(link)

    assert done.status_code == 200
    assert "Dirección confirmada" in done.content.decode()
    sender.refresh_from_db()
    assert sender.is_verified


def test_a_tampered_link_is_not_found_and_verifies_nothing(client: Client) -> None:
    sender = Sender.objects.create(name=NAME, email="cultura@villaclara.example")
    token = sender_token(sender=sender)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    url = reverse("campaigns:sender-verify", kwargs={"token": forged})

    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    sender.refresh_from_db()
    assert not sender.is_verified


def test_an_expired_link_says_so_and_verifies_nothing(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    sender = Sender.objects.create(name=NAME, email="cultura@villaclara.example")
    url = verify_link(sender)
    later = time.time() + 8 * 24 * 3600
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)

    response = client.post(url)

    assert response.status_code == 410
    assert "Este enlace ha caducado" in response.content.decode()
    sender.refresh_from_db()
    assert not sender.is_verified


def test_changing_the_address_asks_for_verification_again_and_voids_the_old_link(
    client: Client, marketer: Any, eager_celery: None, django_capture_on_commit_callbacks: Any
) -> None:
    sender = Sender.objects.create(
        name=NAME, email="cultura@villaclara.example", verified_at=timezone.now()
    )
    old_link = verify_link(sender)
    client.force_login(marketer)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:campaigns_sender_change", args=[sender.pk]),
            {"name": NAME, "email": "otra@villaclara.example"},
        )

    sender.refresh_from_db()
    assert sender.email == "otra@villaclara.example" and not sender.is_verified
    assert [message.to for message in mail.outbox] == [["otra@villaclara.example"]]
    assert Client().post(old_link).status_code == 404
    sender.refresh_from_db()
    assert not sender.is_verified


def test_the_admin_sends_the_link_again_to_unverified_senders_only(
    client: Client, marketer: Any, eager_celery: None, django_capture_on_commit_callbacks: Any
) -> None:
    waiting = Sender.objects.create(name="Cultura", email="cultura@villaclara.example")
    verified = Sender.objects.create(
        name="Deportes", email="deportes@villaclara.example", verified_at=timezone.now()
    )
    client.force_login(marketer)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:campaigns_sender_changelist"),
            {"action": "resend_verification", "_selected_action": [waiting.pk, verified.pk]},
            follow=True,
        )

    assert [message.to for message in mail.outbox] == [["cultura@villaclara.example"]]
    assert "ya está verificado" in response.content.decode()


def test_a_name_with_a_line_break_is_refused(client: Client, marketer: Any) -> None:
    client.force_login(marketer)

    response = client.post(
        reverse("admin:campaigns_sender_add"),
        {"name": "Cultura\r\nBcc: todos@example.com", "email": "cultura@villaclara.example"},
    )

    assert response.status_code == 200
    assert "no puede tener saltos de línea" in response.content.decode()
    assert not Sender.objects.exists()


def from_address(raw: bytes) -> Address:
    (address,) = parsed(raw)["From"].addresses
    return address


def test_a_verified_sender_is_the_from_of_the_campaign_with_its_name_encoded(
    smtp_sink: SmtpSink,
) -> None:
    lucia = subscriber(email="lucia@correo.example")
    campaign = campaign_for(lucia)
    campaign.email.sender = Sender.objects.create(
        name=NAME, email="cultura@villaclara.example", verified_at=timezone.now()
    )
    campaign.email.save()

    # The joined fast path holds with a display name in From: it is part of the template.
    assert CampaignRenderer(campaign).message(lucia).raw is not None

    campaign_start(campaign=campaign)
    campaigns_send_due()

    (raw,) = smtp_sink.messages
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()  # the name is RFC 2047-encoded, not raw UTF-8
    address = from_address(raw)
    assert (address.display_name, address.addr_spec) == (NAME, "cultura@villaclara.example")
    assert smtp_sink.senders == ["cultura@villaclara.example"]  # no return path: the From


def test_an_unverified_sender_is_not_used_the_institution_address_is(smtp_sink: SmtpSink) -> None:
    campaign = campaign_for(subscriber(email="lucia@correo.example"))
    campaign.email.sender = Sender.objects.create(
        name="Cultura", email="cultura@villaclara.example"
    )
    campaign.email.save()

    campaign_start(campaign=campaign)
    campaigns_send_due()

    address = from_address(smtp_sink.messages[0])
    assert (address.display_name, address.addr_spec) == (NAME, "atencion@villaclara.example")
