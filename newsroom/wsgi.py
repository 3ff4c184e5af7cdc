import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")

application = get_wsgi_application()

from liveupdates.memo import serve_from_memory  # noqa: E402  (after Django is set up)

# A hot live page is answered from process memory before Django builds a request (liveupdates/memo.py).
application = serve_from_memory(application)
