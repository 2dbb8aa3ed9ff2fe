"""The search report for staff: what citizens look for and do not find, and what they seek most."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from contacts.models import Touchpoint
from content.search import search_gaps, search_record
from inbound.roles import Role
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def recorded(query: str, results: int, language: str = "es", days_ago: float = 1) -> None:
    touchpoint = search_record(query=query, results=results, language=language)
    Touchpoint.objects.filter(pk=touchpoint.pk).update(
        occurred_at=timezone.now() - dt.timedelta(days=days_ago)
    )


def report_url(name: str = "content_staff:search-gaps", language: str = "en") -> str:
    with translation.override(language):
        return reverse(name)


def table_rows(html: str, table_class: str) -> list[list[str]]:
    """The body rows of the table with `table_class`, as lists of cell texts."""
    table = re.search(rf'<table class="{table_class}".*?<tbody>(.*?)</tbody>', html, re.S)
    assert table is not None, f"no {table_class} table"
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in rows
    ]


def csv_rows(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.fixture
def history() -> None:
    for _ in range(3):
        recorded("Wifi gratis", 0)
    recorded("wifi gratis", 0, language="en")
    recorded("padrón", 0, days_ago=2)
    for results in (4, 4, 4, 2, 2):
        recorded("piscina", results)
    recorded("multas antiguas", 0, days_ago=40)


# --- The report --------------------------------------------------------------------------------


def test_queries_with_no_results_are_grouped_by_query_and_language_most_frequent_first(
    client: Client, editor: Any, history: None
) -> None:
    client.force_login(editor)

    html = client.get(report_url()).content.decode()

    gaps = table_rows(html, "search-gaps-table")
    assert [row[:3] for row in gaps] == [
        ["wifi gratis", "Spanish", "3"],
        ["wifi gratis", "English", "1"],
        ["padrón", "Spanish", "1"],
    ]


def test_the_most_frequent_queries_show_their_average_results(
    client: Client, analyst: Any, history: None
) -> None:
    client.force_login(analyst)

    html = client.get(report_url()).content.decode()

    top = table_rows(html, "search-top-table")
    assert top[0] == ["piscina", "Spanish", "5", "3.2"]
    assert ["wifi gratis", "Spanish", "3", "0.0"] in top


def test_the_period_can_be_widened_to_90_days(client: Client, editor: Any, history: None) -> None:
    client.force_login(editor)

    last_30 = client.get(report_url()).content.decode()
    last_90 = client.get(report_url(), {"period": "90"}).content.decode()
    last_7 = client.get(report_url(), {"period": "7"}).content.decode()

    assert "multas antiguas" not in last_30
    assert ["multas antiguas", "Spanish", "1"] in [
        row[:3] for row in table_rows(last_90, "search-gaps-table")
    ]
    assert "multas antiguas" not in last_7


def test_the_report_can_be_limited_to_one_language(
    client: Client, marketer: Any, history: None
) -> None:
    client.force_login(marketer)

    html = client.get(report_url(), {"period": "30", "language": "en"}).content.decode()

    assert [row[:3] for row in table_rows(html, "search-gaps-table")] == [
        ["wifi gratis", "English", "1"]
    ]


def test_a_bad_filter_is_a_clear_error(client: Client, editor: Any, history: None) -> None:
    client.force_login(editor)

    response = client.get(report_url(), {"period": "365", "language": "fr"})

    assert response.status_code == 400
    html = response.content.decode()
    assert "Select a valid choice. 365 is not one of the available choices." in html
    assert "search-gaps-table" not in html


def test_queries_with_personal_data_are_shown_as_removed(client: Client, editor: Any) -> None:
    recorded("mi dni es 12345678Z", 0)
    client.force_login(editor)

    html = client.get(report_url()).content.decode()

    assert table_rows(html, "search-gaps-table")[0][0] == "(personal data removed)"
    assert "12345678" not in html


def test_an_empty_period_says_so(client: Client, editor: Any) -> None:
    client.force_login(editor)

    html = client.get(report_url()).content.decode()

    assert "Every search in this period found something." in html
    assert "Nobody searched in this period." in html


def test_the_report_is_aggregated_in_one_query_however_many_searches(
    django_assert_num_queries: Any,
) -> None:
    for number in range(50):
        recorded(f"consulta {number % 7}", 0)

    with django_assert_num_queries(1):
        rows = list(search_gaps(since=timezone.now() - dt.timedelta(days=30)))

    assert len(rows) == 7
    assert sum(row["searches"] for row in rows) == 50


# --- CSV ---------------------------------------------------------------------------------------


def test_the_gaps_download_as_csv(client: Client, analyst: Any, history: None) -> None:
    client.force_login(analyst)

    response = client.get(report_url("content_staff:search-gaps-csv"), {"period": "90"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="search-gaps-90d.csv"' in response["Content-Disposition"]
    rows = csv_rows(response)
    assert rows[0] == ["Query", "Language", "Searches", "Last searched"]
    assert [row[:3] for row in rows[1:]] == [
        ["wifi gratis", "Spanish", "3"],
        ["wifi gratis", "English", "1"],
        ["padrón", "Spanish", "1"],
        ["multas antiguas", "Spanish", "1"],
    ]


def test_the_top_queries_download_as_csv(client: Client, editor: Any, history: None) -> None:
    client.force_login(editor)

    response = client.get(report_url("content_staff:search-top-csv"), {"language": "es"})

    rows = csv_rows(response)
    assert rows[0] == ["Query", "Language", "Searches", "Average results", "Last searched"]
    assert rows[1][:4] == ["piscina", "Spanish", "5", "3.2"]
    assert all(row[1] == "Spanish" for row in rows[1:])


def test_csv_cells_cannot_run_as_spreadsheet_formulas(client: Client, editor: Any) -> None:
    recorded('=HYPERLINK("http://evil.example","click")', 0)
    client.force_login(editor)

    rows = csv_rows(client.get(report_url("content_staff:search-gaps-csv")))

    assert rows[1][0] == '\'=hyperlink("http://evil.example","click")'


def test_a_bad_filter_in_the_csv_is_a_clear_error(client: Client, editor: Any) -> None:
    client.force_login(editor)

    response = client.get(report_url("content_staff:search-gaps-csv"), {"period": "x"})

    assert response.status_code == 400
    assert "Select a valid choice." in response.content.decode()


# --- Who may see it ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize(
    "name",
    ["content_staff:search-gaps", "content_staff:search-gaps-csv", "content_staff:search-top-csv"],
)
def test_every_staff_role_may_see_the_report(
    client: Client, personas: dict[Role, Any], role: Role, name: str
) -> None:
    client.force_login(personas[role])

    assert client.get(report_url(name)).status_code == 200


@pytest.mark.parametrize(
    "name",
    ["content_staff:search-gaps", "content_staff:search-gaps-csv", "content_staff:search-top-csv"],
)
def test_anonymous_visitors_are_sent_to_the_login_page(client: Client, name: str) -> None:
    response = client.get(report_url(name))

    assert response.status_code == 302
    with translation.override("en"):
        assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize(
    "name",
    ["content_staff:search-gaps", "content_staff:search-gaps-csv", "content_staff:search-top-csv"],
)
def test_users_without_a_staff_role_are_refused(client: Client, name: str) -> None:
    no_role: Any = StaffFactory(username="becario")
    citizen: Any = get_user_model().objects.create_user("vecina", password="x", is_staff=False)

    for user in (no_role, citizen):
        client.force_login(user)
        assert client.get(report_url(name)).status_code == 403


def test_the_admin_home_links_the_report_for_staff_roles(client: Client, analyst: Any) -> None:
    client.force_login(analyst)

    html = client.get(report_url("admin:index")).content.decode()

    assert f'href="{report_url()}"' in html


def test_the_admin_home_hides_the_link_from_staff_without_a_role(client: Client) -> None:
    no_role: Any = StaffFactory(username="becario")
    client.force_login(no_role)

    html = client.get(report_url("admin:index")).content.decode()

    assert report_url() not in html
