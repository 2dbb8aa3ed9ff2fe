"""Every staff look at personal data in the admin is audited: the lists (with the search typed)
and the pages of contacts, submissions, imports and workflow enrolments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from contacts.models import Contact, ImportJob
from conversion.models import Submission
from inbound.models import AuditEntry
from tests.contacts.factories import ContactFactory
from tests.conversion.factories import FormFactory
from workflows.models import Enrollment, Workflow

pytestmark = pytest.mark.django_db


def a_contact() -> Contact:
    return ContactFactory(email="rosa.gil@correo.example", first_name="Rosa")


def a_submission() -> Submission:
    contact = a_contact()
    return Submission.objects.create(
        form=FormFactory(name="Boletín"),
        form_version=1,
        contact=contact,
        values={"email": contact.email, "comment": "Vivo en la calle Mayor"},
        language="es",
        idempotency_key="k1",
    )


def an_import(user: Any) -> ImportJob:
    return ImportJob.objects.create(
        legal_basis="consent", created_by=user, status="done", original_name="vecinos.csv"
    )


def an_enrollment() -> Enrollment:
    workflow = Workflow.objects.create(name="Bienvenida", trigger="touchpoint")
    return Enrollment.objects.create(workflow=workflow, contact=a_contact(), seq=1)


# (admin URL name prefix, audit action prefix, maker, a search that finds the row)
CASES: list[tuple[str, str, Callable[[Any], Any], str]] = [
    ("contacts_contact", "contact", lambda user: a_contact(), "rosa.gil"),
    ("conversion_submission", "submission", lambda user: a_submission(), "rosa.gil"),
    ("contacts_importjob", "import", an_import, "vecinos"),
    ("workflows_enrollment", "enrollment", lambda user: an_enrollment(),
     "rosa.gil@correo.example"),
]


@pytest.mark.parametrize(("url_name", "action", "make", "search"), CASES)
def test_a_list_shown_is_audited_with_its_rows_and_the_search_typed(
    client: Client, admin_user: Any, url_name: str, action: str, make: Any, search: str
) -> None:
    obj = make(admin_user)
    client.force_login(admin_user)
    response = client.get(reverse(f"admin:{url_name}_changelist"), {"q": search})
    assert response.status_code == 200
    entry = AuditEntry.objects.get(action=f"{action}_list_viewed")
    assert entry.actor == admin_user
    assert entry.detail["ids"] == [obj.pk]
    assert entry.detail["search"] == search
    assert entry.ip_hash  # the request's address, hashed


@pytest.mark.parametrize(("url_name", "action", "make", "search"), CASES)
def test_a_page_shown_is_audited_with_its_object(
    client: Client, admin_user: Any, url_name: str, action: str, make: Any, search: str
) -> None:
    obj = make(admin_user)
    client.force_login(admin_user)
    for page in ("change", "history"):
        response = client.get(reverse(f"admin:{url_name}_{page}", args=[obj.pk]))
        assert response.status_code == 200
    entries = AuditEntry.objects.filter(action=f"{action}_viewed").order_by("id")
    assert [(e.object_id, e.detail["page"]) for e in entries] == [
        (str(obj.pk), "change"), (str(obj.pk), "history")
    ]
    assert all(e.actor == admin_user for e in entries)
    # The entry names the object without its personal data: the log outlives erasure.
    assert "rosa" not in entries[0].object_repr.lower()


def test_the_filters_chosen_are_audited_too(client: Client, marketer: Any) -> None:
    a_contact()
    client.force_login(marketer)
    client.get(reverse("admin:contacts_contact_changelist"), {"language__exact": "es", "o": "1"})
    entry = AuditEntry.objects.get(action="contact_list_viewed")
    assert entry.detail["filters"] == {"language__exact": "es"}
    assert entry.detail["search"] == ""


def test_a_refused_look_records_nothing(client: Client, editor: Any) -> None:
    contact = a_contact()
    client.force_login(editor)
    assert client.get(reverse("admin:contacts_contact_changelist")).status_code == 403
    url = reverse("admin:contacts_contact_change", args=[contact.pk])
    assert client.get(url).status_code == 403
    assert not AuditEntry.objects.filter(action__startswith="contact_").exists()
