"""Bounces and complaints suppress the address: reported by an ESP through anymail's webhooks
(Postmark's real payloads, posted to the real URL with basic auth) or answered by the SMTP
server at send time; the mailto: unsubscribe arrives through the ESP's inbound webhook."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from campaigns.audience import campaign_audience
from campaigns.models import Campaign, Delivery
from campaigns.sending import campaign_start, campaigns_send_due
from campaigns.unsubscribe import unsubscribe_token
from contacts.models import ConsentRecord, Contact, Subscription, Touchpoint
from contacts.selectors import consent_is_granted
from tests.campaigns.test_sending import campaign_for, subscriber
from tests.contacts.factories import ContactFactory, TopicFactory, grant
from tests.smtp import SmtpSink

pytestmark = pytest.mark.django_db

SECRET = "postmark:clave-de-prueba"
TRACKING = "anymail:postmark_tracking_webhook"


def auth(secret: str = SECRET) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()}


@pytest.fixture
def esp(settings: Any) -> None:
    """Sending through an anymail ESP backend, its webhooks protected by basic auth."""
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}


def sent_to(contact: Contact) -> Delivery:
    campaign = campaign_for(contact)
    campaign_start(campaign=campaign)
    campaigns_send_due()
    return campaign.deliveries.get()


def bounce(message_id: str, email: str, bounce_type: str = "HardBounce") -> dict[str, Any]:
    """Postmark's bounce webhook, as its documentation shows it."""
    return {
        "RecordType": "Bounce",
        "ID": 4323372036854775807,
        "Type": bounce_type,
        "TypeCode": 1 if bounce_type == "HardBounce" else 4096,
        "Name": "Hard bounce",
        "Tag": "",
        "MessageID": message_id,
        "Metadata": {},
        "ServerID": 23,
        "MessageStream": "broadcast",
        "Description": "The server was unable to deliver your message (ex: unknown user).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": email,
        "From": "atencion@villaclara.example",
        "BouncedAt": "2026-03-05T16:33:54.9070259Z",
        "DumpAvailable": True,
        "Inactive": True,
        "CanActivate": True,
        "Subject": "Fiestas de San Blas",
    }


def complaint(message_id: str, email: str) -> dict[str, Any]:
    return {
        **bounce(message_id, email),
        "RecordType": "SpamComplaint",
        "Type": "SpamComplaint",
        "TypeCode": 512,
        "Name": "Spam complaint",
        "Description": "The subscriber explicitly marked this message as spam.",
        "Details": "Test spam complaint details",
    }


def post(client: Client, payload: Any, **headers: str) -> Any:
    body = payload if isinstance(payload, str) else json.dumps(payload)
    return client.post(
        reverse(TRACKING), body, content_type="application/json", **(headers or auth())
    )


def kinds(contact: Contact) -> list[str]:
    return sorted(Touchpoint.objects.filter(contact=contact).values_list("kind", flat=True))


def test_a_hard_bounce_suppresses_the_address_and_marks_the_delivery(
    client: Client, esp: None
) -> None:
    lucia = subscriber(email="lucia@correo.example")
    delivery = sent_to(lucia)
    # The id the ESP gave when it took the message is what its webhooks quote.
    assert delivery.message_id == str(mail.outbox[0].anymail_status.message_id)
    ledger = lucia.consents.count()

    response = post(client, bounce(delivery.message_id, "lucia@correo.example"))

    assert response.status_code == 200
    lucia.refresh_from_db()
    delivery.refresh_from_db()
    assert lucia.email_status == Contact.EmailStatus.BOUNCED
    assert delivery.status == Delivery.Status.BOUNCED and "5.1.1" in delivery.error
    touchpoint = Touchpoint.objects.get(contact=lucia, kind="email_bounced")
    assert touchpoint.properties["campaign"] == delivery.campaign_id
    assert touchpoint.properties["source"] == "postmark"
    # A bounce withdraws no consent: the person asked for nothing.
    assert lucia.consents.count() == ledger
    # The same report again changes nothing more.
    assert post(client, bounce(delivery.message_id, "lucia@correo.example")).status_code == 200
    assert kinds(lucia).count("email_bounced") == 1
    # And the next campaign leaves the address out.
    later = campaign_for(lucia, subscriber(email="ana@correo.example"))
    assert list(campaign_audience(campaign=later).values_list("email", flat=True)) == [
        "ana@correo.example"
    ]


def test_a_complaint_withdraws_consent_like_an_unsubscribe(client: Client, esp: None) -> None:
    lucia = subscriber(email="lucia@correo.example")
    delivery = sent_to(lucia)

    assert post(client, complaint(delivery.message_id, "lucia@correo.example")).status_code == 200

    lucia.refresh_from_db()
    delivery.refresh_from_db()
    assert lucia.email_status == Contact.EmailStatus.COMPLAINED
    assert delivery.status == Delivery.Status.COMPLAINED
    assert not consent_is_granted(contact=lucia, purpose=ConsentRecord.Purpose.NEWSLETTER)
    withdrawal = lucia.consents.latest("pk")
    assert (withdrawal.action, withdrawal.source, withdrawal.text_version) == (
        "withdrawn",
        "email",
        "complaint-1",
    )
    assert withdrawal.text == "Marcó nuestro correo como spam en su proveedor de correo."
    assert kinds(lucia) == ["email_complained", "email_sent"]
    post(client, complaint(delivery.message_id, "lucia@correo.example"))
    assert lucia.consents.count() == 2 and kinds(lucia).count("email_complained") == 1


@pytest.mark.parametrize("bounce_type", ["SoftBounce", "Transient"])
def test_a_soft_bounce_suppresses_nothing(client: Client, esp: None, bounce_type: str) -> None:
    lucia = subscriber(email="lucia@correo.example")
    delivery = sent_to(lucia)
    payload = bounce(delivery.message_id, "lucia@correo.example", bounce_type)
    payload["Details"] = "smtp;452 4.2.2 The email account that you tried to reach is over quota."

    assert post(client, payload).status_code == 200

    lucia.refresh_from_db()
    delivery.refresh_from_db()
    assert lucia.email_status == Contact.EmailStatus.ACTIVE
    assert delivery.status == Delivery.Status.SENT


def test_a_bounce_of_an_unknown_message_finds_the_contact_by_address(
    client: Client, esp: None
) -> None:
    lucia = subscriber(email="lucia@correo.example")

    response = post(client, bounce("3a5e1f5c-0000-4f1e-8f00-unknown", "Lucia@Correo.EXAMPLE"))

    assert response.status_code == 200
    lucia.refresh_from_db()
    assert lucia.email_status == Contact.EmailStatus.BOUNCED
    assert kinds(lucia) == ["email_bounced"]


def test_a_bounce_of_an_address_the_contact_changed_since_marks_only_the_delivery(
    client: Client, esp: None
) -> None:
    lucia = subscriber(email="lucia@correo.example")
    delivery = sent_to(lucia)
    Contact.objects.filter(pk=lucia.pk).update(email="lucia@nuevo.example")

    post(client, bounce(delivery.message_id, "lucia@correo.example"))

    lucia.refresh_from_db()
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.BOUNCED
    assert lucia.email_status == Contact.EmailStatus.ACTIVE


def test_an_unsubscribe_at_the_esp_is_our_unsubscribe(client: Client, esp: None) -> None:
    lucia = subscriber(email="lucia@correo.example")
    delivery = sent_to(lucia)
    change = {
        "RecordType": "SubscriptionChange",
        "MessageID": delivery.message_id,
        "ServerID": 23,
        "MessageStream": "broadcast",
        "ChangedAt": "2026-03-05T16:40:00Z",
        "Recipient": "lucia@correo.example",
        "Origin": "Recipient",
        "SuppressSending": True,
        "SuppressionReason": "ManualSuppression",
        "Tag": "",
        "Metadata": {},
    }

    assert post(client, change).status_code == 200

    assert not consent_is_granted(contact=lucia, purpose=ConsentRecord.Purpose.NEWSLETTER)
    touchpoint = Touchpoint.objects.get(contact=lucia, kind="unsubscribe")
    assert touchpoint.properties["campaign"] == delivery.campaign_id


@pytest.mark.parametrize(
    "headers",
    [auth("postmark:otra-clave"), {}],
    ids=["wrong password", "no credentials"],
)
def test_a_webhook_without_the_right_credentials_is_refused_and_changes_nothing(
    client: Client, esp: None, headers: dict[str, str]
) -> None:
    lucia = subscriber(email="lucia@correo.example")
    payload = json.dumps(bounce("x", "lucia@correo.example"))

    response = client.post(reverse(TRACKING), payload, content_type="application/json", **headers)

    assert response.status_code == 400
    lucia.refresh_from_db()
    assert lucia.email_status == Contact.EmailStatus.ACTIVE and kinds(lucia) == []


@pytest.mark.parametrize("body", ['{"RecordType": "Bounce", ', "\xff\xfe", "[1, 2]"])
def test_an_unreadable_payload_is_a_bad_request_and_changes_nothing(
    client: Client, esp: None, body: str
) -> None:
    lucia = subscriber(email="lucia@correo.example")

    response = post(client, body)

    assert response.status_code == 400
    lucia.refresh_from_db()
    assert lucia.email_status == Contact.EmailStatus.ACTIVE and kinds(lucia) == []


def test_the_webhooks_are_off_until_a_secret_is_set(client: Client, settings: Any) -> None:
    settings.ANYMAIL = {}
    lucia = subscriber(email="lucia@correo.example")

    response = post(client, bounce("x", "lucia@correo.example"))

    assert response.status_code == 404
    lucia.refresh_from_db()
    assert lucia.email_status == Contact.EmailStatus.ACTIVE


# --- The mailto: unsubscribe -----------------------------------------------------------------


def inbound(subject: str) -> dict[str, Any]:
    """Postmark's inbound webhook for a message sent to the List-Unsubscribe mailto: address."""
    address = {"Email": "baja@villaclara.example", "Name": "", "MailboxHash": ""}
    return {
        "FromName": "Lucía",
        "MessageStream": "inbound",
        "From": "lucia@correo.example",
        "FromFull": {"Email": "lucia@correo.example", "Name": "Lucía", "MailboxHash": ""},
        "To": "baja@villaclara.example",
        "ToFull": [address],
        "Cc": "",
        "CcFull": [],
        "Bcc": "",
        "BccFull": [],
        "OriginalRecipient": "baja@villaclara.example",
        "Subject": subject,
        "MessageID": "73e6d360-66eb-11e1-8e72-a8904824019b",
        "ReplyTo": "",
        "MailboxHash": "",
        "Date": "Thu, 5 Mar 2026 16:45:32 +0100",
        "TextBody": "",
        "HtmlBody": "",
        "StrippedTextReply": "",
        "Tag": "",
        "Headers": [{"Name": "X-Spam-Status", "Value": "No"}],
        "Attachments": [],
    }


def test_a_message_to_the_mailto_address_unsubscribes_with_its_token(
    client: Client, esp: None
) -> None:
    lucia = subscriber(email="lucia@correo.example")
    campaign = campaign_for(lucia)
    token = unsubscribe_token(contact=lucia, campaign=campaign)

    response = client.post(
        reverse("anymail:postmark_inbound_webhook"),
        json.dumps(inbound(f"unsubscribe {token}")),
        content_type="application/json",
        **auth(),
    )

    assert response.status_code == 200
    assert not consent_is_granted(contact=lucia, purpose=ConsentRecord.Purpose.NEWSLETTER)
    assert kinds(lucia) == ["unsubscribe"]


def test_a_message_with_a_forged_token_unsubscribes_nobody(client: Client, esp: None) -> None:
    lucia = subscriber(email="lucia@correo.example")
    token = unsubscribe_token(contact=lucia, campaign=campaign_for(lucia))

    response = client.post(
        reverse("anymail:postmark_inbound_webhook"),
        json.dumps(inbound(f"unsubscribe {token[:-3]}xyz")),
        content_type="application/json",
        **auth(),
    )

    assert response.status_code == 200
    assert consent_is_granted(contact=lucia, purpose=ConsentRecord.Purpose.NEWSLETTER)
    assert kinds(lucia) == []


# --- Bounces at send time --------------------------------------------------------------------


def test_a_user_unknown_answer_at_send_time_bounces_and_suppresses_the_address(
    smtp_sink: SmtpSink,
) -> None:
    gone = subscriber(email="nadie@correo.example")
    smtp_sink.answers["nadie@correo.example"] = "550 5.1.1 <nadie@correo.example>: user unknown"

    delivery = sent_to(gone)

    gone.refresh_from_db()
    assert delivery.status == Delivery.Status.BOUNCED and "5.1.1" in delivery.error
    assert gone.email_status == Contact.EmailStatus.BOUNCED
    assert Touchpoint.objects.get(contact=gone, kind="email_bounced").properties["source"] == "smtp"
    assert consent_is_granted(contact=gone, purpose=ConsentRecord.Purpose.NEWSLETTER)


def test_a_policy_refusal_at_send_time_fails_the_delivery_but_keeps_the_address(
    smtp_sink: SmtpSink,
) -> None:
    lucia = subscriber(email="lucia@correo.example")
    smtp_sink.answers["lucia@correo.example"] = "550 5.7.1 Message rejected by policy"

    delivery = sent_to(lucia)

    lucia.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED and "5.7.1" in delivery.error
    assert lucia.email_status == Contact.EmailStatus.ACTIVE


def test_a_complaint_about_a_topic_bulletin_withdraws_that_topic_only(
    client: Client, esp: None
) -> None:
    obras, cultura = TopicFactory(slug="obras"), TopicFactory(slug="cultura")
    lucia = ContactFactory(email="lucia@correo.example")
    for topic in (obras, cultura):
        Subscription.objects.create(contact=lucia, topic=topic, status="active")
        grant(lucia, ConsentRecord.Purpose.TOPIC, topic)
    campaign = campaign_for(lucia, purpose=Campaign.Purpose.TOPIC, topic=obras)
    campaign_start(campaign=campaign)
    campaigns_send_due()
    delivery = campaign.deliveries.get()

    post(client, complaint(delivery.message_id, "lucia@correo.example"))

    statuses = dict(lucia.subscriptions.values_list("topic__slug", "status"))
    assert statuses == {"obras": "unsubscribed", "cultura": "active"}
