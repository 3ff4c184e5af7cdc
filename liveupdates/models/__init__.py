from .columns import Column, LivePost, PostStatus
from .entries import Citation, Entry, EntryStatus
from .events import WorkflowEvent
from .live import LiveEvent
from .people import Author
from .places import Place
from .sources import Source

__all__ = [
    "Author",
    "Citation",
    "Column",
    "Entry",
    "EntryStatus",
    "LiveEvent",
    "LivePost",
    "Place",
    "PostStatus",
    "Source",
    "WorkflowEvent",
]
