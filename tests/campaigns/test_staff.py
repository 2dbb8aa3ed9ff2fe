"""A campaign's staff page: checklist, preview as a contact, test send, send, progress."""

from __future__ import annotations

import email
import email.policy
import re
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from campaigns.control import campaign_send_now
from campaigns.models import Campaign
from campaigns.rendering import SAMPLE_TOKEN
from campaigns.sending import campaigns_send_due
from contacts.models import ConsentRecord
from contacts.selectors import consent_is_granted
from inbound.models import AuditEntry
from tests.campaigns.test_gate import CLEAR, with_body
from tests.campaigns.test_sending import subscriber
from tests.smtp import SmtpSink

pytestmark = pytest.mark.django_db


def url(name: str, campaign: Campaign) -> str:
    return reverse(f"campaigns_staff:{name}", kwargs={"pk": campaign.pk})


def page(client: Client, campaign: Campaign, **query: str) -> str:
    response = client.get(url("campaign", campaign), query)
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_shows_the_checklist_audience_and_send_button(
    client: Client, marketer: Any
) -> None:
    campaign = with_body(CLEAR, subscriber(), subscriber(language="ca"))
    client.force_login(marketer)

    html = page(client, campaign)

    assert "Lista de comprobación antes de enviar" in html
    assert "Enviar ahora a 2 destinatarios" in html
    assert "Aviso:" in html and "No hay versión en" in html
    assert 'name="confirm"' in html  # warnings must be confirmed


def test_sending_from_the_page_needs_the_warnings_confirmed_and_a_double_click_sends_once(
    client: Client, marketer: Any
) -> None:
    campaign = with_body(CLEAR, subscriber(), subscriber(language="ca"))
    client.force_login(marketer)

    refused = client.post(url("send", campaign), follow=True).content.decode()
    assert "confirma que quieres enviarlo igualmente" in refused
    assert not campaign.deliveries.exists()

    sent = client.post(url("send", campaign), {"confirm": "on"}, follow=True).content.decode()
    again = client.post(url("send", campaign), {"confirm": "on"}, follow=True).content.decode()

    assert "Enviando a 2 destinatarios." in sent
    assert "ya se ha enviado o se está enviando" in again
    assert campaign.deliveries.count() == 2


def test_an_analyst_sees_the_page_but_cannot_send_test_or_pause(
    client: Client, analyst: Any
) -> None:
    campaign = with_body(CLEAR)
    client.force_login(analyst)

    html = page(client, campaign)

    assert "Enviar ahora" not in html and "Enviar la prueba" not in html
    for action in ("send", "schedule", "test-send", "pause", "cancel"):
        assert client.post(url(action, campaign), {"confirm": "on"}).status_code == 403
    assert not campaign.deliveries.exists()


def test_a_citizen_or_anonymous_visitor_never_reaches_the_page(client: Client) -> None:
    campaign = with_body(CLEAR)

    response = client.get(url("campaign", campaign))

    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_preview_as_a_contact_shows_their_values_and_is_audited(
    client: Client, marketer: Any
) -> None:
    lucia = subscriber(first_name="Lucía", email="lucia@correo.example")
    campaign = with_body(
        "<p>Hola, {{ contact.first_name|default:&quot;vecino/a&quot; }}.</p>", lucia
    )
    client.force_login(marketer)

    html = page(client, campaign, contact="lucia@correo.example", width="mobile")
    frame = client.get(url("preview", campaign), {"contact": lucia.pk})

    assert "Como lo recibirá lucia@correo.example." in html
    assert f'src="{url("preview", campaign)}?contact={lucia.pk}"' in html
    assert 'width="375"' in html
    assert "Hola, Lucía." in frame.content.decode()
    assert frame["X-Frame-Options"] == "SAMEORIGIN"
    policy = frame["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in policy and "script-src 'none'" in policy
    assert "sandbox" in policy
    entry = AuditEntry.objects.get(action="campaigns.previewed_as_contact")
    assert entry.object_id == str(lucia.pk) and entry.actor == marketer


def test_the_preview_never_shows_a_contact_outside_the_audience(
    client: Client, marketer: Any
) -> None:
    outsider = subscriber(first_name="Ramón")  # consented, but in no segment of the campaign
    campaign = with_body("<p>Hola, {{ contact.first_name|default:&quot;vecino/a&quot; }}.</p>")
    client.force_login(marketer)

    frame = client.get(url("preview", campaign), {"contact": outsider.pk}).content.decode()
    html = page(client, campaign, contact=outsider.email)

    assert "Hola, vecino/a." in frame and "Ramón" not in frame
    assert "Ningún contacto de esta audiencia tiene esa dirección" in html
    assert not AuditEntry.objects.filter(action="campaigns.previewed_as_contact").exists()


def test_a_test_send_goes_only_to_staff_addresses(
    client: Client, marketer: Any, smtp_sink: SmtpSink
) -> None:
    campaign = with_body(CLEAR)
    client.force_login(marketer)

    refused = client.post(
        url("test-send", campaign), {"recipients": "alguien@fuera.example"}, follow=True
    ).content.decode()
    assert "alguien@fuera.example" in refused and smtp_sink.messages == []

    done = client.post(
        url("test-send", campaign), {"recipients": marketer.email}, follow=True
    ).content.decode()

    assert f"Prueba enviada a {marketer.email}." in done
    message = email.message_from_bytes(smtp_sink.messages[0], policy=email.policy.default)
    assert str(message["Subject"]).startswith("[PRUEBA] ")
    assert smtp_sink.recipients == [marketer.email]
    assert not campaign.deliveries.exists()  # a test is not a send


def test_the_progress_box_polls_while_sending_and_stops_when_sent(
    client: Client, marketer: Any, smtp_sink: SmtpSink
) -> None:
    campaign = with_body(CLEAR, subscriber(), subscriber())
    campaign_send_now(campaign=campaign, by=marketer)
    client.force_login(marketer)

    sending = client.get(url("progress", campaign)).content.decode()
    assert 'hx-trigger="every 2s"' in sending and 'max="2" value="0"' in sending

    campaigns_send_due()
    sent = client.get(url("progress", campaign)).content.decode()

    assert "hx-get" not in sent and 'max="2" value="2"' in sent
    assert "Enviada" in sent or "enviada" in sent


def test_pause_resume_and_cancel_from_the_page(client: Client, marketer: Any) -> None:
    campaign = with_body(CLEAR, subscriber(), subscriber())
    campaign_send_now(campaign=campaign, by=marketer)
    client.force_login(marketer)

    paused = client.post(url("pause", campaign), follow=True).content.decode()
    assert "En pausa." in paused and "Reanudar" in paused
    assert client.post(url("resume", campaign), follow=True).status_code == 200
    cancelled = client.post(url("cancel", campaign), follow=True).content.decode()

    assert "Cancelada: 2 mensajes no se enviarán." in cancelled
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.CANCELLED


def test_a_schedule_from_the_page_is_read_as_madrid_time(client: Client, marketer: Any) -> None:
    campaign = with_body(CLEAR)
    client.force_login(marketer)

    client.post(url("schedule", campaign), {"at": "2030-02-03T09:30", "local_time": "on"})

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SCHEDULED and campaign.local_time
    assert campaign.scheduled_at is not None
    assert campaign.scheduled_at.isoformat() == "2030-02-03T08:30:00+00:00"


def test_previews_and_tests_carry_the_real_links_so_staff_clicks_count_for_nobody(
    client: Client, marketer: Any, smtp_sink: SmtpSink
) -> None:
    lucia = subscriber(email="lucia@correo.example")
    campaign = with_body(CLEAR + '<p><a href="https://www.boe.es/">BOE</a></p>', lucia)
    assert campaign.track_clicks
    client.force_login(marketer)

    frame = client.get(url("preview", campaign), {"contact": lucia.pk}).content.decode()
    client.post(url("test-send", campaign), {"recipients": marketer.email, "contact": lucia.pk})

    test = email.message_from_bytes(smtp_sink.messages[0], policy=email.policy.default)
    html = test.get_body(("html",))
    assert html is not None
    for shown in (frame, html.get_content()):
        assert 'href="https://www.boe.es/"' in shown and "/e/c/" not in shown


def test_a_malformed_time_is_refused_with_a_message_and_changes_nothing(
    client: Client, marketer: Any
) -> None:
    campaign = with_body(CLEAR)
    client.force_login(marketer)

    page = client.post(url("schedule", campaign), {"at": "mañana a las 9"}, follow=True)

    assert page.status_code == 200
    assert "Introduzca una fecha/hora válida." in page.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT and campaign.scheduled_at is None


def test_previews_and_tests_carry_sample_links_that_open_nothing_of_the_contact(
    client: Client, marketer: Any, smtp_sink: SmtpSink
) -> None:
    """Previewing "as Lucía" must not hand staff (or whoever a test is forwarded to) a working
    link to Lucía's preference centre or her unsubscribe."""
    lucia = subscriber(email="lucia@correo.example")
    campaign = with_body(CLEAR, lucia)
    client.force_login(marketer)

    frame = client.get(url("preview", campaign), {"contact": lucia.pk}).content.decode()
    client.post(url("test-send", campaign), {"recipients": marketer.email, "contact": lucia.pk})

    test = email.message_from_bytes(smtp_sink.messages[0], policy=email.policy.default)
    html = test.get_body(("html",))
    assert html is not None
    header_link = str(test["List-Unsubscribe"]).split(",")[0].strip("<> ")
    citizen = Client()
    for shown in (frame, html.get_content()):
        own = sorted(set(re.findall(rf'href="{re.escape(settings.SITE_URL)}(/[^"]*)"', shown)))
        assert len(own) == 2, own  # the preference centre and the unsubscribe link
        for path in own:
            assert SAMPLE_TOKEN in path
            opened = citizen.get(path)
            assert opened.status_code in {400, 404}
            assert "Este enlace no es válido" in opened.content.decode()
    one_click = citizen.post(
        header_link.removeprefix(settings.SITE_URL), {"List-Unsubscribe": "One-Click"}
    )
    assert one_click.status_code == 404
    assert consent_is_granted(contact=lucia, purpose=ConsentRecord.Purpose.NEWSLETTER)
