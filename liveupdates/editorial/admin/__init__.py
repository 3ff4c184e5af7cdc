"""The newsroom's writing surface, registered on the project's admin site."""

from liveupdates.editorial.admin import columns, desk, entries, events, posts, reference  # noqa: F401
