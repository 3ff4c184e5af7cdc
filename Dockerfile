# Production image: pages under granian (WSGI); the same image runs the live stream (ASGI).
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
# collectstatic needs settings but no secrets of production.
RUN DJANGO_DEBUG=1 python manage.py collectstatic --noinput \
 && useradd --system --home /app newsroom && mkdir -p /app/media && chown newsroom /app/media
USER newsroom

EXPOSE 8000
CMD ["granian", "--interface", "wsgi", "--host", "0.0.0.0", "--port", "8000", "--workers", "2", "--blocking-threads", "8", "newsroom.wsgi:application"]
