"""A campaign's report: a real send to an SMTP server, its tracked links followed and its
unsubscribe link used through the site, a refusal and a complaint, then the figures and the
page staff read."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from campaigns.models import Campaign
from campaigns.reports import Figures, campaign_report
from campaigns.reports import _pooled as pooled
from campaigns.sending import campaign_start, campaigns_send_due
from campaigns.suppression import complaint_record
from contacts.models import ConsentRecord, Contact, Persona
from tests.campaigns.test_sending import parsed, subscriber
from tests.campaigns.test_tracking import OPEN, campaign_to, local, parts, tracked_links
from tests.contacts.factories import grant
from tests.smtp import SmtpSink

pytestmark = pytest.mark.django_db


@dataclass
class Sent:
    campaign: Campaign
    messages: dict[str, EmailMessage]
    familias: list[Contact]
    mayores: list[Contact]
    others: list[Contact]


def people(count: int, **fields: Any) -> list[Contact]:
    return [subscriber(**fields) for _ in range(count)]


@pytest.fixture
def sent(smtp_sink: SmtpSink, client: Client) -> Sent:
    """16 recipients: 6 "Familias" in Centro, 5 "Mayores" in Norte who read Catalan, and 5
    without persona spread over three small districts. One address does not exist (bounced),
    one server refuses (failed), one person reports spam; two open (one accepted tracking),
    three click (one twice, one more click under Do Not Track), one unsubscribes."""
    familias = people(6, persona=Persona.objects.create(name="Familias"), district="Centro")
    mayores = people(
        5, persona=Persona.objects.create(name="Mayores"), district="Norte", language="ca"
    )
    others = [
        *people(2, district="Sur"),
        *people(2, district="Este"),
        subscriber(district=""),
    ]
    smtp_sink.answers = {
        others[0].email: "550 5.1.1 No such user",
        others[2].email: "554 5.7.1 Rejected by policy",
    }
    campaign = campaign_to(*familias, *mayores, *others, track_opens=True)
    campaign_start(campaign=campaign)
    campaigns_send_due()
    messages = {str(m["To"]): m for m in map(parsed, smtp_sink.messages)}

    def follow(contact: Contact, link: int, **headers: str) -> None:
        response = client.get(local(tracked_links(messages[contact.email])[link]), **headers)
        assert response.status_code == 302

    follow(familias[0], 0)
    follow(familias[0], 2)  # the same address again, further down: one link, two clicks
    follow(familias[1], 1)
    follow(mayores[0], 0)
    grant(familias[0], ConsentRecord.Purpose.TRACKING)  # the other opener did not accept it
    for contact in (familias[0], familias[3]):
        (pixel,) = OPEN.findall(parts(messages[contact.email])[0])
        assert client.get(local(pixel)).status_code == 200
    follow(familias[2], 0, HTTP_DNT="1")  # counted for the link, not for the person
    unsubscribe = str(messages[mayores[1].email]["List-Unsubscribe"]).strip("<>")
    assert client.post(local(unsubscribe), {"List-Unsubscribe": "One-Click"}).status_code == 200
    complaint_record(
        contact=familias[4],
        delivery=campaign.deliveries.get(contact=familias[4]),
        reason="abuse",
        source="test",
    )
    return Sent(campaign, messages, familias, mayores, others)


def numbers(row: Figures) -> tuple[int, ...]:
    return (row.recipients, row.delivered, row.opened, row.clicked, row.unsubscribed)


def test_the_report_counts_what_happened_to_the_send(sent: Sent) -> None:
    report = campaign_report(campaign=sent.campaign)

    totals = report.totals
    assert totals.recipients == 16 and len(sent.messages) == 14
    assert (totals.delivered, totals.bounced, totals.failed) == (14, 1, 1)
    assert (totals.complained, totals.skipped, totals.pending) == (1, 0, 0)
    assert (totals.opened, totals.clicked, totals.unsubscribed) == (1, 3, 1)
    assert (report.opens, report.clicks) == (2, 5)
    assert totals.click_rate == pytest.approx(100 * 3 / 14)
    assert totals.bounce_rate == pytest.approx(100 / 16)
    assert [(link.url.split("/")[4], link.clicks, link.unique) for link in report.links] == [
        ("agenda", 4, 2),
        ("mapa", 1, 1),
    ]


def test_the_breakdowns_count_each_group_and_pool_the_small_ones(sent: Sent) -> None:
    report = campaign_report(campaign=sent.campaign)

    persona, language, district = report.breakdowns
    assert [(r.label, *numbers(r)) for r in persona.all_rows] == [
        ("Familias", 6, 6, 1, 2, 0),
        ("Mayores", 5, 5, 0, 1, 1),
        ("Sin persona", 5, 3, 0, 0, 0),
    ]
    assert persona.others is None
    assert [(r.label, *numbers(r)) for r in language.all_rows] == [
        ("Español", 11, 9, 1, 2, 0),
        ("Catalán", 5, 5, 0, 1, 1),
    ]
    assert [(r.label, *numbers(r)) for r in district.rows] == [
        ("Centro", 6, 6, 1, 2, 0),
        ("Norte", 5, 5, 0, 1, 1),
    ]
    assert district.others is not None
    assert (district.others.label, district.others.groups) == ("Otros", 3)
    assert numbers(district.others) == (5, 3, 0, 0, 0)


def group(label: str, recipients: int) -> Figures:
    return Figures(label=label, recipients=recipients, delivered=recipients, clicked=1)


def test_no_breakdown_row_describes_fewer_than_five_people() -> None:
    # A pool under five takes in the smallest group shown: the totals can't give it away.
    shown = pooled([group("A", 9), group("B", 6), group("C", 2), group("D", 1)])
    assert [r.label for r in shown.rows] == ["A"]
    assert shown.others is not None
    assert (shown.others.recipients, shown.others.groups, shown.others.clicked) == (9, 3, 3)

    # Beyond the first groups shown, big ones are pooled too.
    top = pooled([group("A", 9), group("B", 8), group("C", 7)], shown_at_most=2)
    assert [r.label for r in top.rows] == ["A", "B"] and top.others is not None
    assert top.others.recipients == 7

    assert pooled([group("A", 5), group("B", 5)]).others is None


def test_a_send_to_fewer_than_five_people_has_no_breakdowns(smtp_sink: SmtpSink) -> None:
    campaign = campaign_to(*people(3, district="Centro"))
    campaign_start(campaign=campaign)
    campaigns_send_due()

    report = campaign_report(campaign=campaign)

    assert report.totals.delivered == 3 and report.breakdowns == []
    assert report.too_few_to_break_down


def test_the_report_costs_a_fixed_number_of_queries(
    sent: Sent, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(4):
        campaign_report(campaign=sent.campaign)


def report_url(campaign: Campaign, name: str = "report") -> str:
    return reverse(f"campaigns_staff:{name}", kwargs={"pk": campaign.pk})


def test_the_page_shows_the_figures_in_spanish_with_a_chart_and_tables(
    sent: Sent, client: Client, analyst: Any
) -> None:
    client.force_login(analyst)

    response = client.get(report_url(sent.campaign))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Informe: Fiestas" in html
    assert "nunca dice quién abrió" in html
    assert '<svg class="bar-chart-svg" role="img"' in html
    assert '<title id="chart-outcome-title">Qué pasó con los 16 mensajes</title>' in html
    assert "Entregados: 14; Abiertos: 1; Con clic: 3; Bajas: 1; Rebotados: 1; Fallidos: 1" in html
    assert "<caption>Resumen del envío</caption>" in html
    assert (
        '<tr><th scope="row">Clics únicos (personas que hicieron clic)</th><td>3</td>'
        "<td>21,4 %</td></tr>" in html
    )
    assert '<tr><th scope="row">Entregados</th><td>14</td><td>87,5 %</td></tr>' in html
    agenda = "https://villaclara.example/es/agenda/?dia=3&amp;hora=20"
    assert f"{agenda}</a></th><td>4</td><td>2</td></tr>" in html
    assert '<caption class="visually-hidden">Por persona</caption>' in html
    assert '<th scope="row">Mayores</th>' in html
    assert '<th scope="row">Otros (3 grupos)</th>' in html
    # Aggregates only: no recipient's address or name anywhere on the page.
    assert not any(contact.email in html for contact in sent.familias + sent.mayores)


def test_the_breakdowns_download_as_csv(sent: Sent, client: Client, analyst: Any) -> None:
    client.force_login(analyst)

    response = client.get(report_url(sent.campaign, "report-csv"))

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode().lstrip("\ufeff"))))
    assert rows[0][:4] == ["Desglose", "Grupo", "Destinatarios", "Entregados"]
    assert ["Total", "Todos los destinatarios", "16", "14", "1", "1", "1", "3", "21.4", "1"] in rows
    assert ["Por distrito", "Otros", "5", "3", "1", "1", "0", "0", "0.0", "0"] in rows


def test_the_campaign_page_links_to_its_report_once_sent(
    sent: Sent, client: Client, marketer: Any
) -> None:
    client.force_login(marketer)

    html = client.get(reverse("campaigns_staff:campaign", kwargs={"pk": sent.campaign.pk}))

    assert f'href="{report_url(sent.campaign)}">Ver el informe</a>' in html.content.decode()


def test_an_unsent_campaign_has_nothing_to_report(client: Client, marketer: Any) -> None:
    campaign = campaign_to(subscriber())
    client.force_login(marketer)

    html = client.get(report_url(campaign)).content.decode()

    assert "Esta campaña aún no se ha enviado" in html and "bar-chart-svg" not in html


def test_anonymous_visitors_are_sent_to_log_in_and_others_refused(
    client: Client, editor: Any
) -> None:
    campaign = campaign_to(subscriber())
    citizen = get_user_model().objects.create_user("vecina", "vecina@correo.example", "x" * 20)

    anonymous = client.get(report_url(campaign))
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
    for user in (citizen, editor):
        client.force_login(user)
        assert client.get(report_url(campaign)).status_code == 403
        assert client.get(report_url(campaign, "report-csv")).status_code == 403
