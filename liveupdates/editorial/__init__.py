"""What journalists write and editors decide.

workflow.py (every change of editorial state and who may make it),
revisions.py (history), forms.py and widgets.py (the desk and the entry form),
uploads.py (photos from the editor), demo.py (the demo content), admin/ (the
Django admin: the live desk, the entry and post admins, the workflow buttons).

May import: liveupdates.models, richtext, images, and delivery (only to
announce a committed change: delivery.live, delivery.announcer). Never site.
"""
