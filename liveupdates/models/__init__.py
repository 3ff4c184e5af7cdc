from liveupdates.models.columns import Column
from liveupdates.models.entries import Citation, Correction, CorrectionKind, Entry, EntryStatus
from liveupdates.models.events import WorkflowEvent, status_label
from liveupdates.models.live import LiveEvent
from liveupdates.models.people import Author
from liveupdates.models.places import Place
from liveupdates.models.posts import LivePost, PostStatus, public_post_q, touch_columns
from liveupdates.models.push import PushSent, PushSubscription
from liveupdates.models.sources import Source
from liveupdates.models.tags import TaggedEntry

__all__ = [
    "Author",
    "Citation",
    "Column",
    "Correction",
    "CorrectionKind",
    "Entry",
    "EntryStatus",
    "LiveEvent",
    "LivePost",
    "Place",
    "PostStatus",
    "PushSent",
    "PushSubscription",
    "public_post_q",
    "Source",
    "TaggedEntry",
    "touch_columns",
    "WorkflowEvent",
    "status_label",
]
