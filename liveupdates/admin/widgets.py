"""Autocomplete widgets that survive forged ids.

Django's autocomplete widgets look up the submitted ids to show them again when
a form comes back with errors; an id that is not a number (only a forged request
sends one) makes that lookup raise, and the page fails with a 500 instead of
showing the form's own "Select a valid choice" error. These drop such ids before
the lookup; the form's validation still refuses them.
"""

from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple

MAX_ID = 2**63 - 1


def _well_formed(value):
    text = str(value)
    return text.isascii() and text.isdigit() and int(text) <= MAX_ID


class _Tolerant:
    def optgroups(self, name, value, attr=None):
        return super().optgroups(name, [v for v in value if _well_formed(v)], attr)


class TolerantAutocompleteSelect(_Tolerant, AutocompleteSelect):
    pass


class TolerantAutocompleteSelectMultiple(_Tolerant, AutocompleteSelectMultiple):
    pass


class TolerantAutocompleteAdmin:
    """For ModelAdmin and inlines: their autocomplete_fields use the widgets above."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = TolerantAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = TolerantAutocompleteSelectMultiple(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_manytomany(db_field, request, **kwargs)
