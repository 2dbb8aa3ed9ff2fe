"""The headers of a campaign message: List-Id (RFC 2919), List-Unsubscribe with https and mailto
(RFC 2369, 8058), the return path as the SMTP envelope sender, and an optional DKIM signature
that verifies against the public key."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path
from typing import Any

import dkim
import pytest
from django.core.exceptions import ImproperlyConfigured

from campaigns.models import Campaign
from campaigns.sending import campaign_start, campaigns_send_due
from campaigns.unsubscribe import unsubscribe_read
from contacts.models import ConsentRecord, Contact, Subscription
from inbound.lib.dkim_signing import dkim_signer
from tests.campaigns.test_sending import campaign_for, parsed, subscriber, token_of
from tests.contacts.factories import TopicFactory, grant
from tests.smtp import SmtpSink

pytestmark = pytest.mark.django_db

PERSONAL_SUBJECT = "{{ contact.first_name|default:&quot;Vecina&quot; }}, fiestas de San Blas"


def sent_message(sink: SmtpSink, contact: Contact, **campaign_fields: Any) -> bytes:
    campaign = campaign_for(contact, **campaign_fields)
    campaign_start(campaign=campaign)
    campaigns_send_due()
    (raw,) = sink.messages
    return raw


def with_subject(campaign: Campaign, subject: str) -> Campaign:
    campaign.email.subject_es = subject
    campaign.email.save()
    return campaign


@pytest.fixture(params=["joined", "assembled"])
def send(request: pytest.FixtureRequest, smtp_sink: SmtpSink) -> Any:
    """Sends one campaign to a contact; both ways a message is made: joined from the compiled
    bytes, or assembled by Django (a personal subject)."""

    def sender(contact: Contact) -> bytes:
        campaign = campaign_for(contact)
        if request.param == "assembled":
            with_subject(campaign, PERSONAL_SUBJECT)
        campaign_start(campaign=campaign)
        campaigns_send_due()
        (raw,) = smtp_sink.messages
        return raw

    return sender


def test_the_newsletter_has_a_list_id_under_the_sites_domain(
    smtp_sink: SmtpSink, settings: Any
) -> None:
    settings.SITE_URL = "https://www.villaclara.example"

    message = parsed(sent_message(smtp_sink, subscriber()))

    assert message["List-Id"] == (
        "Boletín · Ayuntamiento de Villaclara del Río <newsletter.list.www.villaclara.example>"
    )


def test_a_topic_bulletin_has_the_topics_own_list_id(smtp_sink: SmtpSink, settings: Any) -> None:
    settings.SITE_URL = "https://villaclara.example"
    obras = TopicFactory(slug="obras", name="Obras, tráfico y calles")
    contact = subscriber()
    Subscription.objects.create(contact=contact, topic=obras, status="active")
    grant(contact, ConsentRecord.Purpose.TOPIC, obras)

    message = parsed(sent_message(smtp_sink, contact, purpose=Campaign.Purpose.TOPIC, topic=obras))

    assert message["List-Id"] == "Obras, tráfico y calles <obras.topic.list.villaclara.example>"


def test_list_unsubscribe_offers_https_and_mailto_with_the_same_token(
    send: Any, settings: Any
) -> None:
    settings.CAMPAIGNS_UNSUBSCRIBE_MAILTO = "baja@villaclara.example"
    contact = subscriber()

    message = parsed(send(contact))

    https, mailto = [part.strip().strip("<>") for part in message["List-Unsubscribe"].split(",")]
    token = token_of(https)
    assert mailto == f"mailto:baja@villaclara.example?subject=unsubscribe%20{token}"
    assert unsubscribe_read(token)[0] == contact
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_without_a_mailto_address_list_unsubscribe_is_the_https_link_alone(
    smtp_sink: SmtpSink,
) -> None:
    message = parsed(sent_message(smtp_sink, subscriber()))

    assert "mailto:" not in message["List-Unsubscribe"]
    assert message["List-Unsubscribe"].startswith("<http")


def test_the_return_path_is_the_envelope_sender_and_from_stays(
    send: Any, smtp_sink: SmtpSink, settings: Any
) -> None:
    settings.CAMPAIGNS_RETURN_PATH = "rebotes@villaclara.example"

    message = parsed(send(subscriber()))

    assert smtp_sink.senders == ["rebotes@villaclara.example"]
    assert message["From"].addresses[0].addr_spec == "atencion@villaclara.example"


# --- DKIM -------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def dkim_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """A fresh 2048-bit RSA key (OpenSSL), and its DNS TXT record."""
    key = tmp_path_factory.mktemp("dkim") / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    public = subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    return key, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


@pytest.fixture
def dkim_on(settings: Any, dkim_key: tuple[Path, bytes]) -> Any:
    settings.CAMPAIGNS_DKIM_PRIVATE_KEY = str(dkim_key[0])
    settings.CAMPAIGNS_DKIM_SELECTOR = "campanas"
    settings.CAMPAIGNS_DKIM_DOMAIN = "villaclara.example"

    def dns(name: bytes, timeout: int = 5) -> bytes | None:
        return dkim_key[1] if name == b"campanas._domainkey.villaclara.example." else None

    return dns


def test_a_signed_message_verifies_against_the_public_key(send: Any, dkim_on: Any) -> None:
    raw = send(subscriber())

    assert raw.startswith(b"DKIM-Signature: ")
    assert dkim.verify(raw, dnsfunc=dkim_on)
    signature = parsed(raw)["DKIM-Signature"]
    signed = {name.strip() for name in signature.split("h=")[1].split(";")[0].split(":")}
    # RFC 8058: one-click unsubscribing counts only when both headers are signed.
    assert {"list-unsubscribe", "list-unsubscribe-post", "from", "subject"} <= signed
    # A changed byte breaks it: the signature covers what was sent.
    assert not dkim.verify(raw.replace(b"San Blas", b"San Bias", 1), dnsfunc=dkim_on)


def test_without_dkim_settings_nothing_is_signed(smtp_sink: SmtpSink) -> None:
    assert b"DKIM-Signature" not in sent_message(smtp_sink, subscriber())


def test_dkim_settings_given_in_part_or_a_bad_key_fail_loudly(settings: Any) -> None:
    settings.CAMPAIGNS_DKIM_SELECTOR = "campanas"
    with pytest.raises(ImproperlyConfigured, match="all three or none"):
        dkim_signer()
    settings.CAMPAIGNS_DKIM_DOMAIN = "villaclara.example"
    settings.CAMPAIGNS_DKIM_PRIVATE_KEY = (
        "-----BEGIN PRIVATE KEY-----\\nAAAA\\n-----END PRIVATE KEY-----"
    )
    with pytest.raises(ImproperlyConfigured, match="not an RSA private key"):
        dkim_signer()
    settings.CAMPAIGNS_DKIM_PRIVATE_KEY = "/nonexistent/dkim.pem"
    with pytest.raises(ImproperlyConfigured, match="can not read"):
        dkim_signer()
