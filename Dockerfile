# Production image: pages under granian (WSGI); the same image runs the live stream (ASGI).
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
# collectstatic runs with the production settings (not DEBUG), so it writes the manifest
# production pages read; it needs their variables, not their secrets.
RUN DJANGO_SECRET_KEY=collectstatic-only DJANGO_ALLOWED_HOSTS=localhost NEWSROOM_SITE_URL=https://collectstatic.invalid \
    python manage.py collectstatic --noinput \
 && useradd --system --home /app newsroom && mkdir -p /app/media && chown newsroom /app/media
USER newsroom

EXPOSE 8000
CMD ["granian", "--interface", "wsgi", "--host", "0.0.0.0", "--port", "8000", "--workers", "2", "--blocking-threads", "8", "--respawn-failed-workers", "--respawn-interval", "1", "newsroom.wsgi:application"]
