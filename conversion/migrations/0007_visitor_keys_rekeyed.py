"""Visitor keys stored before daily salts were lasting hashes of the address under SECRET_KEY,
so whoever holds the key could recompute them for every IPv4 address. This migration:

- re-keys every anonymous touchpoint's key under a random salt that is thrown away at the end,
  so equal keys stay equal (visitor counts, A/B figures) but none can be traced back;
- turns each A/B test's counted submissions into the anonymous `ab_conversion` rows the figures
  now read (conversion.abtests), under the same salt;
- blanks the keys on contacts' rows (their touchpoints and submissions) and the IP hashes in the
  consent ledger: none was stored with the tracking consent it now needs, and the ledger keeps
  none at all.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.db import migrations

BATCH = 2000


def visitor_keys_rekey(apps: Any, schema_editor: Any) -> None:
    salt = secrets.token_hex(32)

    def rekey(key: str) -> str:
        return hashlib.sha256(f"{salt}{key}".encode()).hexdigest()[:32]

    Touchpoint = apps.get_model("contacts", "Touchpoint")
    ConsentRecord = apps.get_model("contacts", "ConsentRecord")
    Submission = apps.get_model("conversion", "Submission")
    ABTest = apps.get_model("conversion", "ABTest")
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias

    Touchpoint.objects.using(db).filter(contact__isnull=False).exclude(visitor_key="").update(
        visitor_key=""
    )
    _anonymous_rekey(schema_editor, Touchpoint, salt, rekey)

    landing_type = (
        ContentType.objects.using(db).filter(app_label="conversion", model="landingpage").first()
    )
    conversions = []
    for test in ABTest.objects.using(db).all():
        sent = Submission.objects.using(db).filter(
            landing_page_id=test.landing_page_id, created_at__gte=test.started_at
        )
        if test.ended_at is not None:
            sent = sent.filter(created_at__lte=test.ended_at)
        rows = sent.exclude(visitor_key="").values_list("visitor_key", "variant_id", "created_at")
        conversions.extend(
            Touchpoint(
                kind="ab_conversion",
                stage="convert",
                visitor_key=rekey(key),
                subject_type=landing_type,
                subject_id=str(test.landing_page_id),
                properties={"ab_test": test.pk, "variant": variant_id or 0},
                occurred_at=created_at,
            )
            for key, variant_id, created_at in rows.iterator()
        )
    Touchpoint.objects.using(db).bulk_create(conversions, batch_size=BATCH)

    Submission.objects.using(db).exclude(visitor_key="").update(visitor_key="")
    ConsentRecord.objects.using(db).exclude(ip_hash="").update(ip_hash="")


def _anonymous_rekey(schema_editor: Any, Touchpoint: Any, salt: str, rekey: Any) -> None:
    """One UPDATE in the database: PostgreSQL hashes in SQL, SQLite calls `rekey`."""
    connection = schema_editor.connection
    table = connection.ops.quote_name(Touchpoint._meta.db_table)
    where = "contact_id IS NULL AND visitor_key <> ''"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} SET visitor_key = "  # noqa: S608 (our table; salt is a parameter)
                f"left(encode(sha256(convert_to(%s || visitor_key, 'UTF8')), 'hex'), 32) "
                f"WHERE {where}",
                [salt],
            )
        elif connection.vendor == "sqlite":
            connection.connection.create_function("inbound_rekey", 1, rekey, deterministic=True)
            cursor.execute(
                f"UPDATE {table} SET visitor_key = inbound_rekey(visitor_key) WHERE {where}"  # noqa: S608
            )
        else:
            rows = Touchpoint.objects.filter(contact__isnull=True).exclude(visitor_key="")
            for pk, key in rows.values_list("pk", "visitor_key").iterator():
                Touchpoint.objects.filter(pk=pk).update(visitor_key=rekey(key))


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0005_subscription_frequency"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("conversion", "0006_staged_submissions"),
    ]
    # It blanks ConsentRecord.ip_hash: before the ledger becomes append-only in the database.
    run_before = [("contacts", "0006_consent_ledger_protected")]

    operations = [migrations.RunPython(visitor_keys_rekey, migrations.RunPython.noop)]
