"""Create the staff roles (Editor, Marketer, Analyst, Administrator).

Their permissions follow inbound.roles.ROLE_GRANTS; permissions of apps migrated later are
granted by the post_migrate hook in InboundConfig.ready().
"""

from django.db import migrations


def forwards(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    from inbound.roles import roles_sync

    # Permissions are normally created after migrate; create them now so the grants apply.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    roles_sync(
        group_model=apps.get_model("auth", "Group"),
        permission_model=apps.get_model("auth", "Permission"),
    )


def backwards(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(
        name__in=["Editor", "Marketer", "Analyst", "Administrator"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("inbound", "0002_auditentry_append_only"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
