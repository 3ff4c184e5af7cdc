from .columns import Column, LivePost, PostStatus
from .entries import Citation, Correction, CorrectionKind, Entry, EntryStatus
from .events import WorkflowEvent, status_label
from .live import LiveEvent
from .people import Author
from .places import Place
from .sources import Source
from .tags import TaggedEntry

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
    "Source",
    "TaggedEntry",
    "WorkflowEvent",
    "status_label",
]
