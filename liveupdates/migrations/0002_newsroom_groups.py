"""The newsroom's two roles, with their permissions.

Journalists write and submit; editors do everything, including publishing.
`publish_entry` alone can also be given to a senior journalist.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

JOURNALIST_PERMISSIONS = {
    "liveupdates": [
        "view_entry", "add_entry", "change_entry",
        "view_citation", "add_citation", "change_citation", "delete_citation",
        "view_livepost", "view_column", "view_author",
        "view_place", "add_place", "view_source", "add_source",
        "view_workflowevent",
    ],
    "taggit": ["view_tag", "add_tag"],
}

EDITOR_EXTRA = {
    "liveupdates": ["publish_entry", "review_entry", "publish_livepost"],
    "taggit": ["view_tag", "add_tag", "change_tag", "delete_tag", "view_taggeditem"],
}

LIVEUPDATES_MODELS = ["entry", "citation", "livepost", "column", "author", "place", "source"]


def _permissions(apps, spec):
    Permission = apps.get_model("auth", "Permission")
    found = []
    for app_label, codenames in spec.items():
        found += list(Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames))
    return found


def create_groups(apps, schema_editor):
    # Permissions are normally made after all migrations; make them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    journalists, _ = Group.objects.get_or_create(name="Journalists")
    journalists.permissions.set(_permissions(apps, JOURNALIST_PERMISSIONS))

    editor_codenames = [f"{verb}_{model}" for model in LIVEUPDATES_MODELS for verb in ("view", "add", "change", "delete")]
    editor_codenames += ["view_workflowevent"] + EDITOR_EXTRA["liveupdates"]
    editors, _ = Group.objects.get_or_create(name="Editors")
    editors.permissions.set(_permissions(apps, {"liveupdates": editor_codenames, "taggit": EDITOR_EXTRA["taggit"]}))


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["Journalists", "Editors"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("liveupdates", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("taggit", "0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
