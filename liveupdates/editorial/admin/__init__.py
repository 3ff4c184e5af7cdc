"""The newsroom's writing surface, registered on the project's admin site."""

from liveupdates.editorial.admin import cards, columns, desk, entries, events, posts, reference  # noqa: F401
