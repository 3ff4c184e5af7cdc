import random
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from taggit.models import Tag

from liveupdates.models import Author, Citation, Entry, EntryStatus, LivePost, Place, Source, TaggedEntry

WORDS = (
    "strikes reported near the town overnight according to activists shelling continued artillery fire rebels "
    "regime forces Russian jets struck positions civilians wounded local council sources say video shows smoke"
).split()


class Command(BaseCommand):
    help = "Bulk-create published entries in a live post, for scale tests and benchmarks (fast: bulk inserts)."

    def add_arguments(self, parser):
        parser.add_argument("--post", required=True, help="slug of the live post")
        parser.add_argument("--count", type=int, required=True)
        parser.add_argument("--batch", type=int, default=5000)

    def handle(self, *args, post, count, batch, **options):
        live_post = LivePost.objects.filter(slug=post).first()
        if live_post is None:
            raise CommandError(f"There is no live post '{post}'. Create it first (or run load_demo).")
        if count < 1:
            raise CommandError("--count must be at least 1.")
        authors = list(Author.objects.all()[:5])
        places = list(Place.objects.all()[:20])
        sources = list(Source.objects.all()[:10])
        tags = [
            Tag.objects.get_or_create(name=name, defaults={"slug": slugify(name)})[0]
            for name in ("air strikes", "shelling", "casualties")
        ]
        rng = random.Random(count)
        now = timezone.now()
        made = 0
        while made < count:
            size = min(batch, count - made)
            with transaction.atomic():
                # bulk_create skips Entry.save(): fine, as generated texts place no uploaded photo (no EntryPhoto rows).
                entries = Entry.objects.bulk_create(
                    Entry(
                        post=live_post,
                        headline=f"Generated update {made + i + 1}",
                        body="<p>" + " ".join(rng.choice(WORDS) for _ in range(40)) + ".</p>",
                        status=EntryStatus.PUBLISHED,
                        published_at=now - timedelta(seconds=10 * (count - made - i)),
                        announced_at=now,
                    )
                    for i in range(size)
                )
                if authors:
                    Entry.authors.through.objects.bulk_create(
                        Entry.authors.through(entry_id=e.pk, author_id=rng.choice(authors).pk) for e in entries
                    )
                if places:
                    Entry.places.through.objects.bulk_create(
                        Entry.places.through(entry_id=e.pk, place_id=rng.choice(places).pk) for e in entries
                    )
                if sources:
                    Citation.objects.bulk_create(Citation(entry_id=e.pk, source_id=rng.choice(sources).pk) for e in entries)
                TaggedEntry.objects.bulk_create(TaggedEntry(content_object_id=e.pk, tag_id=rng.choice(tags).pk) for e in entries)
            made += size
            self.stdout.write(f"{made}/{count}")
        self.stdout.write(self.style.SUCCESS(f"Created {count} published entries in '{live_post.slug}'."))
