"""Exporting contacts: segment members to CSV/XLSX, safe in Excel, only for roles that may."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory
from django.urls import reverse
from openpyxl import load_workbook

from contacts.models import Contact, ContactProperty, Segment, SegmentMember, Tag
from contacts.views_imports import contacts_export_csv, contacts_export_xlsx
from inbound.models import AuditEntry
from tests.contacts.factories import ContactFactory
from tests.contacts.test_imports import urlpatterns as urlpatterns  # the urlconf

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@pytest.fixture
def segment() -> Segment:
    ContactProperty.objects.create(key="socio", label="Número de socio", type="number")
    ContactProperty.objects.create(key="nota", label="Nota", type="text")
    ana = ContactFactory(
        email="ana@correo.example", first_name="Ana", last_name="=HYPERLINK(\"http://x\")",
        phone="+34600123456", postal_code="28013", district="Centro", birth_year=1980,
        properties={"socio": 15, "nota": "@SUM(A1:A9)"},
    )
    ana.tags.add(Tag.objects.create(name="feria"), Tag.objects.create(name="-menos"))
    luis = ContactFactory(email="luis@correo.example", first_name="Luis", last_name="Pérez")
    ContactFactory(email="fuera@correo.example")  # not a member
    segment = Segment.objects.create(name="Feria 2026", kind=Segment.Kind.STATIC)
    SegmentMember.objects.create(segment=segment, contact=ana)
    SegmentMember.objects.create(segment=segment, contact=luis)
    return segment


def staff_client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def export_url(segment: Segment, fmt: str) -> str:
    return reverse(f"contacts_imports:segment-export-{fmt}", args=[segment.pk])


def csv_rows(response: Any) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_marketer_exports_a_segment_to_csv_with_every_column(
    marketer: Any, segment: Segment
) -> None:
    response = staff_client(marketer).get(export_url(segment, "csv"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="segment-')
    header, *rows = csv_rows(response)
    assert len(header) == 13 and header[-2:] == ["Nota", "Número de socio"]
    assert [row[0] for row in rows] == ["ana@correo.example", "luis@correo.example"]
    ana = dict(zip(header, rows[0], strict=True))
    assert list(ana.values())[1:8] == [
        "Ana", "'=HYPERLINK(\"http://x\")", "'+34600123456", "es", "28013", "Centro", "1980"
    ]
    assert list(ana.values())[10:] == ["'-menos, feria", "'@SUM(A1:A9)", "15"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_formulas_behind_blanks_or_in_full_width_are_escaped_in_both_formats(
    marketer: Any, fmt: str
) -> None:
    """Every case of inbound.lib.spreadsheets reaches the file (its own tests list them all)."""
    ContactProperty.objects.create(key="nota", label="Nota", type="text")
    contact = ContactFactory(
        email="eva@correo.example",
        first_name=' =HYPERLINK("http://x")',
        last_name="＠SUM(A1:A9)",
        district="\u3000＝1+1",
        properties={"nota": "\r\n-2+3"},
    )
    segment = Segment.objects.create(name="Eva", kind=Segment.Kind.STATIC)
    SegmentMember.objects.create(segment=segment, contact=contact)

    response = staff_client(marketer).get(export_url(segment, fmt))

    if fmt == "csv":
        header, row = csv_rows(response)
    else:
        content = io.BytesIO(b"".join(response.streaming_content))
        header, row = load_workbook(content, read_only=True).worksheets[0].iter_rows(
            values_only=True
        )
    eva = dict(zip(header, row, strict=True))
    assert eva["nombre"] == "' =HYPERLINK(\"http://x\")"
    assert eva["apellidos"] == "'＠SUM(A1:A9)"
    assert eva["distrito"] == "'\u3000＝1+1"
    assert eva["Nota"].startswith("'")  # XLSX turns \r\n into \n; CSV keeps it


def test_dynamic_segment_exports_its_matching_contacts(marketer: Any) -> None:
    ContactFactory(email="centro@correo.example", district="Centro")
    ContactFactory(email="norte@correo.example", district="Norte")
    segment = Segment.objects.create(
        name="Centro", rules={"all": [{"field": "district", "op": "eq", "value": "Centro"}]}
    )
    response = staff_client(marketer).get(export_url(segment, "csv"))
    assert [row[0] for row in csv_rows(response)[1:]] == ["centro@correo.example"]


def test_marketer_exports_a_segment_to_xlsx(marketer: Any, segment: Segment) -> None:
    response = staff_client(marketer).get(export_url(segment, "xlsx"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 3
    assert rows[1][:3] == ("ana@correo.example", "Ana", "'=HYPERLINK(\"http://x\")")
    assert rows[1][7] == 1980 and rows[1][-1] == 15  # numbers stay numbers


def test_export_is_audited_with_the_segment_and_row_count(
    marketer: Any, segment: Segment
) -> None:
    response = staff_client(marketer).get(export_url(segment, "csv"))
    csv_rows(response)
    entry = AuditEntry.objects.get(action="contacts_exported")
    assert entry.actor == marketer
    assert (entry.object_type, entry.object_id) == ("contacts.segment", str(segment.pk))
    assert entry.detail == {"segment_id": segment.pk, "format": "csv", "rows": 2}


def test_admin_can_export(admin_user: Any, segment: Segment) -> None:
    assert staff_client(admin_user).get(export_url(segment, "xlsx")).status_code == 200


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_analyst_cannot_export_contacts(analyst: Any, segment: Segment, fmt: str) -> None:
    response = staff_client(analyst).get(export_url(segment, fmt))
    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action="contacts_exported").exists()


def test_editor_cannot_export_contacts(editor: Any, segment: Segment) -> None:
    assert staff_client(editor).get(export_url(segment, "csv")).status_code == 403


def test_anonymous_visitor_is_sent_to_login(client: Client, segment: Segment) -> None:
    response = client.get(export_url(segment, "csv"))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_admin_selection_exports_only_the_selected_contacts(
    marketer: Any, analyst: Any, segment: Segment
) -> None:
    request = RequestFactory().post("/")
    request.user = marketer
    selected = Contact.objects.filter(email="luis@correo.example")
    model_admin = admin.site._registry[Contact]
    response = contacts_export_csv(model_admin, request, selected)
    assert [row[0] for row in csv_rows(response)[1:]] == ["luis@correo.example"]
    workbook = load_workbook(
        io.BytesIO(b"".join(contacts_export_xlsx(model_admin, request, selected))),
        read_only=True,
    )
    assert len(list(workbook.worksheets[0].iter_rows())) == 2

    request.user = analyst
    with pytest.raises(PermissionDenied):
        contacts_export_csv(model_admin, request, selected)


def test_segment_page_links_its_exports_only_for_those_who_may_export(
    client: Client, marketer: Any, analyst: Any
) -> None:
    segment = Segment.objects.create(name="Todos", rules={})
    page = reverse("admin:contacts_segment_change", args=[segment.pk])
    export = reverse("contacts_imports:segment-export-csv", args=[segment.pk])
    client.force_login(marketer)
    assert export in client.get(page).content.decode()
    client.force_login(analyst)
    assert export not in client.get(page).content.decode()
