import shutil

import pytest

from .factories import EntryFactory, LivePostFactory, UserFactory


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    yield
    shutil.rmtree(tmp_path / "media", ignore_errors=True)


@pytest.fixture
def journalist(db):
    return UserFactory(username="jo", group="Journalists")


@pytest.fixture
def other_journalist(db):
    return UserFactory(username="sam", group="Journalists")


@pytest.fixture
def editor(db):
    return UserFactory(username="ed", group="Editors")


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True)


@pytest.fixture
def reader(db):
    """A logged-in account with no newsroom role."""
    return UserFactory(username="reader", is_staff=False)


@pytest.fixture
def post(db):
    return LivePostFactory()


@pytest.fixture
def draft(journalist, post):
    return EntryFactory(post=post, created_by=journalist)


