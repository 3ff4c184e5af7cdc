"""The newsroom's writing surface, registered on the project's admin site."""

from . import columns, entries, events, reference  # noqa: F401
