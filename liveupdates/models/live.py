from django.db import models
from django.utils.translation import gettext_lazy as _


class LiveEvent(models.Model):
    """One change readers of a live post must see: the log the live stream replays.

    The primary key is the event id readers resume from (SSE Last-Event-ID, or
    the poll cursor). Events are appended one at a time (an advisory lock on
    PostgreSQL; SQLite serialises writers), so ids are in commit order and a
    reader can never skip one. Payloads are
    rendered once, when the event is appended, never per reader.
    """

    post = models.ForeignKey("liveupdates.LivePost", on_delete=models.CASCADE, related_name="live_events")
    entry = models.ForeignKey("liveupdates.Entry", on_delete=models.CASCADE, null=True, blank=True, related_name="live_events")
    kind = models.CharField(max_length=20)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("live event")
        verbose_name_plural = _("live events")
        indexes = [
            models.Index(fields=["post", "id"], name="live_event_post_cursor_idx"),
            # The latest pinned / key-events snapshot of a post (live.announce_entry).
            models.Index(fields=["post", "kind", "-id"], name="live_event_post_kind_idx"),
        ]

    def __str__(self):
        return f"{self.pk} {self.kind} post={self.post_id} entry={self.entry_id}"
