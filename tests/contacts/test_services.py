"""Writing contacts: upsert, consent ledger, touchpoints, stitching, merging."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation

from contacts.models import (
    ConsentRecord,
    Contact,
    ContactProperty,
    Subscription,
    Tombstone,
    Touchpoint,
)
from contacts.services import (
    ConcurrentEditError,
    TouchpointIn,
    contact_merge,
    contact_update,
    contact_upsert,
    identity_stitch,
    subscription_set,
    touchpoint_record,
    touchpoints_record_bulk,
)
from contacts.signals import touchpoint_recorded
from contacts.validation import email_hash
from inbound.lib.errors import DomainError
from inbound.models import AuditEntry
from tests.contacts.factories import ContactFactory, TopicFactory, grant

pytestmark = pytest.mark.django_db


def test_email_is_unique_whatever_its_case() -> None:
    contact, created = contact_upsert(email="  Ana.Lopez@Correo.Example ", source="form")
    assert created and contact.email == "ana.lopez@correo.example"
    again, created = contact_upsert(email="ANA.LOPEZ@correo.example", data={"first_name": "Ana"})
    assert not created and again.pk == contact.pk and again.first_name == "Ana"
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.create(email="Ana.Lopez@CORREO.example")


def test_upsert_never_overwrites_known_data_with_blanks() -> None:
    contact_upsert(
        email="pepe@correo.example",
        data={"first_name": "Pepe", "phone": "600 123 456", "postal_code": "28013"},
    )
    contact, _ = contact_upsert(
        email="pepe@correo.example", data={"first_name": "", "phone": None, "district": "Centro"}
    )
    assert (contact.first_name, contact.phone, contact.postal_code, contact.district) == (
        "Pepe",
        "+34600123456",
        "28013",
        "Centro",
    )
    assert contact.version == 2


def test_bad_phone_postal_code_and_email_get_spanish_field_errors() -> None:
    with translation.override("es"), pytest.raises(ValidationError) as error:
        contact_upsert(
            email="luis@correo.example",
            data={"phone": "12", "postal_code": "99999", "birth_year": "19xx"},
        )
    messages = error.value.message_dict
    assert "Introduce un teléfono válido" in messages["phone"][0]
    assert "código postal" in messages["postal_code"][0]
    assert "año de nacimiento" in messages["birth_year"][0]
    with (
        translation.override("es"),
        pytest.raises(ValidationError, match="correo electrónico válida"),
    ):
        contact_upsert(email="no-es-un-correo")
    assert not Contact.objects.exists()


def test_four_digit_postal_code_from_a_spreadsheet_gets_its_zero_back() -> None:
    contact, _ = contact_upsert(email="a@correo.example", data={"postal_code": "8001"})
    assert contact.postal_code == "08001"


def test_custom_properties_are_typed_by_their_definition() -> None:
    ContactProperty.objects.create(key="hijos", label="Hijos", type="number")
    ContactProperty.objects.create(
        key="barrio_preferido", label="Barrio", type="choice", choices=["Centro", "Norte"]
    )
    contact, _ = contact_upsert(
        email="b@correo.example", properties={"hijos": "2", "barrio_preferido": "Norte"}
    )
    assert contact.properties == {"hijos": 2, "barrio_preferido": "Norte"}
    with pytest.raises(ValidationError) as error:
        contact_upsert(email="b@correo.example", properties={"hijos": "muchos", "color": "azul"})
    text = " ".join(error.value.message_dict["properties"])
    assert "muchos" in text and "color" in text
    contact.refresh_from_db()
    assert contact.properties == {"hijos": 2, "barrio_preferido": "Norte"}


def test_tombstoned_email_is_not_brought_back_by_an_import() -> None:
    Tombstone.objects.create(email_hash=email_hash("borrada@correo.example"))
    with pytest.raises(DomainError):
        contact_upsert(email="Borrada@correo.example", source="import", respect_tombstones=True)
    assert not Contact.objects.exists()


def test_concurrent_staff_edit_is_refused_not_lost(marketer: Any) -> None:
    contact = ContactFactory(first_name="Eva")
    seen = contact.version
    contact_update(
        contact=contact, data={"first_name": "Eva María"}, expected_version=seen, actor=marketer
    )
    with pytest.raises(ConcurrentEditError):
        contact_update(
            contact=contact, data={"last_name": "Ruiz"}, expected_version=seen, actor=marketer
        )
    contact.refresh_from_db()
    assert (contact.first_name, contact.last_name) == ("Eva María", "García")
    assert AuditEntry.objects.filter(action="contact_changed").count() == 1


def test_consent_ledger_is_append_only_and_keeps_the_text_shown() -> None:
    contact = ContactFactory()
    record = grant(contact)
    assert record.text == "Acepto recibir información del Ayuntamiento."
    record.action = ConsentRecord.Action.WITHDRAWN
    with pytest.raises(ValueError, match="append-only"):
        record.save()


def test_touchpoint_signal_is_sent_only_after_commit() -> None:
    contact = ContactFactory()
    received: list[Touchpoint] = []

    def listener(sender: Any, touchpoint: Touchpoint, **kwargs: Any) -> None:
        received.append(touchpoint)

    touchpoint_recorded.connect(listener)
    try:
        with pytest.raises(RuntimeError), transaction.atomic():
            touchpoint_record(kind="form_submit", contact=contact)
            raise RuntimeError
        assert received == []
        with transaction.atomic():
            touchpoint_record(kind="email_click", contact=contact, properties={"url": "/x"})
            assert received == []  # not before commit
        # pytest-django wraps tests in a transaction; run the on_commit callbacks it holds.
    finally:
        touchpoint_recorded.disconnect(listener)


def test_touchpoint_signal_fires_on_commit(django_capture_on_commit_callbacks: Any) -> None:
    contact = ContactFactory()
    received: list[str] = []
    touchpoint_recorded.connect(
        lambda sender, touchpoint, **kw: received.append(touchpoint.kind),
        weak=False,
        dispatch_uid="test-listener",
    )
    try:
        with django_capture_on_commit_callbacks(execute=True):
            touchpoint_record(kind="form_submit", contact=contact)
        assert received == ["form_submit"]
    finally:
        touchpoint_recorded.disconnect(dispatch_uid="test-listener")
    contact.refresh_from_db()
    assert contact.last_activity_at is not None


def test_unknown_touchpoint_kind_needs_a_stage() -> None:
    with pytest.raises(ValidationError):
        touchpoint_record(kind="carrier_pigeon")
    assert touchpoint_record(kind="carrier_pigeon", stage="serve").stage == "serve"


def test_bulk_touchpoints_are_inserted_in_batches() -> None:
    contact = ContactFactory()
    rows = [TouchpointIn(kind="page_view", visitor_key=f"v{i % 3}") for i in range(250)]
    rows.append(TouchpointIn(kind="email_open", contact_id=contact.pk))
    assert touchpoints_record_bulk(rows=rows, batch_size=100) == 251
    assert Touchpoint.objects.filter(kind="page_view", contact__isnull=True).count() == 250
    contact.refresh_from_db()
    assert contact.last_activity_at is not None


def test_identity_stitching_needs_tracking_consent() -> None:
    contact = ContactFactory()
    touchpoints_record_bulk(rows=[TouchpointIn(kind="page_view", visitor_key="abc")] * 3)
    assert identity_stitch(contact=contact, visitor_key="abc") == 0
    assert Touchpoint.objects.filter(contact=contact).count() == 0
    grant(contact, purpose=ConsentRecord.Purpose.TRACKING)
    assert identity_stitch(contact=contact, visitor_key="abc") == 3
    assert Touchpoint.objects.filter(contact=contact, kind="page_view").count() == 3


def test_withdrawing_tracking_consent_blanks_the_visitor_keys_on_the_contacts_rows() -> None:
    contact = ContactFactory()
    grant(contact, purpose=ConsentRecord.Purpose.TRACKING)
    touchpoints_record_bulk(rows=[TouchpointIn(kind="page_view", visitor_key="abc")] * 2)
    identity_stitch(contact=contact, visitor_key="abc")
    touchpoints_record_bulk(rows=[TouchpointIn(kind="page_view", visitor_key="abc")])  # later

    grant(contact, purpose=ConsentRecord.Purpose.TRACKING, action=ConsentRecord.Action.WITHDRAWN)

    linked = Touchpoint.objects.filter(contact=contact)
    assert [t.visitor_key for t in linked] == ["", ""]  # kept on the timeline, unkeyed
    assert identity_stitch(contact=contact, visitor_key="abc") == 0
    assert Touchpoint.objects.get(contact=None).visitor_key == "abc"  # anonymous rows untouched


def test_merge_moves_history_and_keeps_the_most_recently_verified_data(marketer: Any) -> None:
    old = ContactFactory(
        email="maria@viejo.example",
        phone="+34600000001",
        district="Norte",
        email_verified_at=timezone.now() - dt.timedelta(days=400),
    )
    new = ContactFactory(
        email="maria@nuevo.example",
        phone="+34600000002",
        district="",
        email_verified_at=timezone.now(),
    )
    touchpoint_record(kind="page_view", contact=new)
    grant(new)
    merged = contact_merge(primary=old, duplicate=new, actor=marketer)
    assert merged.email == "maria@viejo.example"
    assert merged.phone == "+34600000002"  # newer verified value
    assert merged.district == "Norte"  # newer had none
    assert Touchpoint.objects.filter(contact=merged).count() == 1
    assert ConsentRecord.objects.filter(contact=merged).count() == 1
    assert not Contact.objects.filter(pk=new.pk).exists()
    entry = AuditEntry.objects.get(action="contact_merged")
    assert entry.detail["merged_contact_id"] == new.pk
    assert "maria@nuevo.example" not in str(entry.detail)


def test_merge_never_subscribes_someone_who_unsubscribed(marketer: Any) -> None:
    topic = TopicFactory(slug="movilidad")
    keeps = ContactFactory(email="juan@a.example")
    left = ContactFactory(email="juan@b.example")
    grant(keeps, purpose="topic", topic=topic, occurred_at=timezone.now() - dt.timedelta(days=30))
    subscription_set(contact=keeps, topic=topic, status=Subscription.Status.ACTIVE)
    grant(left, purpose="topic", topic=topic, action=ConsentRecord.Action.WITHDRAWN)
    subscription_set(contact=left, topic=topic, status=Subscription.Status.UNSUBSCRIBED)
    merged = contact_merge(primary=keeps, duplicate=left, actor=marketer)
    assert Subscription.objects.get(contact=merged, topic=topic).status == "unsubscribed"


def test_merge_never_subscribes_someone_who_never_consented(marketer: Any) -> None:
    topic = TopicFactory(slug="cultura")
    primary = ContactFactory(email="x@a.example")
    duplicate = ContactFactory(email="x@b.example")
    # An active subscription without any consent record (e.g. bad legacy data).
    subscription_set(contact=duplicate, topic=topic, status=Subscription.Status.ACTIVE)
    merged = contact_merge(primary=primary, duplicate=duplicate, actor=marketer)
    assert Subscription.objects.get(contact=merged, topic=topic).status != "active"


def test_new_data_moves_the_contact_to_its_persona_at_the_next_tick() -> None:
    from contacts.derived import derived_refresh_pending
    from contacts.models import Persona

    Persona.objects.create(
        name="Antonio, jubilado",
        priority=1,
        rules={"all": [{"field": "age", "op": "gte", "value": 65}]},
    )
    contact, _ = contact_upsert(email="antonio@correo.example")
    derived_refresh_pending()
    contact.refresh_from_db()
    assert contact.persona_id is None
    contact_upsert(email="antonio@correo.example", data={"birth_year": 1950})
    assert derived_refresh_pending() == 1
    contact.refresh_from_db()
    assert contact.persona is not None and contact.persona.name == "Antonio, jubilado"


def test_bulk_touchpoints_move_last_activity_forward_in_few_queries(
    django_assert_max_num_queries: Any,
) -> None:
    now = timezone.now()
    people = [ContactFactory(last_activity_at=now - dt.timedelta(days=1)) for _ in range(3)]
    rows = [
        TouchpointIn(
            kind="email_open", contact_id=people[0].pk, occurred_at=now - dt.timedelta(hours=1)
        ),
        TouchpointIn(
            kind="email_open", contact_id=people[0].pk, occurred_at=now - dt.timedelta(hours=2)
        ),
        TouchpointIn(
            kind="email_open", contact_id=people[1].pk, occurred_at=now - dt.timedelta(days=3)
        ),
        TouchpointIn(kind="email_open", contact_id=people[2].pk, occurred_at=now),
    ]
    with django_assert_max_num_queries(4):
        touchpoints_record_bulk(rows=rows)
    for person in people:
        person.refresh_from_db()
    assert people[0].last_activity_at == now - dt.timedelta(hours=1)
    assert people[1].last_activity_at == now - dt.timedelta(days=1)  # older touchpoint: kept
    assert people[2].last_activity_at == now


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the database trigger exists on PostgreSQL only"
)
def test_the_database_refuses_to_change_or_delete_a_consent_record() -> None:
    from django.db import DatabaseError, transaction

    from contacts.models import ConsentRecord
    from tests.contacts.factories import grant

    contact, other = ContactFactory(), ContactFactory()
    grant(contact)
    rows = ConsentRecord.objects.filter(contact=contact)
    for change in (
        lambda: rows.update(action=ConsentRecord.Action.WITHDRAWN),
        lambda: rows.update(text="otro texto"),
        lambda: rows.delete(),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            change()
    # Merging re-points the ledger to the contact that stays: allowed.
    assert rows.update(contact=other) == 1
    assert ConsentRecord.objects.get(contact=other).text.startswith("Acepto recibir")
