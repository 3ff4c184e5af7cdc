"""Full-text search over published entries: PostgreSQL's ranked search in production, a plain fallback on SQLite.

Both start from Entry.objects.published(), so a draft can never be found.
Highlights are built from plain text with sentinel marks, escaped, and only
then turned into <mark>: nothing from the body reaches the page unescaped.
"""

import re
from html import unescape

from django import forms
from django.db import connection
from django.db.models import F, Func, Q
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from liveupdates import richtext
from liveupdates.models import Author, Column, Entry, Place, Source

START, STOP = "\u0001", "\u0002"
RESULTS = 50
# Ranked among the newest matches only: ranking recomputes each match's text, and
# "strikes" matches most of a 100,000-entry war. Readers want the recent best anyway.
CANDIDATES = 1000
CONFIG = "english"


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=200, required=False)
    column = forms.ModelChoiceField(Column.objects.all(), required=False, label=_("Column"), to_field_name="slug")
    place = forms.ModelChoiceField(Place.objects.public(), required=False, label=_("Place"), to_field_name="slug")
    source = forms.ModelChoiceField(Source.objects.public(), required=False, label=_("Source"), to_field_name="slug")
    author = forms.ModelChoiceField(Author.objects.all(), required=False, label=_("Author"), to_field_name="slug")
    since = forms.DateField(required=False, label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError(_("The start date is after the end date. Swap them and search again."))
        return data


def _filtered(data):
    entries = Entry.objects.published()
    if data.get("column"):
        entries = entries.filter(post__column=data["column"])
    if data.get("place"):
        entries = entries.in_place(data["place"])
    if data.get("source"):
        entries = entries.citing(data["source"])
    if data.get("author"):
        entries = entries.by_author(data["author"])
    if data.get("since"):
        entries = entries.filter(published_at__date__gte=data["since"])
    if data.get("until"):
        entries = entries.filter(published_at__date__lte=data["until"])
    return entries


def _marked(text):
    return mark_safe(escape(unescape(text)).replace(START, "<mark>").replace(STOP, "</mark>"))  # noqa: S308 - escaped first


class StripTags(Func):
    """regexp_replace(expression, '<[^>]+>', ' ', 'g'): the text of an HTML column, in SQL."""

    function = "regexp_replace"
    template = "%(function)s(%(expressions)s, '<[^>]+>', ' ', 'g')"


def _postgres(entries, query):
    # Late: django.contrib.postgres is used only when the database is PostgreSQL.
    from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector

    vector = SearchVector("headline", "body", config=CONFIG)
    search_query = SearchQuery(query, config=CONFIG, search_type="websearch")
    # "@@" on the same expression as the GIN index (migration 0004), so the planner can use it.
    newest = (
        entries.annotate(document=vector).filter(document=search_query).order_by("-published_at", "-pk").values("pk")[:CANDIDATES]
    )
    rows = (
        Entry.objects.filter(pk__in=newest)
        .annotate(rank=SearchRank(vector, search_query))
        .annotate(
            highlight=SearchHeadline(
                StripTags(F("body")), search_query, config=CONFIG, start_sel=START, stop_sel=STOP, max_words=40, min_words=15
            )
        )
        .order_by("-rank", "-published_at", "-pk")[:RESULTS]
    )
    return [(entry, _marked(entry.highlight)) for entry in rows.for_display()]


def _fallback(entries, query):
    terms = [term for term in re.findall(r"\w+", query.lower()) if len(term) > 1][:8]
    if not terms:
        return []
    condition = Q()
    for term in terms:
        condition &= Q(headline__icontains=term) | Q(body__icontains=term)
    rows = list(entries.filter(condition).for_display().order_by("-published_at", "-pk")[: RESULTS * 4])

    def score(entry):
        text = f"{entry.headline} {richtext.plain_text(entry.body)}".lower()
        return sum(text.count(term) for term in terms) + sum(3 for term in terms if term in entry.headline.lower())

    rows.sort(key=lambda entry: (-score(entry), -entry.published_at.timestamp()))
    pattern = re.compile("|".join(re.escape(term) for term in terms), re.IGNORECASE)
    results = []
    for entry in rows[:RESULTS]:
        text = richtext.plain_text(entry.body)
        first = pattern.search(text)
        start = max(0, (first.start() if first else 0) - 80)
        snippet = ("…" if start else "") + text[start : start + 260]
        results.append((entry, _marked(pattern.sub(lambda m: START + m.group(0) + STOP, snippet))))
    return results


def run_search(data):
    """[(entry, highlighted snippet)] for a valid SearchForm's cleaned data, best first."""
    entries = _filtered(data)
    if connection.vendor == "postgresql":
        return _postgres(entries, data["q"])
    return _fallback(entries, data["q"])
