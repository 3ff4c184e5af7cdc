from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelectMultiple
from django.utils.translation import gettext_lazy as _

from .models import Citation, Entry


class ComposeForm(forms.ModelForm):
    """The live desk's compose box: what a journalist needs to post an update fast."""

    sources = forms.ModelMultipleChoiceField(
        queryset=None, required=False, label=_("Sources"),
        help_text=_("Who the information comes from. Add the exact URL cited on the entry's full edit page."),
    )

    class Meta:
        model = Entry
        fields = ["headline", "body", "authors", "places", "tags"]

    field_order = ["headline", "body", "authors", "places", "sources", "tags"]

    def __init__(self, *args, admin_site=None, **kwargs):
        super().__init__(*args, **kwargs)
        site = admin_site or admin.site
        for name in ("authors", "places", "sources"):
            model_field = Entry._meta.get_field(name)
            field = self.fields[name]
            # The widget first: setting the queryset hands its choices to the widget.
            field.widget = AutocompleteSelectMultiple(model_field, site)
            field.queryset = model_field.remote_field.model.objects.all()
        self.fields["headline"].widget.attrs.update({"autocomplete": "off"})

    def save_citations(self, entry):
        for source in self.cleaned_data.get("sources") or []:
            Citation.objects.get_or_create(entry=entry, source=source, url="")


class NoteForm(forms.Form):
    """The note an editor writes when returning or withdrawing an entry."""

    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000,
    )


class ScheduleForm(forms.Form):
    at = forms.DateTimeField(
        label=_("Publish at"), required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Leave empty to publish now. A later time schedules the entry; it appears by itself then."),
    )
