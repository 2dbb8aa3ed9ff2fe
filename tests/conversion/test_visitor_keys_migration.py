"""The migration that makes the visitor keys stored before daily salts untraceable
(`conversion/migrations/0007_visitor_keys_rekeyed.py`), run on rows shaped like the old ones."""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from contacts.models import ConsentRecord, Touchpoint
from contacts.services import TouchpointIn, touchpoints_record_bulk
from conversion.abtests import abtest_results
from conversion.models import Submission
from inbound.lib.privacy import ip_hash
from tests.contacts.factories import ContactFactory, grant
from tests.conversion.test_abtests import page_with_form, start_test

pytestmark = pytest.mark.django_db

migration = importlib.import_module("conversion.migrations.0007_visitor_keys_rekeyed")


def migrate() -> None:
    migration.visitor_keys_rekey(apps, SimpleNamespace(connection=connection))


@pytest.fixture(autouse=True)
def _ledger_as_before_its_trigger() -> Iterator[None]:
    """The migration runs before the consent ledger becomes append-only in PostgreSQL
    (`run_before`): here, on today's schema, the trigger is set aside for the test's own
    transaction (ALTER TABLE is transactional; the test's rollback restores it)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "ALTER TABLE contacts_consentrecord "
                "DISABLE TRIGGER contacts_consentrecord_append_only"
            )
    yield


def test_old_keys_are_rekeyed_untraceably_and_blanked_on_contacts_rows() -> None:
    old = [ip_hash(f"10.0.0.{n}") for n in range(3)]
    contact = ContactFactory()
    grant(contact, ConsentRecord.Purpose.NEWSLETTER)
    ConsentRecord.objects.filter(contact=contact).update(ip_hash=old[0])
    touchpoints_record_bulk(
        rows=[
            TouchpointIn(kind="page_view", visitor_key=old[0]),
            TouchpointIn(kind="search", visitor_key=old[0]),
            TouchpointIn(kind="page_view", visitor_key=old[1]),
            TouchpointIn(kind="page_view"),
            TouchpointIn(kind="form_submit", contact_id=contact.pk, visitor_key=old[0]),
        ]
    )

    migrate()

    keys = list(
        Touchpoint.objects.filter(contact=None).order_by("pk").values_list("visitor_key", flat=True)
    )
    assert keys[0] == keys[1] != keys[2]  # the same visitor stays the same visitor
    assert keys[3] == ""
    assert not set(keys) & set(old)  # no key can be recomputed from an address any more
    assert Touchpoint.objects.get(contact=contact).visitor_key == ""
    assert ConsentRecord.objects.get(contact=contact).ip_hash == ""


def test_ab_figures_survive_the_move_of_conversions_off_the_submissions() -> None:
    test = start_test(page_with_form())
    variant = test.variants.get()
    control_keys = [ip_hash(f"10.1.0.{n}") for n in range(30)]
    variant_keys = [ip_hash(f"10.2.0.{n}") for n in range(30)]
    touchpoints_record_bulk(
        rows=[
            TouchpointIn(
                kind="page_view",
                visitor_key=key,
                subject=test.landing_page,
                properties={"ab_test": test.pk, "variant": arm},
            )
            for keys, arm in ((control_keys, 0), (variant_keys, variant.pk))
            for key in keys
        ]
    )
    page = test.landing_page
    Submission.objects.bulk_create(
        [
            Submission(
                form=page.form,
                form_version=1,
                language="es",
                visitor_key=key,
                landing_page=page,
                variant=arm,
                idempotency_key=uuid.uuid4().hex,
            )
            for keys, arm in ((control_keys[:6], None), (variant_keys[:12], variant))
            for key in keys
        ]
    )
    # The figures as the old code counted them: by the submissions' keys.
    before = [(6, 30), (12, 30)]

    migrate()

    assert set(Submission.objects.values_list("visitor_key", flat=True)) == {""}
    control, challenger = abtest_results(test=test).arms
    assert [
        (control.conversions, control.visitors),
        (challenger.conversions, challenger.visitors),
    ] == before
