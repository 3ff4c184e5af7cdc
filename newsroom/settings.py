"""Settings for Newsroom Live, read from the environment.

The embedded default (no environment at all but DJANGO_DEBUG=1) is SQLite with
a local-memory cache, which is what `make run` uses. Production sets
DATABASE_URL (PostgreSQL) and REDIS_URL, and must set DJANGO_SECRET_KEY and
DJANGO_ALLOWED_HOSTS: without them it refuses to start.
"""

import json
import os
import re
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=None):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = env("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Production needs a long random secret key "
            "in the environment; for local development run with DJANGO_DEBUG=1 (make run does)."
        )
    SECRET_KEY = "django-insecure-local-development-only"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]" if DEBUG else "")
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "DJANGO_ALLOWED_HOSTS is not set. List the host names this site answers to, "
        "separated by commas (for example news.example.org)."
    )
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# The public URL of the site, used where a page must name itself absolutely
# outside a request (feeds, sitemaps, structured data built by commands).
# Required in production: a default would make canonical links, feeds and sitemaps name
# a development address.
SITE_URL = env("NEWSROOM_SITE_URL", "http://127.0.0.1:8000" if DEBUG else "").rstrip("/")
if not SITE_URL:
    raise ImproperlyConfigured(
        "NEWSROOM_SITE_URL is not set. Give the site's public address (for example "
        "https://news.example.org): canonical links, feeds and sitemaps name it."
    )
SITE_NAME = env("NEWSROOM_SITE_NAME", "Newsroom Live")

INSTALLED_APPS = [
    "newsroom.apps.NewsroomAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "ninja",
    "ckeditor",
    "taggit",
    "axes",
    "reversion",
    "liveupdates",
]

MIDDLEWARE = [
    "newsroom.middleware.CompressPages",
    # First of all that answers: the host check and the HTTPS redirect come before any page.
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "newsroom.middleware.StaffAreaContentSecurityPolicy",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "newsroom.middleware.RefuseNulBytes",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: it turns a refused login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# Login throttling (django-axes): after 5 wrong passwords for one username from one
# address, that pair is locked out for 15 minutes. Every login attempt, good or bad,
# is recorded (Axes' access log in the admin, which editors can read).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(env("NEWSROOM_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/lockout.html"
# The desk's login dialog (a script) gets the lockout as JSON in plain words, the login page this template.
AXES_LOCKOUT_CALLABLE = "liveupdates.editorial.admin.desk_api.lockout"
# Behind a proxy the client is named by X-Forwarded-For, believed only as far as proxies
# listed here wrote it (addresses or networks, comma-separated; newsroom/clientip.py).
# docker-compose.yml lists its own network's ranges; empty means REMOTE_ADDR is the client.
NEWSROOM_TRUSTED_PROXIES = env_list("NEWSROOM_TRUSTED_PROXIES")
AXES_CLIENT_IP_CALLABLE = "newsroom.clientip.client_ip"

ROOT_URLCONF = "newsroom.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "newsroom.context_processors.site",
            ],
        },
    },
]

WSGI_APPLICATION = "newsroom.wsgi.application"
ASGI_APPLICATION = "newsroom.asgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(env("DJANGO_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
# The live page's queries are prepared on the server from their second run on a connection
# (liveupdates/site/prepared.py). Turn it off behind a pooler that hands one session's
# statements to another (PgBouncer in transaction mode): each page would then prepare again.
NEWSROOM_PREPARE_ON_SERVER = env_bool("NEWSROOM_PREPARE_ON_SERVER", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers go on while a journalist saves; IMMEDIATE takes the write
    # lock at BEGIN so two writers queue instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "newsroom",
            # A hung Redis must cost a request half a second at most, not a worker.
            # IGNORE_EXCEPTIONS: with Redis down, a read is a miss and a write is skipped (logged), never a 500.
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5, "IGNORE_EXCEPTIONS": True},
        }
    }
    # The cache only holds copies of what the database says (liveupdates/delivery/fragments.py):
    # with Redis down, pages render without it instead of failing.
    DJANGO_REDIS_IGNORE_EXCEPTIONS = True
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    # Django's default of 300 entries holds the fragments of a handful of pages; past it the
    # cache culls a third of itself and pages render their entries again. 10,000 fragments
    # of a few KB each is a few tens of MB.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "OPTIONS": {"MAX_ENTRIES": 10_000}}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
LANGUAGES = [("en-gb", _("English"))]
# The newsroom's own clock: every time a reader sees is shown in this zone, named.
TIME_ZONE = env("NEWSROOM_TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "/static/"
STATIC_ROOT = Path(env("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("DJANGO_MEDIA_ROOT", str(BASE_DIR / "media")))

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("DJANGO_STATIC_MANIFEST", not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

LOGIN_URL = "admin:login"

# What the desk keeps of words typed and never saved (liveupdates/models/autosave.py): this
# many days after their last change, then `manage.py expire_autosaves` deletes them.
NEWSROOM_AUTOSAVE_DAYS = int(env("NEWSROOM_AUTOSAVE_DAYS", "30"))

# Announcements to live readers run on a background thread of each process, so a
# save answers once it is stored (liveupdates/delivery/announcer.py); at once in development.
NEWSROOM_ANNOUNCE_IN_BACKGROUND = env_bool("NEWSROOM_ANNOUNCE_IN_BACKGROUND", not DEBUG)
# Who holds the live stream's connections: "builtin" (the hub in each ASGI process, `make run`)
# or "nchan" (nginx's nchan module; `manage.py stream_relay` publishes each event to it, and
# pages tell live.js to catch up from the poll each time its stream opens). liveupdates/delivery/nchan.py
NEWSROOM_STREAM_ENGINE = env("NEWSROOM_STREAM_ENGINE", "builtin")
if NEWSROOM_STREAM_ENGINE not in ("builtin", "nchan"):
    raise ImproperlyConfigured("NEWSROOM_STREAM_ENGINE is 'builtin' (the default) or 'nchan'.")
NEWSROOM_NCHAN_PUBLISH_URL = env("NEWSROOM_NCHAN_PUBLISH_URL", "http://127.0.0.1:8080/pub")
# Django serves uploads itself only where no web server does (make run, one-process benches).
NEWSROOM_SERVE_MEDIA = env_bool("NEWSROOM_SERVE_MEDIA", DEBUG)

# Uploads: the limits the image validator enforces (liveupdates/images.py).
NEWSROOM_IMAGE_MAX_BYTES = int(env("NEWSROOM_IMAGE_MAX_BYTES", str(12 * 1024 * 1024)))
# Photos over SCALE_PIXELS are scaled to 4096 px on their long side; over MAX_PIXELS (Pillow's bomb limit) refused.
NEWSROOM_IMAGE_MAX_PIXELS = int(env("NEWSROOM_IMAGE_MAX_PIXELS", str(89_478_485)))
NEWSROOM_IMAGE_SCALE_PIXELS = int(env("NEWSROOM_IMAGE_SCALE_PIXELS", str(40_000_000)))
# Photos decoded at once per process (each may take several hundred MB), and how long an
# upload waits for its turn before it is refused with "try again" (liveupdates/images.py).
NEWSROOM_IMAGE_DECODES = int(env("NEWSROOM_IMAGE_DECODES", "1"))
NEWSROOM_IMAGE_DECODE_WAIT = float(env("NEWSROOM_IMAGE_DECODE_WAIT", "30"))

# Cards (issue 14): archived copies of cited posts. Their images are kept outside
# MEDIA_ROOT and served only for public entries (liveupdates/site/cards.py).
NEWSROOM_ARCHIVE_ROOT = Path(env("NEWSROOM_ARCHIVE_ROOT", str(BASE_DIR / "archive")))
# Server-side fetches (liveupdates/editorial/fetch.py): whole fetch in seconds, bytes per answer.
NEWSROOM_FETCH_TIMEOUT = float(env("NEWSROOM_FETCH_TIMEOUT", "8"))
NEWSROOM_FETCH_MAX_BYTES = int(env("NEWSROOM_FETCH_MAX_BYTES", str(2 * 1024 * 1024)))
# "address:port" pairs fetched although private (the tests' fixture server only; warned in production).
NEWSROOM_FETCH_ALLOW = env_list("NEWSROOM_FETCH_ALLOW")
# The networks' public endpoints: oEmbed where the network has a public one, else the page's base address.
NEWSROOM_CARD_ENDPOINTS = {
    "youtube": "https://www.youtube.com/oembed",
    "x": "https://publish.twitter.com/oembed",
    "vimeo": "https://vimeo.com/api/oembed.json",
    "tiktok": "https://www.tiktok.com/oembed",
    "bluesky": "https://embed.bsky.app/oembed",
    "telegram": "https://t.me",
    "instagram": "https://www.instagram.com",
    "facebook": "https://www.facebook.com",
}
# Override any of them with JSON, e.g. '{"youtube": "https://oembed.example/youtube"}'.
NEWSROOM_CARD_ENDPOINTS.update(json.loads(env("NEWSROOM_CARD_ENDPOINTS", "{}")))
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Rich text: django-ckeditor bundles CKEditor 4.22.1, which is out of support
# (ckeditor.W001). We keep it because the product asks for it, behind one seam
# (liveupdates/richtext.py), with compensating controls:
#   * every stored rich text is sanitised server-side with an nh3 allowlist on
#     every save (RichTextField.pre_save), whatever the client sent;
#   * the editor only loads in the staff-only admin, and its uploader is our own
#     staff-only view (liveupdates/editorial/uploads.py): ckeditor_uploader is not installed;
#   * uploads are verified and re-encoded by Pillow (liveupdates/images.py).
SILENCED_SYSTEM_CHECKS = ["ckeditor.W001"]
CKEDITOR_BASEPATH = STATIC_URL + "ckeditor/ckeditor/"
CKEDITOR_CONFIGS = {
    "default": {"toolbar": "Basic"},
    "newsroom": {
        "toolbar": [
            ["Bold", "Italic", "Link", "Unlink"],
            ["NumberedList", "BulletedList", "Blockquote"],
            ["Image", "Iframe"],
            ["Undo", "Redo", "RemoveFormat", "Source"],
        ],
        "extraPlugins": "uploadimage,iframe,newsroomcards",
        # Issue 14: a pasted link becomes a card (liveupdates/static/liveupdates/ckeditor/newsroomcards/).
        "external_plugin_resources": [("newsroomcards", STATIC_URL + "liveupdates/ckeditor/newsroomcards/", "plugin.js")],
        "extraAllowedContent": "figure[data-card]",
        "removePlugins": "exportpdf,scayt,wsc",
        "height": 180,
        "width": "100%",
        "language": "en-gb",
        # The editor keeps its own filter (derived from the buttons above, which the
        # upload widget needs); what is stored is decided by the server's allowlist.
        "image_prefillDimensions": False,
    },
}

# Public pages: our own scripts, styles and images only; video players only from
# the privacy-enhanced YouTube domain, and only after the reader asks.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "frame-src": ["https://www.youtube-nocookie.com"],
    "frame-ancestors": [CSP.NONE],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
}
# The staff-only admin (newsroom.middleware): CKEditor 4 builds its toolbar with
# inline event handlers and styles, so the admin must allow them. One more reason
# the editor sits behind one seam (liveupdates/richtext.py) and is due a swap;
# until then, everything the admin shows from the database is sanitised.
NEWSROOM_ADMIN_CSP = {
    **SECURE_CSP,
    "script-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:", "blob:"],
    "frame-src": [CSP.SELF, "https://www.youtube-nocookie.com"],
    "frame-ancestors": [CSP.SELF],
}

# The live page everywhere (liveupdates/site/embeds.py): the sites that may show our embeds
# and teasers in an iframe (frame-ancestors on those responses only; the rest of the site
# keeps 'none'), e.g. "https://partner.example,https://www.example.org".
NEWSROOM_EMBED_ORIGINS = env_list("NEWSROOM_EMBED_ORIGINS")
for _origin in NEWSROOM_EMBED_ORIGINS:
    if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:]+\](:[0-9]{1,5})?", _origin):
        raise ImproperlyConfigured(
            f"NEWSROOM_EMBED_ORIGINS: {_origin!r} is not an origin. Give each site as scheme://host[:port], "
            "with no path, separated by commas."
        )
# New push subscriptions one client address may make in an hour (liveupdates/site/alerts.py).
NEWSROOM_ALERT_SUBSCRIBES_PER_HOUR = int(env("NEWSROOM_ALERT_SUBSCRIBES_PER_HOUR", "20"))
# Web Push alerts (liveupdates/delivery/push.py). Our own VAPID key: `manage.py vapid_keys`
# writes one (make run does, into .vapid/, which git ignores); production names its file.
NEWSROOM_VAPID_PRIVATE_KEY_FILE = env(
    "NEWSROOM_VAPID_PRIVATE_KEY_FILE", str(BASE_DIR / ".vapid" / "private_key.pem") if DEBUG else ""
)
# Who the push services may contact about our alerts (VAPID "sub").
NEWSROOM_PUSH_CONTACT = env("NEWSROOM_PUSH_CONTACT", "mailto:newsroom@example.org")
# The push services browsers use; we never send to any other host (no request to an address a client chose).
NEWSROOM_PUSH_SERVICES = env_list(
    "NEWSROOM_PUSH_SERVICES",
    "fcm.googleapis.com,updates.push.services.mozilla.com,push.services.mozilla.com,notify.windows.com,push.apple.com",
)
NEWSROOM_PUSH_RATE = int(env("NEWSROOM_PUSH_RATE", "50"))  # alerts a second, per process
NEWSROOM_PUSH_IN_BACKGROUND = env_bool("NEWSROOM_PUSH_IN_BACKGROUND", True)
# How often open teasers (home, column pages, teaser embeds) ask for their latest entries.
NEWSROOM_TEASER_POLL_SECONDS = int(env("NEWSROOM_TEASER_POLL_SECONDS", "15"))

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# The live desk's script gets a JSON answer it can act on (fetch a fresh token, resend), never a page.
CSRF_FAILURE_VIEW = "liveupdates.editorial.admin.desk_api.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"

if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(env("DJANGO_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {"liveupdates": {"level": env("NEWSROOM_LIVE_LOG_LEVEL", env("DJANGO_LOG_LEVEL", "INFO"))}},
}
