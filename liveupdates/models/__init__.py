from liveupdates.models.autosave import Autosave
from liveupdates.models.cards import Card, Provider
from liveupdates.models.columns import Column
from liveupdates.models.entries import Citation, Correction, CorrectionKind, Entry, EntryPhoto, EntryStatus
from liveupdates.models.events import WorkflowEvent, status_label
from liveupdates.models.live import LiveEvent
from liveupdates.models.people import Author
from liveupdates.models.places import Place
from liveupdates.models.posts import LivePost, PostStatus, public_post_q, touch_columns
from liveupdates.models.proposals import EditProposal, ProposalStatus
from liveupdates.models.push import PushSent, PushSubscription
from liveupdates.models.sources import Source, SourceAccount, normalise_account
from liveupdates.models.tags import TaggedEntry, public_tags
from liveupdates.models.verification import Verification, VerificationMethod

__all__ = [
    "Author",
    "Autosave",
    "Card",
    "Provider",
    "SourceAccount",
    "normalise_account",
    "Verification",
    "VerificationMethod",
    "Citation",
    "Column",
    "Correction",
    "EditProposal",
    "ProposalStatus",
    "CorrectionKind",
    "Entry",
    "EntryPhoto",
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
    "public_tags",
    "touch_columns",
    "WorkflowEvent",
    "status_label",
]
