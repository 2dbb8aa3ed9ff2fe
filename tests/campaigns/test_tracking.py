"""Click and open tracking of campaign e-mail, followed from real messages received by an SMTP
server, and the `email_sent` touchpoints of a send."""

from __future__ import annotations

import datetime as dt
import re
from email.message import EmailMessage
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.models import Campaign, CampaignLink, Delivery, Email
from campaigns.rendering import CampaignRenderer
from campaigns.sending import campaign_start, campaigns_send_due
from campaigns.tracking import PIXEL, link_original, tracking_token
from contacts.models import ConsentRecord, Contact, DerivedRefresh, Segment, Touchpoint
from contacts.rights import contact_anonymise
from contacts.segments import static_members_add
from tests.campaigns.test_sending import parsed, subscriber
from tests.contacts.factories import grant
from tests.smtp import SmtpSink

pytestmark = pytest.mark.django_db

AGENDA = "https://villaclara.example/es/agenda/?dia=3&hora=20"
BODY = (
    "<p>Hola, {{ contact.first_name|default:&quot;vecino/a&quot; }}:</p>"
    f'<p>Abre el <a href="{AGENDA.replace("&", "&amp;")}">programa de fiestas</a> y el '
    '<a title="a > b, href=&quot;#&quot;" href="https://villaclara.example/es/mapa/">mapa</a>.</p>'
    '<p>Otra vez el <a href="https://villaclara.example/es/agenda/?dia=3&amp;hora=20">programa'
    '</a>. Dudas: <a href="mailto:fiestas@villaclara.example">escríbenos</a>, '
    '<a href="tel:+34910000000">llámanos</a> o '
    '<a href="https://villaclara.example/es/buscar/?q={{ contact.postal_code }}">cerca de ti</a>.'
    "</p>"
)
TRACKED = re.compile(re.escape(settings.SITE_URL) + r"/e/c/[^/\s\"<>)]+/\d+/")
OPEN = re.compile(re.escape(settings.SITE_URL) + r"/e/o/[^/\s\"<>)]+/")


def campaign_to(
    *contacts: Contact, subject: str = "Fiestas de San Blas", **fields: Any
) -> Campaign:
    segment = Segment.objects.create(name=f"Lista {Segment.objects.count()}", kind="static")
    static_members_add(segment=segment, contacts=contacts)
    email = Email.objects.create(name="Fiestas", subject_es=subject, body_es=BODY)
    campaign = Campaign.objects.create(name="Fiestas", email=email, **fields)
    campaign.segments.add(segment)
    return campaign


def sent(*contacts: Contact, **fields: Any) -> Campaign:
    campaign = campaign_to(*contacts, **fields)
    campaign_start(campaign=campaign)
    campaigns_send_due()
    return campaign


def parts(message: EmailMessage) -> tuple[str, str]:
    html, text = message.get_body(("html",)), message.get_body(("plain",))
    assert html is not None and text is not None
    return html.get_content(), text.get_content()


def tracked_links(message: EmailMessage) -> list[str]:
    return TRACKED.findall(parts(message)[0])


def local(url: str) -> str:
    return url.removeprefix(settings.SITE_URL)


def clicks(contact: Contact) -> list[Touchpoint]:
    return list(Touchpoint.objects.filter(contact=contact, kind="email_click").order_by("pk"))


@pytest.mark.parametrize(
    ("subject", "joined"),
    [("Fiestas de San Blas", True), ("{{ contact.first_name }}, llegan las fiestas", False)],
    ids=["compiled-bytes", "personal-subject"],
)
def test_a_tracked_link_of_a_received_message_redirects_to_its_address_and_records_the_click(
    smtp_sink: SmtpSink, client: Client, subject: str, joined: bool
) -> None:
    lucia = subscriber(email="lucia@correo.example", first_name="Lucía")
    campaign = campaign_to(lucia, subject=subject)
    # The fast path (the compiled bytes joined) or Django's own assembly (a personal subject).
    assert (CampaignRenderer(campaign).message(lucia).raw is not None) is joined
    campaign_start(campaign=campaign)
    campaigns_send_due()
    (message,) = map(parsed, smtp_sink.messages)

    first = tracked_links(message)[0]
    assert not DerivedRefresh.objects.filter(contact=lucia).exists()
    response = client.get(local(first))

    assert response.status_code == 302 and response["Location"] == AGENDA
    (click,) = clicks(lucia)
    link = CampaignLink.objects.get(campaign=campaign, url=AGENDA)
    assert click.properties == {"link": link.pk, "url": AGENDA}
    assert (click.stage, click.subject_id) == ("serve", str(campaign.pk))
    delivery = campaign.deliveries.get()
    assert delivery.clicked_at == click.occurred_at
    assert DerivedRefresh.objects.filter(contact=lucia).exists()  # engagement: stage may change


def test_every_web_link_is_numbered_once_and_each_recipient_has_their_own_token(
    smtp_sink: SmtpSink,
) -> None:
    lucia, ana = subscriber(first_name="Lucía"), subscriber(first_name="Ana")
    campaign = sent(lucia, ana)

    links = list(CampaignLink.objects.filter(campaign=campaign).values_list("position", "url"))
    assert links == [(1, AGENDA), (2, "https://villaclara.example/es/mapa/")]
    agenda, mapa = (str(pk) for pk in CampaignLink.objects.values_list("pk", flat=True))
    tokens = set()
    for message in map(parsed, smtp_sink.messages):
        paths = [local(url).split("/")[3:5] for url in tracked_links(message)]
        assert [link for _token, link in paths] == [agenda, mapa, agenda]
        assert len({token for token, _link in paths}) == 1  # one token for all their links
        tokens.add(paths[0][0])
    assert len(tokens) == 2  # each recipient their own
    # Another compile (another sender, the same campaign) numbers nothing new.
    CampaignRenderer(campaign).message(lucia)
    assert CampaignLink.objects.filter(campaign=campaign).count() == 2


def test_the_plain_text_part_carries_the_same_tracked_links(smtp_sink: SmtpSink) -> None:
    sent(subscriber())

    html, text = parts(parsed(smtp_sink.messages[0]))

    assert TRACKED.findall(text) == TRACKED.findall(html) and len(TRACKED.findall(text)) == 3
    assert "villaclara.example/es/agenda" not in text + html


def test_mail_phone_personal_and_footer_links_are_left_alone(smtp_sink: SmtpSink) -> None:
    contact = subscriber(postal_code="28001")
    sent(contact)

    message = parsed(smtp_sink.messages[0])
    html, text = parts(message)

    assert 'href="mailto:fiestas@villaclara.example"' in html
    assert 'href="tel:+34910000000"' in html
    assert 'title="a > b, href=&quot;#&quot;"' in html  # an href inside another attribute
    assert 'href="https://villaclara.example/es/buscar/?q=28001"' in html
    unsubscribe = str(message["List-Unsubscribe"]).strip("<>")
    assert f'href="{unsubscribe}"' in html and "/baja/" in unsubscribe
    assert re.search(r'href="[^"]+/preferencias/[^"]+"', html)
    assert unsubscribe in text and "/preferencias/" in text


def test_without_click_tracking_the_links_keep_their_addresses(smtp_sink: SmtpSink) -> None:
    campaign = sent(subscriber(), track_clicks=False)

    html, text = parts(parsed(smtp_sink.messages[0]))

    assert TRACKED.search(html + text) is None
    assert 'href="https://villaclara.example/es/agenda/?dia=3&amp;hora=20"' in html
    assert not CampaignLink.objects.filter(campaign=campaign).exists()


def test_a_second_click_is_recorded_but_the_first_click_time_stays(
    smtp_sink: SmtpSink, client: Client
) -> None:
    contact = subscriber()
    campaign = sent(contact)
    agenda, mapa = tracked_links(parsed(smtp_sink.messages[0]))[:2]
    client.get(local(agenda))
    first = campaign.deliveries.get().clicked_at

    response = client.get(local(mapa))

    assert response["Location"] == "https://villaclara.example/es/mapa/"
    assert [c.properties["url"] for c in clicks(contact)] == [
        AGENDA,
        "https://villaclara.example/es/mapa/",
    ]
    assert first is not None and campaign.deliveries.get().clicked_at == first


def test_a_tampered_token_or_another_campaigns_link_is_404_and_records_nothing(
    smtp_sink: SmtpSink, client: Client
) -> None:
    contact = subscriber()
    campaign = sent(contact)
    other = sent(contact)
    _, _, _, token, link, _ = local(tracked_links(parsed(smtp_sink.messages[0]))[0]).split("/")
    assert CampaignLink.objects.get(pk=link).campaign == campaign
    foreign = CampaignLink.objects.get(campaign=other, position=1).pk
    forged = tracking_token(campaign=campaign, contact=contact)[:-1] + "x"
    unsigned = f"{token.split(':')[0].split('.')[0]}.1"

    for path in (
        f"/e/c/{token}/{foreign}/",  # a link of another campaign with this campaign's token
        f"/e/c/{token}/999999/",
        f"/e/c/{forged}/{link}/",
        f"/e/c/{unsigned}/{link}/",
        f"/e/c/{token[:-2]}/{link}/",
        f"/e/c/{token}x/{link}/",
    ):
        assert client.get(path).status_code == 404, path

    assert not clicks(contact)
    assert campaign.deliveries.get().clicked_at is None


def test_an_open_counts_for_the_person_only_with_their_consent_to_tracking(
    smtp_sink: SmtpSink, client: Client
) -> None:
    contact = subscriber()  # the newsletter, but not tracking
    campaign = sent(contact, track_opens=True)
    (pixel,) = OPEN.findall(parts(parsed(smtp_sink.messages[0]))[0])

    assert client.get(local(pixel)).status_code == 200

    assert campaign.deliveries.get().opened_at is None
    opens = Touchpoint.objects.filter(kind="email_open")
    assert [(o.contact_id, o.subject_id) for o in opens] == [(None, str(campaign.pk))]


def test_an_address_in_the_request_never_becomes_the_redirect(
    smtp_sink: SmtpSink, client: Client
) -> None:
    campaign = sent(subscriber())
    url = local(tracked_links(parsed(smtp_sink.messages[0]))[0])
    token, link = url.split("/")[3:5]

    with_query = client.get(f"{url}?next=https://evil.example/&url=https://evil.example/")
    assert with_query.status_code == 302 and with_query["Location"] == AGENDA
    for path in (
        f"/e/c/{token}/https://evil.example/",
        f"/e/c/https://evil.example/{link}/",
        f"/e/c/{token}/{link}/https://evil.example/",
        f"/e/c/{token}/{link}//evil.example/",
        "/e/c/https%3A%2F%2Fevil.example/1/",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "evil.example" not in response.get("Location", "")
    assert CampaignLink.objects.filter(campaign=campaign).count() == 2


def test_under_global_privacy_control_the_click_counts_for_the_link_not_the_person(
    smtp_sink: SmtpSink, client: Client
) -> None:
    contact = subscriber()
    campaign = sent(contact)

    response = client.get(
        local(tracked_links(parsed(smtp_sink.messages[0]))[0]), headers={"Sec-GPC": "1"}
    )

    assert response.status_code == 302 and response["Location"] == AGENDA
    (click,) = Touchpoint.objects.filter(kind="email_click")
    assert click.contact_id is None and click.visitor_key == ""
    assert click.properties["url"] == AGENDA and click.subject_id == str(campaign.pk)
    assert campaign.deliveries.get().clicked_at is None


def test_a_tracked_link_tells_where_it_leads_without_recording(smtp_sink: SmtpSink) -> None:
    sent(subscriber())
    agenda, mapa, _again = tracked_links(parsed(smtp_sink.messages[0]))

    assert link_original(agenda) == AGENDA
    assert link_original(mapa) == "https://villaclara.example/es/mapa/"
    assert link_original("https://villaclara.example/es/mapa/") is None
    assert not Touchpoint.objects.filter(kind="email_click").exists()


def test_a_link_checkers_head_request_is_redirected_without_recording(
    smtp_sink: SmtpSink, client: Client
) -> None:
    contact = subscriber()
    sent(contact)

    response = client.head(local(tracked_links(parsed(smtp_sink.messages[0]))[0]))

    assert response.status_code == 302 and response["Location"] == AGENDA
    assert not clicks(contact)


def test_an_erased_contact_still_reaches_the_page_and_nothing_personal_is_recorded(
    smtp_sink: SmtpSink, client: Client
) -> None:
    contact = subscriber()
    campaign = sent(contact)
    link = local(tracked_links(parsed(smtp_sink.messages[0]))[0])
    contact_anonymise(contact=contact, reason="ejercicio del derecho de supresión")

    response = client.get(link)

    assert response.status_code == 302 and response["Location"] == AGENDA
    assert not Touchpoint.objects.filter(kind="email_click").exists()
    assert campaign.deliveries.get().clicked_at is None


def test_a_preview_or_test_send_to_a_non_recipient_records_nothing(client: Client) -> None:
    recipient, previewed = subscriber(), subscriber()
    campaign = campaign_to(recipient)
    campaign_start(campaign=campaign)
    html = CampaignRenderer(campaign).message(previewed).alternatives[0][0]

    stand_in = CampaignRenderer(campaign).message(Contact(email="vecino@example.org"))
    stand_in_html = stand_in.alternatives[0][0]

    for url in (TRACKED.findall(str(html))[0], TRACKED.findall(str(stand_in_html))[0]):
        response = client.get(local(url))
        assert response.status_code == 302 and response["Location"] == AGENDA
    assert not Touchpoint.objects.filter(kind="email_click").exists()


def test_a_client_over_the_rate_limit_still_reaches_the_page_but_is_not_counted(
    smtp_sink: SmtpSink, client: Client
) -> None:
    contact = subscriber()
    sent(contact)
    link = local(tracked_links(parsed(smtp_sink.messages[0]))[0])

    responses = [client.get(link) for _ in range(65)]

    assert all(r.status_code == 302 and r["Location"] == AGENDA for r in responses)
    assert len(clicks(contact)) == 60


def test_turning_click_tracking_off_after_the_send_stops_recording(
    smtp_sink: SmtpSink, client: Client
) -> None:
    contact = subscriber()
    campaign = sent(contact)
    Campaign.objects.filter(pk=campaign.pk).update(track_clicks=False)

    response = client.get(local(tracked_links(parsed(smtp_sink.messages[0]))[0]))

    assert response["Location"] == AGENDA and not clicks(contact)


# --- Opens ------------------------------------------------------------------------------------


def test_there_is_no_open_pixel_unless_the_campaign_asks_for_it(smtp_sink: SmtpSink) -> None:
    sent(subscriber())

    html, text = parts(parsed(smtp_sink.messages[0]))

    assert OPEN.search(html + text) is None and "<img" not in html


def test_the_open_pixel_records_opens_and_the_first_open(
    smtp_sink: SmtpSink, client: Client
) -> None:
    contact = subscriber()
    grant(contact, ConsentRecord.Purpose.TRACKING)
    campaign = sent(contact, track_opens=True)
    html, text = parts(parsed(smtp_sink.messages[0]))
    (pixel,) = OPEN.findall(html)
    assert re.search(r'<img alt="" src="' + re.escape(pixel) + r'"[^>]*>\s*</body>', html)
    assert pixel not in text

    first = client.get(local(pixel))

    assert first.status_code == 200 and first.content == PIXEL
    assert first["Content-Type"] == "image/gif" and "no-store" in first["Cache-Control"]
    opened = campaign.deliveries.get().opened_at
    assert opened is not None
    client.get(local(pixel))
    opens = Touchpoint.objects.filter(contact=contact, kind="email_open")
    assert [o.stage for o in opens] == ["serve", "serve"]
    assert campaign.deliveries.get().opened_at == opened
    assert campaign.deliveries.get().clicked_at is None


def test_a_tampered_open_pixel_is_404_and_records_nothing(
    smtp_sink: SmtpSink, client: Client
) -> None:
    contact = subscriber()
    campaign = sent(contact, track_opens=True)
    token = local(OPEN.findall(parts(parsed(smtp_sink.messages[0]))[0])[0]).split("/")[3]

    assert client.get(f"/e/o/{token[:-1]}A/").status_code == 404
    assert client.get(f"/e/o/{token.replace('.', '.0')}/").status_code == 404
    assert not Touchpoint.objects.filter(kind="email_open").exists()
    assert campaign.deliveries.get().opened_at is None


def test_an_open_only_campaign_tracks_opens_and_leaves_links_alone(smtp_sink: SmtpSink) -> None:
    sent(subscriber(), track_opens=True, track_clicks=False)

    html, _text = parts(parsed(smtp_sink.messages[0]))

    assert TRACKED.search(html) is None and len(OPEN.findall(html)) == 1


# --- Sent -------------------------------------------------------------------------------------


def test_each_sent_message_gets_an_email_sent_touchpoint_in_one_insert_without_activity(
    smtp_sink: SmtpSink,
) -> None:
    long_ago = timezone.now() - dt.timedelta(days=400)
    people = [subscriber(last_activity_at=long_ago) for _ in range(4)]
    refused = subscriber(email="rechazo@correo.example")
    smtp_sink.answers = {refused.email: "550 5.1.1 No such user"}
    campaign = campaign_to(*people, refused)
    campaign_start(campaign=campaign)

    queued = DerivedRefresh.objects.count()

    with CaptureQueriesContext(connection) as queries:
        assert campaigns_send_due().sent == 4

    touchpoint_table = Touchpoint._meta.db_table
    inserts = [
        q
        for q in queries
        if q["sql"].startswith(f'INSERT INTO "{touchpoint_table}"') and "email_sent" in q["sql"]
    ]
    assert len(inserts) == 1  # (the refusal may record a bounce of its own)
    rows = Touchpoint.objects.filter(kind="email_sent")
    assert rows.count() == len(smtp_sink.messages) == 4
    assert set(rows.values_list("contact_id", flat=True)) == {p.pk for p in people}
    assert {(r.stage, r.subject_id) for r in rows} == {("serve", str(campaign.pk))}
    assert not rows.filter(contact=refused).exists()
    for person in people:
        person.refresh_from_db()
        assert person.last_activity_at == long_ago
    assert DerivedRefresh.objects.count() == queued
    assert Delivery.objects.filter(status=Delivery.Status.SENT).count() == 4
