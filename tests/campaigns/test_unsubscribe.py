"""Unsubscribing from a campaign e-mail: one click from the mail program (RFC 8058) or our page,
recorded in the consent ledger and the timeline; a forged link does nothing."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from campaigns.models import Campaign
from campaigns.unsubscribe import unsubscribe_token
from contacts.models import ConsentRecord, Contact, Subscription, Touchpoint
from contacts.selectors import consent_is_granted
from tests.campaigns.test_sending import campaign_for, subscriber
from tests.contacts.factories import ContactFactory, TopicFactory, grant

pytestmark = pytest.mark.django_db


def link(contact: Contact, campaign: Campaign) -> str:
    token = unsubscribe_token(contact=contact, campaign=campaign)
    return reverse("campaigns:unsubscribe", kwargs={"token": token})


def unsubscribes(contact: Contact) -> int:
    return Touchpoint.objects.filter(contact=contact, kind="unsubscribe").count()


def test_the_mail_programs_one_click_post_unsubscribes_without_cookies() -> None:
    contact = subscriber()
    campaign = campaign_for(contact)
    client = Client(enforce_csrf_checks=True)

    response = client.post(link(contact, campaign), {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert not consent_is_granted(contact=contact, purpose=ConsentRecord.Purpose.NEWSLETTER)
    withdrawal = contact.consents.latest("pk")
    assert (withdrawal.action, withdrawal.source) == ("withdrawn", "email")
    touchpoint = Touchpoint.objects.get(contact=contact, kind="unsubscribe")
    assert touchpoint.properties["campaign"] == campaign.pk
    # Again (mail programs retry): nothing more is recorded.
    assert (
        client.post(link(contact, campaign), {"List-Unsubscribe": "One-Click"}).status_code == 200
    )
    assert unsubscribes(contact) == 1 and contact.consents.count() == 2


def test_the_withdrawal_in_the_ledger_keeps_no_ip_derived_value() -> None:
    """The ledger outlives erasure: a hash of the address there would be a lasting trace."""
    contact = subscriber()
    campaign = campaign_for(contact)

    Client(REMOTE_ADDR="203.0.113.9").post(link(contact, campaign))

    withdrawal = contact.consents.latest("pk")
    assert withdrawal.action == "withdrawn"
    assert withdrawal.ip_hash == ""


def test_opening_the_link_only_asks_and_the_button_unsubscribes(client: Client) -> None:
    contact = subscriber()
    campaign = campaign_for(contact)

    page = client.get(link(contact, campaign))

    assert page.status_code == 200
    assert "¿Quieres dejar de recibir nuestro boletín?" in page.content.decode()
    assert consent_is_granted(contact=contact, purpose=ConsentRecord.Purpose.NEWSLETTER)
    assert page["X-Robots-Tag"] == "noindex, nofollow" and "no-cache" in page["Cache-Control"]

    done = client.post(link(contact, campaign))

    assert done.status_code == 200
    assert "Ya no te enviaremos el boletín." in done.content.decode()
    assert not consent_is_granted(contact=contact, purpose=ConsentRecord.Purpose.NEWSLETTER)


def test_a_topic_bulletin_unsubscribes_from_that_topic_only(client: Client) -> None:
    obras, cultura = TopicFactory(slug="obras"), TopicFactory(slug="cultura")
    contact = ContactFactory()
    grant(contact)  # the newsletter
    for topic in (obras, cultura):
        Subscription.objects.create(contact=contact, topic=topic, status="active")
        grant(contact, ConsentRecord.Purpose.TOPIC, topic)
    campaign = campaign_for(contact, purpose=Campaign.Purpose.TOPIC, topic=obras)

    client.post(link(contact, campaign))

    statuses = dict(contact.subscriptions.values_list("topic__slug", "status"))
    assert statuses == {"obras": "unsubscribed", "cultura": "active"}
    assert not consent_is_granted(contact=contact, purpose="topic", topic=obras)
    assert consent_is_granted(contact=contact, purpose="topic", topic=cultura)
    assert consent_is_granted(contact=contact, purpose="newsletter")


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_forged_or_tampered_link_is_not_found_and_changes_nothing(
    client: Client, method: str
) -> None:
    contact = subscriber()
    campaign = campaign_for(contact)
    real = link(contact, campaign)
    forged = [
        real.replace(
            real.rstrip("/").rsplit(":", 1)[1], "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        ),
        reverse("campaigns:unsubscribe", kwargs={"token": "eyJjIjoxfQ:nope"}),
        reverse("campaigns:unsubscribe", kwargs={"token": "%00<script>"}),
    ]

    for url in forged:
        response = getattr(client, method)(url)
        assert response.status_code == 404
        page = response.content.decode()
        assert "Este enlace no es válido" in page
        assert f'href="{reverse("contacts_public:preferences-request")}"' in page

    assert consent_is_granted(contact=contact, purpose=ConsentRecord.Purpose.NEWSLETTER)
    assert unsubscribes(contact) == 0


def test_a_link_stops_working_once_the_contact_changed_address(client: Client) -> None:
    contact = subscriber(email="antigua@correo.example")
    campaign = campaign_for(contact)
    url = link(contact, campaign)
    Contact.objects.filter(pk=contact.pk).update(email="nueva@correo.example")

    assert client.post(url).status_code == 404
    assert consent_is_granted(contact=contact, purpose=ConsentRecord.Purpose.NEWSLETTER)


def test_the_unsubscribe_page_hands_out_no_preference_link(client: Client) -> None:
    """An unsubscribe link never expires and travels in forwarded mail: its page must not open
    the preference centre; it points to the page that e-mails a link to the address typed."""
    contact = subscriber()
    campaign = campaign_for(contact)
    request_page = reverse("contacts_public:preferences-request")

    asked = client.get(link(contact, campaign)).content.decode()
    done = client.post(link(contact, campaign)).content.decode()

    for page in (asked, done):
        assert f'href="{request_page}"' in page
        assert page.count(request_page) == 2  # that link and the footer's, nothing longer
        assert contact.email not in page


def test_links_sent_before_the_personal_data_key_still_unsubscribe(
    client: Client, settings: Any
) -> None:
    """Unsubscribe links never expire: those in mail sent before fingerprints were keyed on
    PERSONAL_DATA_KEY must go on working once it is set to the old SECRET_KEY (the upgrade
    step of docs/operations.md)."""
    contact = subscriber(email="antigua@correo.example")
    campaign = campaign_for(contact)
    old_key = hashlib.sha256(b"contacts.email_hash:" + settings.SECRET_KEY.encode()).digest()
    old_fingerprint = hmac.new(old_key, b"antigua@correo.example", hashlib.sha256).hexdigest()
    token = signing.Signer(salt="campaigns.unsubscribe").sign_object(
        {"c": contact.pk, "k": campaign.pk, "e": old_fingerprint[:16]}
    )
    settings.PERSONAL_DATA_KEY = settings.SECRET_KEY

    response = client.post(reverse("campaigns:unsubscribe", kwargs={"token": token}))

    assert response.status_code == 200
    assert not consent_is_granted(contact=contact, purpose=ConsentRecord.Purpose.NEWSLETTER)
