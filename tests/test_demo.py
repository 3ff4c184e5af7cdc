"""The demo loader: the seed's facts, idempotent, and accounts only in debug mode."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from liveupdates.models import Column, Entry, EntryStatus, LivePost, Place, Source, WorkflowEvent

from .factories import UserFactory

pytestmark = pytest.mark.django_db


def counts():
    return {model.__name__: model.objects.count() for model in (Column, LivePost, Entry, Place, Source, WorkflowEvent)} | {
        "users": get_user_model().objects.count()
    }


def test_the_demo_loads_the_seed_column_posts_and_entries_in_debug_mode(settings, capsys):
    settings.DEBUG = True
    call_command("load_demo")
    out = capsys.readouterr().out
    assert "username 'journalist', password '" in out and "username 'editor', password '" in out
    column = Column.objects.get(slug="putin-in-syria")
    assert column.name == "Putin in Syria"
    main = LivePost.objects.get(slug="russian-jets-strike-daraa-again")
    assert main.is_public and main.is_live
    assert main.previous_post().slug == "russian-jets-turn-to-southern-syria"
    assert Entry.objects.published().filter(post=main).count() >= 10
    assert Entry.objects.filter(post=main, status=EntryStatus.DRAFT).count() == 1
    assert Entry.objects.filter(post=main, status=EntryStatus.IN_REVIEW).count() == 1
    assert Place.objects.get(slug="firdous").ancestors()[-1].slug == "aleppo"
    assert Entry.objects.published().filter(body__contains="youtube-nocookie.com/embed/").exists()
    assert Entry.objects.published().filter(body__contains="<img").exists()
    assert {"Pierre Vaux"} == set(Entry.objects.published().values_list("authors__name", flat=True))
    for slug in (
        "smart-news-agency",
        "local-coordination-committees",
        "institute-for-the-study-of-war",
        "now-lebanon",
        "qasioun-news-network",
        "al-akhbar",
    ):
        assert Source.objects.filter(slug=slug).exists()


def test_loading_the_demo_twice_changes_nothing(settings, capsys):
    settings.DEBUG = True
    call_command("load_demo")
    first = counts()
    call_command("load_demo")
    assert counts() == first
    assert "already exist" in capsys.readouterr().out


def test_the_demo_accounts_can_do_their_jobs(settings):
    settings.DEBUG = True
    call_command("load_demo")
    User = get_user_model()
    journalist, editor = User.objects.get(username="journalist"), User.objects.get(username="editor")
    assert journalist.has_perm("liveupdates.add_entry") and not journalist.has_perm("liveupdates.publish_entry")
    assert editor.has_perm("liveupdates.publish_entry")


def test_no_demo_accounts_are_created_outside_debug_mode(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--as"):
        call_command("load_demo")
    assert not get_user_model().objects.filter(username__in=["journalist", "editor"]).exists()


def test_outside_debug_mode_the_demo_is_published_by_a_named_editor(settings):
    settings.DEBUG = False
    UserFactory(username="chief", group="Editors")
    call_command("load_demo", "--as", "chief")
    assert not get_user_model().objects.filter(username__in=["journalist", "editor"]).exists()
    assert Entry.objects.published().exists()
    assert WorkflowEvent.objects.filter(actor__username="chief").exists()


def test_the_demo_refuses_a_user_who_cannot_publish(settings):
    settings.DEBUG = False
    UserFactory(username="cub", group="Journalists")
    with pytest.raises(CommandError, match="permission to publish"):
        call_command("load_demo", "--as", "cub")


def test_the_demo_does_not_copy_the_seed_article(settings):
    settings.DEBUG = True
    call_command("load_demo")
    from pathlib import Path

    seed = next(Path(__file__).resolve().parents[2].glob("shared/seed/*.txt"), None)
    if seed is None:
        pytest.skip("the seed article is not beside this checkout")
    sentences = [s.strip() for s in seed.read_text().replace("\n", " ").split(".") if len(s.split()) >= 8]
    bodies = " ".join(Entry.objects.values_list("body", flat=True))
    copied = [s for s in sentences if s in bodies]
    assert not copied


def test_generate_entries_bulk_creates_published_entries(post, capsys):
    call_command("generate_entries", "--post", post.slug, "--count", "120", "--batch", "50")
    assert Entry.objects.published().filter(post=post).count() == 120
    assert "Created 120" in capsys.readouterr().out


def test_generate_entries_refuses_an_unknown_post(db):
    with pytest.raises(CommandError, match="no live post"):
        call_command("generate_entries", "--post", "nope", "--count", "5")


def test_the_demos_photos_and_their_renditions_reach_readers(settings, client):
    from liveupdates import images

    settings.DEBUG = True
    call_command("load_demo")
    placed = Entry.objects.published().filter(body__contains="<img").first()
    url = placed.body.split('src="', 1)[1].split('"', 1)[0]
    for file in [url] + [candidate.split()[0] for candidate in images.srcset(url)[0].split(", ")]:
        assert client.get(file).status_code == 200, file
