"""The contact page in the admin: timeline, audit of every look, read-only for analysts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from contacts.services import TouchpointIn, touchpoints_record_bulk
from inbound.models import AuditEntry
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_contact_page_shows_the_timeline_newest_first_paginated(
    client: Client, marketer: Any
) -> None:
    contact = ContactFactory()
    start = timezone.now() - dt.timedelta(days=60)
    touchpoints_record_bulk(
        rows=[
            TouchpointIn(
                kind="page_view",
                contact_id=contact.pk,
                occurred_at=start + dt.timedelta(days=i),
                properties={"n": i},
            )
            for i in range(30)
        ]
    )
    client.force_login(marketer)
    url = reverse("admin:contacts_contact_change", args=[contact.pk])
    html = client.get(url).content.decode()
    assert "n=29" in html and "n=5" in html and "n=4" not in html  # 25 per page, newest first
    assert html.index("n=29") < html.index("n=28")
    older = client.get(url + "?timeline=2").content.decode()
    assert "n=4" in older and "n=0" in older and "n=29" not in older


def test_every_staff_look_at_a_contact_is_audited(client: Client, analyst: Any) -> None:
    contact = ContactFactory()
    client.force_login(analyst)
    response = client.get(reverse("admin:contacts_contact_change", args=[contact.pk]))
    assert response.status_code == 200
    entry = AuditEntry.objects.get(action="contact_viewed")
    assert entry.actor == analyst
    assert entry.object_id == str(contact.pk)


def test_analyst_cannot_change_a_contact(client: Client, analyst: Any) -> None:
    contact = ContactFactory(first_name="Rosa")
    client.force_login(analyst)
    url = reverse("admin:contacts_contact_change", args=[contact.pk])
    response = client.post(url, {"email": contact.email, "first_name": "Otra"})
    assert response.status_code == 403
    contact.refresh_from_db()
    assert contact.first_name == "Rosa"


def _form(contact: Any, **changes: Any) -> dict[str, Any]:
    data = {
        "email": contact.email,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "phone": "",
        "language": "es",
        "postal_code": "",
        "district": "",
        "birth_year": "",
        "properties": "{}",
        "source": "manual",
        "email_status": "active",
        "email_paused_until": "",
        "seen_version": contact.version,
        "subscriptions-TOTAL_FORMS": "0",
        "subscriptions-INITIAL_FORMS": "0",
        "consents-TOTAL_FORMS": "0",
        "consents-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return data


def test_two_staff_editing_the_same_contact_lose_nothing(client: Client, marketer: Any) -> None:
    contact = ContactFactory(first_name="Rosa", last_name="Gil")
    client.force_login(marketer)
    url = reverse("admin:contacts_contact_change", args=[contact.pk])
    first = _form(contact, first_name="Rosa María")
    second = _form(contact, last_name="Gil Pérez")  # loaded the same version
    assert client.post(url, first).status_code == 302
    response = client.post(url, second)
    assert response.status_code == 200
    assert "Otra persona ha cambiado este contacto" in response.content.decode()
    contact.refresh_from_db()
    assert (contact.first_name, contact.last_name) == ("Rosa María", "Gil")
    assert contact.version == 2


def _action(client: Client, action: str, contacts: list[Any], **extra: Any) -> Any:
    data = {"action": action, "_selected_action": [c.pk for c in contacts], **extra}
    return client.post(reverse("admin:contacts_contact_changelist"), data)


def test_staff_merge_two_duplicates_after_choosing_which_to_keep(
    client: Client, marketer: Any
) -> None:
    from contacts.models import Contact

    older = ContactFactory(email="ana@uno.example", district="Centro")
    newer = ContactFactory(email="ana@dos.example")
    client.force_login(marketer)
    confirm = _action(client, "contacts_merge", [older, newer])
    assert confirm.status_code == 200
    assert "¿Qué contacto se conserva?" in confirm.content.decode()
    done = _action(client, "contacts_merge", [older, newer], confirmed="yes", keep=newer.pk)
    assert done.status_code == 302
    assert list(Contact.objects.values_list("email", "district")) == [("ana@dos.example", "Centro")]
    assert AuditEntry.objects.filter(action="contact_merged", actor=marketer).exists()


def test_merge_needs_exactly_two_contacts(client: Client, marketer: Any) -> None:
    from contacts.models import Contact

    client.force_login(marketer)
    response = _action(client, "contacts_merge", [ContactFactory()], confirmed="yes")
    assert response.status_code == 302
    assert Contact.objects.count() == 1


def test_staff_add_selected_contacts_to_a_static_list(client: Client, marketer: Any) -> None:
    from contacts.models import Segment

    team = Segment.objects.create(name="Voluntariado", kind=Segment.Kind.STATIC)
    people = [ContactFactory(), ContactFactory()]
    client.force_login(marketer)
    assert "Lista estática" in _action(client, "contacts_add_to_list", people).content.decode()
    _action(client, "contacts_add_to_list", people, confirmed="yes", segment=team.pk)
    assert set(team.members.values_list("pk", flat=True)) == {p.pk for p in people}


def test_analyst_cannot_merge(client: Client, analyst: Any) -> None:
    from contacts.models import Contact

    pair = [ContactFactory(), ContactFactory()]
    client.force_login(analyst)
    _action(client, "contacts_merge", pair, confirmed="yes", keep=pair[0].pk)
    assert Contact.objects.count() == 2


def _with_consent(**fields: Any) -> Any:
    from tests.contacts.factories import grant

    contact = ContactFactory(**fields)
    grant(contact)
    return contact


def test_deleting_a_contact_in_the_admin_erases_it_after_asking_the_reason(
    client: Client, marketer: Any
) -> None:
    from contacts.models import ConsentRecord, Contact

    contact = _with_consent(email="borrar@correo.example", first_name="Amparo")
    client.force_login(marketer)
    url = reverse("admin:contacts_contact_delete", args=[contact.pk])

    page = client.get(url)
    assert page.status_code == 200
    assert "Reason" in page.content.decode() or "Motivo" in page.content.decode()
    contact.refresh_from_db()
    assert contact.anonymised_at is None  # a GET changes nothing

    response = client.post(url, {"confirmed": "yes", "reason": "Solicitud 2026/77"})

    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.anonymised_at is not None and contact.email is None
    assert Contact.objects.filter(pk=contact.pk).exists()  # never hard-deleted
    assert ConsentRecord.objects.filter(contact=contact).count() == 1  # the ledger stays
    entry = AuditEntry.objects.get(action="contact_anonymised")
    assert entry.actor == marketer and entry.detail["reason"] == "Solicitud 2026/77"


def test_bulk_delete_in_the_admin_erases_instead(client: Client, marketer: Any) -> None:
    from contacts.models import Contact

    contacts = [_with_consent(email=f"bulk{i}@correo.example") for i in range(2)]
    client.force_login(marketer)
    url = reverse("admin:contacts_contact_changelist")
    ids = [str(c.pk) for c in contacts]

    client.post(url, {"action": "delete_selected", "_selected_action": ids})
    assert Contact.objects.filter(anonymised_at__isnull=True, pk__in=ids).count() == 2
    client.post(
        url,
        {"action": "delete_selected", "_selected_action": ids, "confirmed": "yes",
         "reason": "Baja masiva"},
    )  # fmt: skip

    assert Contact.objects.filter(pk__in=ids, anonymised_at__isnull=False).count() == 2


def test_a_contact_with_a_consent_ledger_cannot_be_hard_deleted() -> None:
    from django.db.models import ProtectedError

    contact = _with_consent(email="protegido@correo.example")

    with pytest.raises(ProtectedError):
        contact.delete()
