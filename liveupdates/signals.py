from django.dispatch import Signal

# Sent after the transaction that changed what readers may see has committed:
# a publish, a withdrawal, a pin, an edit of a public entry. Listeners purge
# caches and notify live readers. Arguments: entry (or post), action.
entry_changed = Signal()
post_changed = Signal()
