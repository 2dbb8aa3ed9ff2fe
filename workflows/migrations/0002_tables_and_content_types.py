"""The workflow tables take this app's names (`campaigns_workflow` → `workflows_workflow`, …;
PostgreSQL's foreign keys, indexes and constraints follow a renamed table), and their content
types move to this app: their ids stay, so the permissions staff and groups hold
(`workflows.view_workflow`, formerly `campaigns.view_workflow`) and any generic reference to a
workflow row keep working."""

from django.db import migrations

MODELS = ("workflow", "workflowstep", "enrollment", "steprun", "workflowaction", "workflowsegmentmember")


def content_types_move(apps, schema_editor, source="campaigns", target="workflows"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MODELS:
        old = ContentType.objects.using(db).filter(app_label=source, model=model).first()
        if old is None:
            continue  # a fresh database: post_migrate creates the new ones
        # A content type created for the new label before this ran (a `migrate` stopped between
        # 0001 and here) holds no grant anyone gave: the old one, with its permissions, wins.
        ContentType.objects.using(db).filter(app_label=target, model=model).delete()
        old.app_label = target
        old.save(update_fields=["app_label"])


def content_types_back(apps, schema_editor):
    content_types_move(apps, schema_editor, source="workflows", target="campaigns")


class Migration(migrations.Migration):

    dependencies = [
        ("campaigns", "0008_workflows_moved"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("workflows", "0001_initial"),
    ]

    operations = [
        *(migrations.AlterModelTable(name=model, table=None) for model in MODELS),
        migrations.RunPython(content_types_move, content_types_back),
    ]
