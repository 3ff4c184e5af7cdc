"""A GIN index for full-text search on PostgreSQL; SQLite has no such index and searches without it."""

from django.db import migrations


def index():
    from django.contrib.postgres.indexes import GinIndex
    from django.contrib.postgres.search import SearchVector

    # The same expression liveupdates.search queries with, so the planner can use it.
    return GinIndex(SearchVector("headline", "body", config="english"), name="entry_search_idx")


def add_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(apps.get_model("liveupdates", "Entry"), index())


def remove_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(apps.get_model("liveupdates", "Entry"), index())


class Migration(migrations.Migration):
    dependencies = [("liveupdates", "0003_live_events")]
    operations = [migrations.RunPython(add_index, remove_index)]
