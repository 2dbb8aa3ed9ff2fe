import django.db.models.deletion
from django.db import migrations, models

# Room in each page of deliveries for the lease written on every row before it is sent: with
# it, PostgreSQL writes the leased row as a heap-only tuple (HOT, `claimed_until` is in no
# index) instead of a new entry in each of the table's indexes.
FILLFACTOR = 60


def fillfactor_set(apps, schema_editor, value=FILLFACTOR):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE campaigns_delivery SET (fillfactor = {int(value)})")


def fillfactor_reset(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE campaigns_delivery RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0008_workflows_moved"),
    ]

    operations = [
        migrations.AlterField(
            model_name="delivery",
            name="campaign",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="deliveries",
                to="campaigns.campaign",
            ),
        ),
        migrations.RunPython(fillfactor_set, fillfactor_reset),
    ]
