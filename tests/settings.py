"""The production settings, with the environment a test run needs."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-not-a-secret")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("DJANGO_SECURE_COOKIES", "0")
os.environ.setdefault("DJANGO_STATIC_MANIFEST", "0")
os.environ.setdefault("NEWSROOM_SITE_URL", "http://127.0.0.1:8000")

from newsroom.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = BASE_DIR / ".test-media"  # noqa: F405
NEWSROOM_ARCHIVE_ROOT = BASE_DIR / ".test-archive"  # noqa: F405

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # A file, not memory: the live tests start other processes that must see the test database.
    # One per test process, so two runs (or pytest-xdist's workers) never share one.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / f".test-db-{os.getpid()}.sqlite3")}  # noqa: F405

# The browser tests' server runs these settings without DEBUG and without collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Announcements run in the committing thread, so a test sees them as soon as its change commits.
NEWSROOM_ANNOUNCE_IN_BACKGROUND = False

if os.environ.get("PYTEST_XDIST_WORKER") and os.environ.get("REDIS_URL"):
    # pytest-xdist: each worker clears its own Redis database between tests, never another's.
    _worker = int(os.environ["PYTEST_XDIST_WORKER"].removeprefix("gw") or 0)
    _base, _, _db = os.environ["REDIS_URL"].rpartition("/")
    CACHES["default"]["LOCATION"] = f"{_base}/{max(0, int(_db or 0) - _worker)}"  # noqa: F405
