"""Cards in the admin: write or complete a card by hand (offline, or when the fetch failed), set its verification.

A card's words are editable by whoever may edit the entry that places it
(a journalist: their own draft; editors: any entry), or, before it is placed,
by the journalist who made it. Its verification is set by editors only, through
editorial.workflow.set_card_verification.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from liveupdates import images, links
from liveupdates.delivery.cards import render_card
from liveupdates.editorial import cards, workflow
from liveupdates.editorial.widgets import TolerantAutocompleteAdmin
from liveupdates.models import Card, SourceAccount


class CardForm(forms.ModelForm):
    class Meta:
        model = Card
        fields = "__all__"

    def clean_image(self):
        image = self.cleaned_data.get("image")
        if image and not getattr(image, "_committed", True):
            images.validate_image(image)
        return image


@admin.register(Card)
class CardAdmin(TolerantAutocompleteAdmin, admin.ModelAdmin):
    list_display = ["__str__", "provider", "entry", "source", "verification", "archived_at", "fetch_failed"]
    list_filter = ["provider", "verification"]
    list_select_related = ["entry", "source"]
    search_fields = ["url", "author_name", "author_handle", "title", "text"]
    autocomplete_fields = ["source"]
    readonly_fields = [
        "placeholder_code",
        "entry",
        "canonical_id",
        "fetch_error",
        "verification",
        "verification_method",
        "verification_note",
        "verified_by",
        "verified_at",
        "created_by",
        "created_at",
    ]
    fieldsets = [
        (None, {"fields": ["url", "provider", "is_video", "fetch_error", "placeholder_code", "entry"]}),
        (_("What the post says"), {"fields": ["author_name", "author_handle", "author_url", "title", "text", "published_at"]}),
        (_("Image"), {"fields": ["image", "image_alt"]}),
        (_("Archive and source"), {"fields": ["archived_at", "source", "canonical_id"]}),
        (
            _("Verification (set by editors on the entry's page)"),
            {"fields": ["verification", "verification_method", "verification_note", "verified_by", "verified_at"]},
        ),
        (_("Record"), {"classes": ["collapse"], "fields": ["created_by", "created_at"]}),
    ]

    @admin.display(boolean=True, description=_("fetch failed"))
    def fetch_failed(self, card):
        return bool(card.fetch_error)

    @admin.display(description=_("to place it in an entry"))
    def placeholder_code(self, card):
        if not card.pk:
            return _("Save the card first.")
        return format_html("<code>{}</code>", cards.placeholder(card))

    def has_change_permission(self, request, obj=None):
        if obj is None or not super().has_change_permission(request, obj):
            return super().has_change_permission(request, obj)
        if obj.entry_id:
            return workflow.can_edit(request.user, obj.entry)
        return obj.created_by_id == request.user.pk or request.user.has_perm("liveupdates.review_entry")

    def has_delete_permission(self, request, obj=None):
        return request.user.has_perm("liveupdates.review_entry") and super().has_delete_permission(request, obj)

    form = CardForm

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        if "image" in form.changed_data and obj.image and not obj.image._committed:
            # Like every upload: verified, re-encoded from pixels, no EXIF or GPS (liveupdates.images).
            content, name = images.prepared(obj.image)
            obj.image.save(name, content, save=False)
        super().save_model(request, obj, form, change)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("preview/", wrap(card_preview), name="liveupdates_card_preview"),
            path("<int:pk>/verify/", wrap(card_verify), name="liveupdates_card_verify"),
            path("<int:pk>/image/", wrap(card_image_for_staff), name="liveupdates_card_image"),
        ] + super().get_urls()


@require_POST
def card_preview(request):
    """The desk's paste preview: a pasted link or embed code becomes a card now (an explicit action, never an autosave).

    Answers JSON: the placeholder the editor inserts and the card as readers will
    see it, or a sentence saying why nothing was made.
    """
    if not workflow.can_compose(request.user):
        raise PermissionDenied
    try:
        card = cards.archive(request.POST.get("text", ""), user=request.user)
    except links.NotRecognised as error:
        return JsonResponse({"ok": False, "error": str(error)}, status=400)
    return JsonResponse(
        {
            "ok": True,
            "id": card.pk,
            "placeholder": cards.placeholder(card),
            "html": render_card(card, image_src=reverse("admin:liveupdates_card_image", args=[card.pk]) if card.image else ""),
            "warning": card.fetch_error,
            "edit_url": reverse("admin:liveupdates_card_change", args=[card.pk]),
        }
    )


def card_image_for_staff(request, pk):
    """A card's archived image for the newsroom (the desk's preview of a draft); readers use site.cards.card_image."""
    card = get_object_or_404(Card.objects.exclude(image=""), pk=pk)
    if not request.user.has_perm("liveupdates.view_card"):
        raise PermissionDenied
    response = FileResponse(card.image.open("rb"))
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
def card_verify(request, pk):
    card = get_object_or_404(Card, pk=pk)
    if not workflow.can_verify(request.user):
        raise PermissionDenied
    try:
        workflow.set_card_verification(
            card=card,
            user=request.user,
            state=request.POST.get("verification", ""),
            method=request.POST.get("method", ""),
            note=request.POST.get("note", ""),
        )
    except workflow.WorkflowError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The card's verification was recorded."))
    return HttpResponseRedirect(reverse("admin:liveupdates_card_change", args=[card.pk]))


class SourceAccountInline(admin.TabularInline):
    model = SourceAccount
    extra = 1
    verbose_name = _("account or site")
    verbose_name_plural = _("accounts and sites (a card from one of these suggests this source)")
