from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from liveupdates.models import Author, Citation, Column, Entry, EntryStatus, LivePost, Place, PostStatus, Source


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery staple")

    @factory.post_generation
    def group(self, create, name, **kwargs):
        if create and name:
            self.groups.add(Group.objects.get(name=name))
        if create:
            self.save()


class ColumnFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Column
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Column {n}")
    slug = factory.Sequence(lambda n: f"column-{n}")


class LivePostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LivePost

    column = factory.SubFactory(ColumnFactory)
    headline = factory.Sequence(lambda n: f"Russian jets strike Daraa province, day {n}")
    slug = factory.Sequence(lambda n: f"live-post-{n}")
    summary = "Strikes in the south for the second time this week."
    coverage_start = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=3))
    status = PostStatus.PUBLISHED
    published_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=3))


class AuthorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Author

    name = factory.Sequence(lambda n: f"Reporter {n}")
    slug = factory.Sequence(lambda n: f"reporter-{n}")


class PlaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Place

    name = factory.Sequence(lambda n: f"Place {n}")
    slug = factory.Sequence(lambda n: f"place-{n}")
    kind = "town"
    reviewed = True  # tests of a place not yet reviewed say so


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    name = factory.Sequence(lambda n: f"Agency {n}")
    slug = factory.Sequence(lambda n: f"agency-{n}")
    kind = "news_agency"
    reviewed = True


class EntryFactory(factory.django.DjangoModelFactory):
    """A draft by default; use PublishedEntryFactory for what readers see."""

    class Meta:
        model = Entry

    post = factory.SubFactory(LivePostFactory)
    headline = factory.Sequence(lambda n: f"Update {n}")
    body = factory.Sequence(lambda n: f"<p>Russian jets struck the village of Sukayk, report number {n}.</p>")
    status = EntryStatus.DRAFT


class PublishedEntryFactory(EntryFactory):
    status = EntryStatus.PUBLISHED
    published_at = factory.Sequence(lambda n: timezone.now() - timedelta(hours=2) + timedelta(seconds=n))


class CitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Citation

    entry = factory.SubFactory(PublishedEntryFactory)
    source = factory.SubFactory(SourceFactory)
