# syntax=docker/dockerfile:1
# One image for every process of Inbound: web (the default command), the Celery worker, beat and
# the one-shot migrate job choose their command in docker-compose.yml (or the Procfile).
# Build: docker build -t inbound .   Run: see docs/operations.md.
FROM python:3.11-slim

# settings.py finds templates/, static/ and locale/ next to the package (BASE_DIR), so the code
# runs from the source tree in /app, which PYTHONPATH puts ahead of the copy in site-packages.
# gunicorn reads WEB_CONCURRENCY as its number of worker processes.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=inbound.settings \
    DEBUG=0 \
    VAR_DIR=/app/var \
    WEB_CONCURRENCY=2

# A fixed numeric id, so orchestrators can check runAsNonRoot and volumes can be chowned ahead.
RUN groupadd --system --gid 10001 inbound \
 && useradd --system --uid 10001 --gid inbound --create-home --home-dir /home/inbound \
      --shell /usr/sbin/nologin inbound

WORKDIR /app

# Dependencies first, in their own layer: it is rebuilt only when pyproject.toml changes.
# A placeholder package lets pip resolve the project's dependencies without its code.
COPY pyproject.toml ./
RUN mkdir inbound && touch inbound/__init__.py \
 && pip install . \
 && pip uninstall --yes inbound \
 && rm -rf inbound build ./*.egg-info

# The project itself (no dev extras).
COPY . .
RUN pip install . \
 && rm -rf build ./*.egg-info \
 && python manage.py translations_compile

# Static files are collected into the image (WhiteNoise serves them with hashed names). DEBUG=0
# needs SECRET_KEY, PERSONAL_DATA_KEY and ALLOWED_HOSTS: throwaway values that exist only for
# this RUN line.
RUN DEBUG=0 SECRET_KEY=collectstatic-at-build-time-only-never-used-at-runtime \
    PERSONAL_DATA_KEY=collectstatic-at-build-time-only-never-used-at-runtime \
    ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput

# var/ is the only writable place: media and private uploads (volumes), the beat schedule,
# and mail files if EMAIL_URL is unset. The code and collected static stay read-only.
RUN mkdir -p var/media var/private \
 && chown inbound:inbound var var/media var/private

USER 10001:10001

EXPOSE 8000

# /healthz says the process answers (it answers any Host, so probing 127.0.0.1 works). No curl in slim.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request as r; sys.exit(0 if r.build_opener(r.ProxyHandler({})).open('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"]

# The access log (stdout, one line per request, with the request id; no client address, no query
# string, tokens redacted from paths) is configured in inbound/gunicorn_conf.py.
CMD ["gunicorn", "inbound.wsgi", \
     "--config", "python:inbound.gunicorn_conf", \
     "--bind", "0.0.0.0:8000", \
     "--worker-tmp-dir", "/dev/shm"]
