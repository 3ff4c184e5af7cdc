"""Editors can read the login log (django-axes): who logged in to the admin, and who failed."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODENAMES = ["view_accesslog", "view_accessattempt", "view_accessfailurelog"]


def allow(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    editors = Group.objects.filter(name="Editors").first()
    if editors is not None:
        editors.permissions.add(*Permission.objects.filter(content_type__app_label="axes", codename__in=CODENAMES))


def disallow(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    editors = Group.objects.filter(name="Editors").first()
    if editors is not None:
        editors.permissions.remove(*Permission.objects.filter(content_type__app_label="axes", codename__in=CODENAMES))


class Migration(migrations.Migration):
    dependencies = [("liveupdates", "0005_entry_version"), ("axes", "0010_accessattemptexpiration")]
    operations = [migrations.RunPython(allow, disallow)]
