# carto's production image: gunicorn serving the app, static files collected at build, a non-root user.
# Built by docker-compose.yml (web, and the one-off `migrate` service). No container engine runs on the
# development machines: the file is checked with `docker-compose config -q` in the tests, not built there.

# --- front-end dependencies (MapLibre GL JS from npm) ---------------------------------------------
FROM node:20-bookworm-slim AS assets
WORKDIR /app/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

# --- Python dependencies, in a virtual environment copied whole into the runtime ------------------
FROM python:3.11-slim-bookworm AS python
RUN python -m venv /venv
COPY pyproject.toml /tmp/pyproject.toml
# The runtime dependencies of pyproject.toml only (the app itself runs from /app, not site-packages).
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('/tmp/pyproject.toml', 'rb'))['project']['dependencies']))" \
      > /tmp/requirements.txt \
 && /venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt

# --- runtime ----------------------------------------------------------------------------------------
FROM python:3.11-slim-bookworm
# GeoDjango's native libraries (GDAL, GEOS, PROJ) and the PostgreSQL client for backups.
RUN apt-get update \
 && apt-get install -y --no-install-recommends gdal-bin libgdal32 postgresql-client \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 carto
ENV PATH=/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CARTO_STATIC_FINDERS=false \
    CARTO_BIND=0.0.0.0:8000 \
    CARTO_DATA_DIR=/data \
    CARTO_MEDIA_ROOT=/app/media
WORKDIR /app
COPY --from=python /venv /venv
COPY --from=assets /app/frontend/node_modules /app/frontend/node_modules
COPY manage.py ./
COPY config ./config
COPY carto ./carto
COPY api ./api
COPY frontend ./frontend
COPY fixtures ./fixtures
# Static files at build (hashed, compressed by whitenoise); the secret is a throw-away for this step only.
RUN DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput -v 0 \
 && mkdir -p /app/media && chown -R carto:carto /app/media
USER carto
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"
CMD ["gunicorn", "config.wsgi", "-c", "config/gunicorn.py"]
