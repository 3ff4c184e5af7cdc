from django.contrib import admin
from django.utils.translation import gettext_lazy as _


class NewsroomAdminSite(admin.AdminSite):
    """The newsroom's writing surface: Django's admin with a review queue count."""

    site_header = _("Newsroom Live")
    site_title = _("Newsroom Live")
    index_title = _("Newsroom")

    def each_context(self, request):
        context = super().each_context(request)
        # Imported late: the admin site is built before the apps' models load.
        # Late: this site is made while the apps load (newsroom.apps), before any model exists.
        from liveupdates.editorial import workflow
        from liveupdates.models import EditProposal, Entry

        if workflow.can_review(request.user):
            context["review_queue_count"] = Entry.objects.in_review().count()
            context["proposed_edit_count"] = EditProposal.objects.waiting().count()
        return context

    def returned_to(self, request):
        """The entries editors sent back to this user, for the index: impossible to miss."""
        from liveupdates.editorial import feed

        if not request.user.is_authenticated:
            return []
        return list(feed.returned_to(request.user).select_related("post")[:10])

    def refused_edits(self, request):
        """The edits this user proposed that editors refused (issue 13), listed with the returns."""
        from liveupdates.editorial import feed

        if not request.user.is_authenticated:
            return []
        return list(feed.refused_proposals(request.user)[:10])

    def index(self, request, extra_context=None):
        from liveupdates.models import LivePost

        extra_context = extra_context or {}
        from liveupdates.editorial import workflow

        if workflow.can_see_desk(request.user):
            # Live posts first (coverage not ended), then drafts being prepared.
            extra_context["desk_posts"] = list(
                LivePost.objects.filter(coverage_end__isnull=True).select_related("column").newest_first()[:12]
            )
        extra_context["returned_to_me"] = self.returned_to(request)
        extra_context["refused_edits"] = self.refused_edits(request)
        extra_context["returned_count"] = len(extra_context["returned_to_me"]) + len(extra_context["refused_edits"])
        return super().index(request, extra_context)
