from .columns import Column, LivePost, PostStatus
from .entries import Citation, Entry, EntryStatus
from .events import WorkflowEvent
from .people import Author
from .places import Place
from .sources import Source

__all__ = [
    "Author",
    "Citation",
    "Column",
    "Entry",
    "EntryStatus",
    "LivePost",
    "Place",
    "PostStatus",
    "Source",
    "WorkflowEvent",
]
