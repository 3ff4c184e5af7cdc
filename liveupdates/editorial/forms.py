from datetime import UTC, timedelta
from itertools import chain
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.contrib import admin
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from liveupdates.editorial import revisions
from liveupdates.editorial.widgets import IdsChoiceField, TolerantAutocompleteSelectMultiple
from liveupdates.models import Citation, CorrectionKind, Entry

MAX_TAGS = 20
TAG_LENGTH = 100  # taggit's Tag.name


def clean_tag_names(names):
    """Tags as typed, refused with a reason when the database could not keep them."""
    names = [name for name in names if name.strip()]
    if len(names) > MAX_TAGS:
        raise forms.ValidationError(gettext("Use at most %(max)d tags.") % {"max": MAX_TAGS}, code="too_many_tags")
    for name in names:
        if len(name) > TAG_LENGTH:
            raise forms.ValidationError(
                gettext("A tag can be at most %(max)d characters: “%(tag)s…”") % {"max": TAG_LENGTH, "tag": name[:30]},
                code="tag_too_long",
            )
    return names


class CleanTagsMixin:
    def clean_tags(self):
        return clean_tag_names(self.cleaned_data.get("tags") or [])


class ComposeForm(CleanTagsMixin, forms.ModelForm):
    """The live desk's compose box: what a journalist needs to post an update fast."""

    sources = IdsChoiceField(
        queryset=None,
        required=False,
        label=_("Sources"),
        help_text=_("Who the information comes from. Add the exact URL cited on the entry's full edit page."),
    )

    class Meta:
        model = Entry
        fields = ["headline", "body", "authors", "places", "tags"]
        field_classes = {"authors": IdsChoiceField, "places": IdsChoiceField}

    field_order = ["headline", "body", "authors", "places", "sources", "tags"]

    def __init__(self, *args, admin_site=None, **kwargs):
        super().__init__(*args, **kwargs)
        site = admin_site or admin.site
        for name in ("authors", "places", "sources"):
            model_field = Entry._meta.get_field(name)
            field = self.fields[name]
            # The widget first: setting the queryset hands its choices to the widget.
            field.widget = TolerantAutocompleteSelectMultiple(model_field, site)
            field.queryset = model_field.remote_field.model.objects.all()
        self.fields["headline"].widget.attrs.update({"autocomplete": "off"})

    def save_citations(self, entry):
        for source in self.cleaned_data.get("sources") or []:
            Citation.objects.get_or_create(entry=entry, source=source, url="")

    def save_m2m_of_new_entry(self):
        """save_m2m for the entry this form has just created: its bylines, places and tags are added.

        Django's save_m2m sets each relation, which first reads what the entry has: a new
        entry has nothing, and every save from the desk is a new entry (one query fewer
        per relation, four with no byline, place or tag).
        """
        opts = self.instance._meta
        for field in chain(opts.many_to_many, opts.private_fields):
            if hasattr(field, "save_form_data") and field.name in self._meta.fields and self.cleaned_data.get(field.name):
                getattr(self.instance, field.name).add(*self.cleaned_data[field.name])


class NoteForm(forms.Form):
    """The note an editor writes when returning or withdrawing an entry."""

    note = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
    )


class WithdrawForm(NoteForm):
    public_note = forms.CharField(
        label=_("Public note for readers"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Optional. Readers who saw the entry find this note in its place; its words are gone."),
    )


class CorrectionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=CorrectionKind.choices, initial=CorrectionKind.CORRECTION)
    text = forms.CharField(label=_("Text"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))


class ScheduleForm(forms.Form):
    """A publication time, read in the zone the editor typed it in.

    The desk's script sends the browser's zone (`tz`); without it the time is the
    newsroom's (settings.TIME_ZONE), and the form says so beside the box. A time
    that has passed is refused unless confirmed, and a confirmed one publishes now:
    never an entry slipped in hours down the timeline.
    """

    at = forms.DateTimeField(
        label=_("Publish at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Leave empty to publish now. A later time schedules the entry; it appears by itself then."),
    )
    tz = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    confirm_past = forms.BooleanField(label=_("Publish now anyway"), required=False)

    # A minute of grace: the time typed as "now" has passed by the time Save is pressed.
    GRACE = timedelta(minutes=1)

    def clean_tz(self):
        name = self.cleaned_data.get("tz") or ""
        if not name:
            return None
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise forms.ValidationError(
                gettext("The time zone “%(zone)s” is unknown. Reload the page and try again.") % {"zone": name[:64]},
                code="zone",
            ) from None

    def clean(self):
        cleaned = super().clean()
        at, zone = cleaned.get("at"), cleaned.get("tz")
        if at is None:
            return cleaned
        try:
            if zone is not None:
                at = timezone.make_aware(timezone.make_naive(at).replace(fold=0), zone)
            at.astimezone(UTC)  # the database keeps UTC: 9999-12-31 23:59 in New York is past its last day
        except OverflowError:
            self.add_error(
                "at", forms.ValidationError(gettext("This date is beyond what the site can keep: check the year."), code="range")
            )
            return cleaned
        cleaned["at"] = at
        if at < timezone.now() - self.GRACE:
            if cleaned.get("confirm_past"):
                cleaned["at"] = None  # publish now, at the top of the page
                return cleaned
            shown = timezone.localtime(at, zone) if zone else timezone.localtime(at)
            raise forms.ValidationError(
                gettext("This time (%(at)s, %(zone)s) has passed: publish now?")
                % {"at": shown.strftime("%d %b %H:%M"), "zone": zone or timezone.get_current_timezone_name()},
                code="past",
            )
        return cleaned


class EntryAdminForm(CleanTagsMixin, forms.ModelForm):
    """The full entry form, with the version the editor started from.

    Two people editing one entry: the second save is refused with what the
    first one saved, instead of silently overwriting it. The check and the
    version bump are one conditional UPDATE inside the admin's transaction, so
    the database decides even when both press Save at the same moment.
    """

    loaded_version = forms.IntegerField(widget=forms.HiddenInput)
    conflict = None  # both versions, once a save was refused as stale

    class Meta:
        model = Entry
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["loaded_version"].initial = self.instance.version

    def clean(self):
        cleaned = super().clean()
        if not self.instance.pk or self.errors:
            return cleaned
        expected = cleaned.get("loaded_version")
        if Entry.objects.filter(pk=self.instance.pk, version=expected).update(version=F("version") + 1):
            self.instance.version = expected + 1
            return cleaned
        saved = Entry.objects.select_related("updated_by").get(pk=self.instance.pk)
        who = saved.updated_by.get_username() if saved.updated_by else gettext("Someone")
        when = timezone.localtime(saved.updated_at).strftime("%H:%M:%S")
        # Both versions, side by side on the page (entry/change_form.html), word by word;
        # merge.js offers keep mine / take theirs / keep both / by hand from "versions".
        # The form now starts from their version: what this person saves next is the
        # merge they made, checked against that version like any save.
        mine = {"headline": cleaned.get("headline", ""), "body": cleaned.get("body", "")}
        self.conflict = {
            "who": who,
            "when": when,
            "theirs": {"headline": saved.headline, "body": saved.body},
            "yours": mine,
            "headline_diff": revisions.side_by_side(saved.headline, mine["headline"], rich=False),
            "body_diff": revisions.side_by_side(saved.body, mine["body"]),
            "versions": {
                "who": who,
                "when": when,
                "theirs": {"headline": saved.headline, "body": saved.body, "version": saved.version},
                "mine": mine,
            },
        }
        data = self.data.copy()
        data[self.add_prefix("loaded_version")] = str(saved.version)
        self.data = data
        raise forms.ValidationError(
            gettext(
                "%(who)s saved this entry at %(when)s while you were editing, so your changes were not saved. "
                "Both versions are side by side below; yours is still in the form. Bring in what you need from "
                "theirs, then save again to keep the merged text."
            )
            % {"who": who, "when": when},
            code="stale",
        )
