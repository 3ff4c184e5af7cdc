"""Choice fields and autocomplete widgets that survive forged ids.

Only a forged request sends an id that is not a number, or one beyond the
database's integers. Django's choice fields then raise an OverflowError from
the database driver, and its autocomplete widgets raise while looking the id
up to show the form again; either way the page fails with a 500 instead of
the form's own "Select a valid choice". The fields below refuse such ids as
invalid choices before any query; the widgets drop them before their lookup.
"""

from django import forms
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple

MAX_ID = 2**63 - 1


def _well_formed(value):
    text = str(value)
    return text.isascii() and text.isdigit() and int(text) <= MAX_ID


class IdChoiceField(forms.ModelChoiceField):
    def to_python(self, value):
        if value not in self.empty_values and not _well_formed(value):
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class IdsChoiceField(forms.ModelMultipleChoiceField):
    def _check_values(self, value):
        for pk in value:
            if not _well_formed(pk):
                raise forms.ValidationError(self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": pk})
        return super()._check_values(value)


class _Tolerant:
    def optgroups(self, name, value, attr=None):
        return super().optgroups(name, [v for v in value if _well_formed(v)], attr)


class TolerantAutocompleteSelect(_Tolerant, AutocompleteSelect):
    pass


class TolerantAutocompleteSelectMultiple(_Tolerant, AutocompleteSelectMultiple):
    pass


class TolerantAutocompleteAdmin:
    """For ModelAdmin and inlines: relations use the fields above, autocomplete_fields the widgets."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = TolerantAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        kwargs.setdefault("form_class", IdChoiceField)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = TolerantAutocompleteSelectMultiple(db_field, self.admin_site, using=kwargs.get("using"))
        kwargs.setdefault("form_class", IdsChoiceField)
        return super().formfield_for_manytomany(db_field, request, **kwargs)
