"""On PostgreSQL, make the audit log append-only in the database itself."""

from django.db import migrations

TRIGGER = """
CREATE OR REPLACE FUNCTION inbound_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER inbound_auditentry_append_only
    BEFORE UPDATE OR DELETE ON inbound_auditentry
    FOR EACH ROW EXECUTE FUNCTION inbound_audit_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS inbound_auditentry_append_only ON inbound_auditentry;
DROP FUNCTION IF EXISTS inbound_audit_append_only();
"""


def forwards(apps, schema_editor):
    # SQLite is the development database only; the model refuses changes there.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("inbound", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
