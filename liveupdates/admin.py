"""Django's admin looks for `liveupdates.admin`: the newsroom's admin lives in liveupdates/editorial/admin/."""

from liveupdates.editorial import admin  # noqa: F401  (registers the model admins)
