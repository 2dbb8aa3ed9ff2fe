"""The CRM API: contacts, topics, segments and bulk touchpoints, per role."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, include, path
from django.utils import timezone, translation
from knox.models import AuthToken
from rest_framework.test import APIClient

from contacts.models import Contact, ContactProperty, Segment, Touchpoint, postal_code_validator
from contacts.segments import static_members_add
from inbound.models import AuditEntry
from inbound.urls import urlpatterns as project_urlpatterns
from tests.contacts.factories import ContactFactory, TopicFactory


def _namespaces(patterns: list[Any]) -> set[str]:
    found: set[str] = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace:
                found.add(pattern.namespace)
            found |= _namespaces(pattern.url_patterns)
    return found


# The project's URLs plus the CRM API, until the lead wires it in inbound/urls.py.
urlpatterns: list[URLPattern | URLResolver] = [*project_urlpatterns]
if "contacts_api" not in _namespaces(project_urlpatterns):
    urlpatterns.append(path("api/v1/", include("contacts.urls_api")))

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def es(message: Any) -> str:
    """The message as the API answers it: the API speaks the default language, Spanish."""
    with translation.override("es"):
        return str(translation.gettext(str(message)))


def api(user: Any = None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def ana() -> Contact:
    return ContactFactory(first_name="Ana", email="ana@correo.example", district="Centro")


# --- contacts ---------------------------------------------------------------------------------


def test_anonymous_callers_are_refused(ana: Contact) -> None:
    assert api().get("/api/v1/contacts/").status_code in {401, 403}
    assert api().post("/api/v1/touchpoints/", [{"kind": "page_view"}],
                      format="json").status_code in {401, 403}


def test_marketer_lists_contacts_and_the_read_is_audited(marketer: Any, ana: Contact) -> None:
    response = api(marketer).get("/api/v1/contacts/")
    assert response.status_code == 200
    assert [row["email"] for row in response.json()["results"]] == ["ana@correo.example"]
    entry = AuditEntry.objects.get(action="contacts_listed")
    assert entry.actor == marketer
    assert entry.detail["contact_ids"] == [ana.pk]


def test_analyst_cannot_list_contacts_but_reads_one_audited(analyst: Any, ana: Contact) -> None:
    response = api(analyst).get("/api/v1/contacts/")
    assert response.status_code == 403
    assert "ana@correo.example" not in response.content.decode()
    assert not AuditEntry.objects.filter(action="contacts_listed").exists()

    response = api(analyst).get(f"/api/v1/contacts/{ana.pk}/")
    assert response.json()["district"] == "Centro"
    assert AuditEntry.objects.filter(action="contact_viewed", object_id=str(ana.pk)).exists()
    # A list is personal data in bulk: an export, which Analysts never make.
    response = api(analyst).get("/api/v1/contacts/")
    assert response.status_code == 403
    assert "ana@correo.example" not in response.content.decode()
    assert not AuditEntry.objects.filter(action="contacts_listed").exists()


def test_analyst_gets_the_counts_of_contacts_without_anyone_in_them(
    analyst: Any, ana: Contact
) -> None:
    ContactFactory(email="luis@correo.example", language="en")
    ContactFactory(email="borrada@correo.example", anonymised_at=timezone.now())

    response = api(analyst).get("/api/v1/contacts/count/")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert body["by_language"] == {"es": 1, "en": 1}
    assert sum(body["by_lifecycle"].values()) == 2
    assert "correo.example" not in response.content.decode()
    assert api().get("/api/v1/contacts/count/").status_code in {401, 403}


def test_analyst_cannot_write_contacts(analyst: Any, ana: Contact) -> None:
    client = api(analyst)
    assert client.post("/api/v1/contacts/", {"email": "x@correo.example"},
                       format="json").status_code == 403
    assert client.patch(f"/api/v1/contacts/{ana.pk}/", {"district": "Norte"},
                        format="json").status_code == 403
    assert not Contact.objects.filter(email="x@correo.example").exists()


def test_editor_cannot_read_contacts_but_lists_topics(editor: Any, ana: Contact) -> None:
    TopicFactory(slug="movilidad", name="Movilidad")
    assert api(editor).get("/api/v1/contacts/").status_code == 403
    response = api(editor).get("/api/v1/topics/")
    assert response.status_code == 200
    assert [t["slug"] for t in response.json()["results"]] == ["movilidad"]


def test_marketer_creates_a_contact_with_a_token(marketer: Any) -> None:
    ContactProperty.objects.create(key="score", label="Score", type="number")
    _instance, token = AuthToken.objects.create(user=marketer)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.post("/api/v1/contacts/", {
        "email": "Nuevo@Correo.example", "first_name": "Nuevo", "postal_code": "28001",
        "properties": {"score": "7,5"}, "tags": ["prensa"],
    }, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "nuevo@correo.example"
    assert body["properties"] == {"score": 7.5}
    assert body["tags"] == ["prensa"]
    assert body["source"] == "api"
    assert AuditEntry.objects.filter(action="contact_created", object_id=str(body["id"])).exists()


def test_creating_an_existing_email_updates_it(marketer: Any, ana: Contact) -> None:
    response = api(marketer).post("/api/v1/contacts/", {
        "email": "ANA@correo.example", "district": "Norte"}, format="json")
    assert response.status_code == 200
    ana.refresh_from_db()
    assert ana.district == "Norte"


def test_invalid_contact_data_answers_400_with_field_messages(marketer: Any) -> None:
    response = api(marketer).post("/api/v1/contacts/", {
        "email": "nuevo@correo.example", "postal_code": "99999", "properties": {"shoe": 1},
    }, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["postal_code"] == [es(postal_code_validator.message)]
    assert not Contact.objects.filter(email="nuevo@correo.example").exists()
    response = api(marketer).post("/api/v1/contacts/", {"email": "not-an-email"}, format="json")
    assert response.json() == {"email": [es("Enter a valid email address.")]}


def test_update_goes_through_the_version_check(marketer: Any, ana: Contact) -> None:
    client = api(marketer)
    response = client.patch(f"/api/v1/contacts/{ana.pk}/",
                            {"district": "Norte", "version": ana.version}, format="json")
    assert response.status_code == 200
    assert response.json()["district"] == "Norte"
    assert response.json()["version"] == ana.version + 1
    assert AuditEntry.objects.filter(action="contact_changed", object_id=str(ana.pk)).exists()

    stale = client.patch(f"/api/v1/contacts/{ana.pk}/",
                         {"district": "Sur", "version": ana.version}, format="json")
    assert stale.status_code == 409
    ana.refresh_from_db()
    assert ana.district == "Norte"


# --- segments ---------------------------------------------------------------------------------


@pytest.fixture
def centro(ana: Contact) -> Segment:
    ContactFactory(first_name="Berta", district="Centro")
    ContactFactory(first_name="Carla", district="Norte")
    return Segment.objects.create(
        name="Centro", rules={"field": "district", "op": "eq", "value": "Centro"}
    )


def test_segments_list_retrieve_and_count(analyst: Any, centro: Segment) -> None:
    client = api(analyst)
    assert [s["name"] for s in client.get("/api/v1/segments/").json()["results"]] == ["Centro"]
    assert client.get(f"/api/v1/segments/{centro.pk}/").json()["rules"] == centro.rules
    assert client.get(f"/api/v1/segments/{centro.pk}/count/").json() == {"count": 2}


def test_analyst_gets_a_segments_count_but_not_its_members(
    analyst: Any, centro: Segment
) -> None:
    assert api(analyst).get(f"/api/v1/segments/{centro.pk}/count/").json() == {"count": 2}
    response = api(analyst).get(f"/api/v1/segments/{centro.pk}/members/")
    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action="segment_members_viewed").exists()


def test_segment_members_are_paginated_and_audited(marketer: Any, centro: Segment) -> None:
    response = api(marketer).get(f"/api/v1/segments/{centro.pk}/members/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert {row["first_name"] for row in body["results"]} == {"Ana", "Berta"}
    entry = AuditEntry.objects.get(action="segment_members_viewed")
    assert len(entry.detail["contact_ids"]) == 2


def test_static_list_members(marketer: Any, ana: Contact) -> None:
    listed = Segment.objects.create(name="Prensa", kind=Segment.Kind.STATIC)
    static_members_add(segment=listed, contacts=[ana])
    body = api(marketer).get(f"/api/v1/segments/{listed.pk}/members/").json()
    assert [row["email"] for row in body["results"]] == ["ana@correo.example"]


def test_analyst_counts_a_segment_but_cannot_list_its_members(
    analyst: Any, centro: Segment
) -> None:
    client = api(analyst)
    assert client.get(f"/api/v1/segments/{centro.pk}/count/").json() == {"count": 2}
    response = client.get(f"/api/v1/segments/{centro.pk}/members/")
    assert response.status_code == 403
    assert "Ana" not in response.content.decode()
    assert not AuditEntry.objects.filter(action="segment_members_viewed").exists()


def test_editor_cannot_see_segments(editor: Any, centro: Segment) -> None:
    assert api(editor).get(f"/api/v1/segments/{centro.pk}/members/").status_code == 403


# --- touchpoints ------------------------------------------------------------------------------


def test_a_batch_of_touchpoints_is_recorded(marketer: Any, ana: Contact) -> None:
    response = api(marketer).post("/api/v1/touchpoints/", [
        {"kind": "email_open", "contact_email": "ANA@correo.example",
         "occurred_at": "2026-03-01T10:00:00+01:00"},
        {"kind": "page_view", "visitor_key": "abc", "properties": {"path": "/es/"}},
        {"kind": "kiosk_visit", "stage": "serve", "contact_id": ana.pk},
    ], format="json")
    assert response.status_code == 201
    assert response.json() == {"recorded": 3}
    assert set(Touchpoint.objects.filter(contact=ana).values_list("kind", flat=True)) == {
        "email_open", "kiosk_visit"}
    assert Touchpoint.objects.get(kind="page_view").properties == {"path": "/es/"}


def test_a_bad_batch_writes_nothing_and_names_the_rows(marketer: Any, ana: Contact) -> None:
    response = api(marketer).post("/api/v1/touchpoints/", [
        {"kind": "email_open", "contact_email": "ana@correo.example"},
        {"kind": "email_open", "contact_email": "nadie@correo.example"},
        {"kind": "kiosk_visit"},
        {"kind": "page_view", "contact_id": 999999},
    ], format="json")
    assert response.status_code == 400
    body = response.json()
    assert set(body["rows"]) == {"2"}
    assert body["rows"]["2"] == {"stage": [es("Unknown touchpoint kind: give its stage.")]}
    assert Touchpoint.objects.count() == 0

    response = api(marketer).post("/api/v1/touchpoints/", [
        {"kind": "email_open", "contact_email": "ana@correo.example"},
        {"kind": "email_open", "contact_email": "nadie@correo.example"},
        {"kind": "page_view", "contact_id": 999999},
    ], format="json")
    assert response.status_code == 400
    assert response.json()["rows"] == {
        "1": {"contact_email": [es("No contact has this email.")]},
        "2": {"contact_id": [es("No contact has this id.")]},
    }
    assert Touchpoint.objects.count() == 0


def test_batches_are_limited_to_a_thousand(marketer: Any) -> None:
    response = api(marketer).post("/api/v1/touchpoints/", [{"kind": "page_view"}] * 1001,
                                  format="json")
    assert response.status_code == 400
    assert Touchpoint.objects.count() == 0
    assert api(marketer).post("/api/v1/touchpoints/", {"kind": "page_view"},
                              format="json").status_code == 400


def test_analyst_cannot_record_touchpoints(analyst: Any) -> None:
    response = api(analyst).post("/api/v1/touchpoints/", [{"kind": "page_view"}], format="json")
    assert response.status_code == 403
    assert Touchpoint.objects.count() == 0


def test_the_api_is_in_the_openapi_schema(admin_user: Any) -> None:
    client = api(admin_user)
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    for expected in ("/api/v1/contacts/", "/api/v1/contacts/{id}/", "/api/v1/contacts/count/",
                     "/api/v1/topics/",
                     "/api/v1/segments/{id}/count/", "/api/v1/segments/{id}/members/",
                     "/api/v1/touchpoints/"):
        assert expected in paths
