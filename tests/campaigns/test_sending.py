"""The sending engine: the audience frozen once, every recipient sent to once over a real SMTP
server, SMTP errors handled, a dead sender's chunk taken over, consent checked at send time."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import logging
from email.message import EmailMessage
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from campaigns.models import Campaign, Delivery, Email
from campaigns.rendering import CampaignRenderer
from campaigns.sending import (
    CampaignNotSendable,
    campaign_start,
    campaigns_send_due,
    deliveries_claim,
    deliveries_send,
)
from campaigns.unsubscribe import unsubscribe_read
from contacts import rights
from contacts.models import ConsentRecord, Contact, Segment
from contacts.segments import static_members_add
from tests.contacts.factories import ContactFactory, grant
from tests.smtp import SmtpSink

pytestmark = pytest.mark.django_db

BODY = (
    "<p>Hola, {{ contact.first_name|default:&quot;vecino/a&quot; }}:</p>"
    '<p>Abre el <a href="https://villaclara.example/es/agenda/">programa de fiestas</a>.</p>'
)


def newsletter_email() -> Email:
    return Email.objects.create(
        name="Fiestas",
        subject_es="Fiestas de San Blas",
        subject_en="San Blas festival",
        body_es=BODY,
        body_en="<p>Hello, {{ contact.first_name|default:&quot;neighbour&quot; }}.</p>",
        preheader_es="Todo el programa",
    )


def subscriber(**fields: Any) -> Contact:
    contact = ContactFactory(**fields)
    grant(contact)
    return contact


def campaign_for(*contacts: Contact, **fields: Any) -> Campaign:
    segment = Segment.objects.create(name=f"Lista {Segment.objects.count()}", kind="static")
    static_members_add(segment=segment, contacts=contacts)
    campaign = Campaign.objects.create(name="Fiestas", email=newsletter_email(), **fields)
    campaign.segments.add(segment)
    return campaign


def token_of(link: str) -> str:
    return link.removeprefix(settings.SITE_URL).rstrip("/").rsplit("/", 1)[1]


def parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_the_audience_is_its_segments_minus_exclusions_among_contacts_who_may_be_emailed() -> None:
    wanted = subscriber(email="lucia@correo.example")
    excluded = subscriber(email="excluida@correo.example")
    no_consent = ContactFactory(email="sinpermiso@correo.example")
    bounced = subscriber(email="rebotado@correo.example", email_status=Contact.EmailStatus.BOUNCED)
    subscriber(email="fuera@correo.example")  # consented, but in no segment of the campaign
    campaign = campaign_for(wanted, excluded, no_consent, bounced)
    exclusion = Segment.objects.create(name="Excluidas", kind="static")
    static_members_add(segment=exclusion, contacts=[excluded])
    campaign.excluded_segments.add(exclusion)

    assert campaign_start(campaign=campaign) == 1

    assert list(campaign.deliveries.values_list("contact__email", "status")) == [
        ("lucia@correo.example", "pending")
    ]
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENDING and campaign.started_at is not None


def test_starting_twice_sends_once() -> None:
    campaign = campaign_for(subscriber(), subscriber())
    campaign_start(campaign=campaign)

    with pytest.raises(CampaignNotSendable, match="ya se ha enviado"):
        campaign_start(campaign=campaign)

    assert campaign.deliveries.count() == 2


def test_an_empty_audience_is_refused_and_changes_nothing() -> None:
    campaign = campaign_for(ContactFactory())  # no consent: nobody may receive it

    with pytest.raises(CampaignNotSendable):
        campaign_start(campaign=campaign)

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT
    assert not campaign.deliveries.exists()


def test_every_recipient_gets_their_own_message_once(smtp_sink: SmtpSink) -> None:
    lucia = subscriber(email="lucia@correo.example", first_name="Lucía")
    nameless = subscriber(email="anonima@correo.example", first_name="")
    ana = subscriber(email="ana@correo.example", first_name="Ana", language="en")
    campaign = campaign_for(lucia, nameless, ana)
    campaign_start(campaign=campaign)

    assert campaigns_send_due().sent == 3

    messages = {str(m["To"]): m for m in map(parsed, smtp_sink.messages)}
    assert sorted(messages) == sorted(c.email for c in (lucia, nameless, ana))
    greetings = {
        "lucia@correo.example": ("Fiestas de San Blas", "Hola, Lucía:"),
        "anonima@correo.example": ("Fiestas de San Blas", "Hola, vecino/a:"),
        "ana@correo.example": ("San Blas festival", "Hello, Ana."),
    }
    for contact in (lucia, nameless, ana):
        message = messages[contact.email]
        subject, greeting = greetings[contact.email]
        assert str(message["Subject"]).strip() == subject
        html = message.get_body(("html",))
        text = message.get_body(("plain",))
        assert html is not None and text is not None
        assert greeting in html.get_content() and greeting in text.get_content()
        assert "inbound-slot" not in html.get_content() + text.get_content()
        # Its own signed unsubscribe link, in the header (one click, RFC 8058) and the footer.
        link = str(message["List-Unsubscribe"]).strip("<>")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert link in html.get_content() and link in text.get_content()
        assert unsubscribe_read(token_of(link)) == (contact, campaign)
        # And its own link to the preference centre.
        preferences = next(word for word in text.get_content().split() if "/preferenc" in word)
        assert f'href="{preferences}"' in html.get_content()
        assert rights.rights_token_read(
            token=token_of(preferences), purpose=rights.PREFERENCES
        ) == (contact)
        delivery = campaign.deliveries.get(contact=contact)
        assert delivery.status == Delivery.Status.SENT and delivery.sent_at is not None
        assert delivery.message_id == message["Message-ID"]
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT
    assert campaigns_send_due().sent == 0 and len(smtp_sink.messages) == 3


def test_the_html_part_carries_its_styles_inline_and_the_text_part_the_links(
    smtp_sink: SmtpSink,
) -> None:
    # Untracked, so the address shows as written (tracked links: test_tracking.py).
    campaign = campaign_for(subscriber(email="lucia@correo.example"), track_clicks=False)
    campaign_start(campaign=campaign)
    campaigns_send_due()

    message = parsed(smtp_sink.messages[0])
    html = message.get_body(("html",))
    text = message.get_body(("plain",))
    assert html is not None and text is not None
    assert 'lang="es"' in html.get_content()
    assert 'class="header" style="' in html.get_content()  # css-inline
    assert "https://villaclara.example/es/agenda/" in text.get_content()
    assert "Todo el programa" in html.get_content()  # the preheader


def test_a_refusal_fails_with_the_reason_and_a_temporary_error_is_retried_later(
    smtp_sink: SmtpSink,
) -> None:
    fine = subscriber(email="bien@correo.example")
    refused = subscriber(email="rechazo@correo.example")
    later = subscriber(email="tarde@correo.example")
    smtp_sink.answers = {
        refused.email: "554 5.7.1 Refused by policy",  # user unknown bounces: test_webhooks
        later.email: "451 4.3.0 Try again later",
    }
    campaign = campaign_for(fine, refused, later)
    campaign_start(campaign=campaign)

    assert campaigns_send_due().sent == 1

    rows = {d.contact.email: d for d in campaign.deliveries.select_related("contact")}
    assert rows[fine.email].status == Delivery.Status.SENT
    assert rows[refused.email].status == Delivery.Status.FAILED
    assert rows[refused.email].error.startswith("554 5.7.1 Refused by policy")
    waiting = rows[later.email]
    assert waiting.status == Delivery.Status.PENDING and waiting.attempts == 1
    assert waiting.next_attempt_at > timezone.now()
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENDING

    smtp_sink.answers = {}
    assert campaigns_send_due(now=waiting.next_attempt_at).sent == 1
    assert sorted(smtp_sink.recipients) == [fine.email, later.email]
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT


def test_a_sender_killed_mid_chunk_leaves_nobody_out_and_sends_nobody_twice(
    smtp_sink: SmtpSink,
) -> None:
    from django.core import mail

    contacts = [subscriber(email=f"vecina{n}@correo.example") for n in range(6)]
    campaign = campaign_for(*contacts)
    campaign_start(campaign=campaign)
    now = timezone.now()
    leased = deliveries_claim(campaign=campaign, limit=10, now=now)
    # The sender sends two of its chunk, then its process is killed.
    deliveries_send(
        campaign=campaign,
        ids=leased[:2],
        connection=mail.get_connection(),
        renderer=CampaignRenderer(campaign),
        now=now,
    )

    assert campaigns_send_due().sent == 0  # the rest is still leased to the dead sender
    Delivery.objects.filter(pk__in=leased).update(claimed_until=now - dt.timedelta(seconds=1))
    assert campaigns_send_due().sent == 4

    assert sorted(smtp_sink.recipients) == sorted(c.email for c in contacts)


def test_a_contact_who_unsubscribes_after_the_start_gets_nothing(smtp_sink: SmtpSink) -> None:
    stays, leaves = (
        subscriber(email="sigue@correo.example"),
        subscriber(email="se-va@correo.example"),
    )
    campaign = campaign_for(stays, leaves)
    campaign_start(campaign=campaign)
    grant(leaves, action=ConsentRecord.Action.WITHDRAWN)

    campaigns_send_due()

    assert smtp_sink.recipients == [stays.email]
    assert campaign.deliveries.get(contact=leaves).status == Delivery.Status.SKIPPED


def test_a_scheduled_campaign_starts_when_its_time_comes(smtp_sink: SmtpSink) -> None:
    at = timezone.now() + dt.timedelta(hours=1)
    campaign = campaign_for(subscriber(), status=Campaign.Status.SCHEDULED, scheduled_at=at)

    assert campaigns_send_due().sent == 0
    assert campaigns_send_due(now=at).sent == 1

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT


def test_a_server_that_hangs_up_mid_batch_loses_nobody_and_sends_nobody_twice(
    smtp_sink: SmtpSink,
) -> None:
    contacts = [subscriber(email=f"vecino{n}@correo.example") for n in range(10)]
    smtp_sink.hang_up_at = {4, 8}
    campaign = campaign_for(*contacts)
    campaign_start(campaign=campaign)

    first = campaigns_send_due()
    waiting = campaign.deliveries.filter(status=Delivery.Status.PENDING)
    assert first.sent == 8 and waiting.count() == 2
    assert all(d.error.startswith("421 SMTPServerDisconnected") for d in waiting)
    assert smtp_sink.connections == 3  # a new connection after each hang-up

    campaigns_send_due(now=timezone.now() + dt.timedelta(minutes=2))

    assert sorted(smtp_sink.recipients) == sorted(c.email for c in contacts)
    assert set(campaign.deliveries.values_list("status", flat=True)) == {Delivery.Status.SENT}


def test_the_journal_names_each_group_of_deliveries_handed_to_the_mail_server(
    smtp_sink: SmtpSink, caplog: pytest.LogCaptureFixture
) -> None:
    contacts = [subscriber(email=f"vecina{n}@correo.example") for n in range(3)]
    campaign = campaign_for(*contacts)
    campaign_start(campaign=campaign)

    with caplog.at_level(logging.INFO, logger="campaigns.sending.journal"):
        campaigns_send_due()

    ids = ",".join(str(pk) for pk in sorted(campaign.deliveries.values_list("pk", flat=True)))
    assert [r.getMessage() for r in caplog.records if r.name == "campaigns.sending.journal"] == [
        f"campaign {campaign.pk}: 3 deliveries handed to the mail server: {ids}"
    ]
    assert len(smtp_sink.messages) == 3


def test_a_compiled_email_is_kept_across_ticks_until_the_email_is_edited(
    smtp_sink: SmtpSink,
) -> None:
    campaign = campaign_for(subscriber(), subscriber())
    campaign_start(campaign=campaign)
    first = CampaignRenderer(Campaign.objects.select_related("email").get(pk=campaign.pk))
    contact = campaign.deliveries.first().contact  # type: ignore[union-attr]
    first.message(contact)

    again = CampaignRenderer(Campaign.objects.select_related("email").get(pk=campaign.pk))
    again.message(contact)
    # The same compiled objects: nothing compiled twice.
    assert list(map(id, again._compiled.values())) == list(map(id, first._compiled.values()))

    email_ = campaign.email
    email_.subject_es = "Fiestas de San Blas: cambia el horario"
    email_.save()
    edited = CampaignRenderer(Campaign.objects.select_related("email").get(pk=campaign.pk))
    message = edited.message(contact)

    assert message.subject == "Fiestas de San Blas: cambia el horario"
    assert campaigns_send_due().sent == 2
    subjects = {str(parsed(raw)["Subject"]).strip() for raw in smtp_sink.messages}
    assert subjects == {"Fiestas de San Blas: cambia el horario"}
