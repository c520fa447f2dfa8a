# carto: two set-up commands, `make run` and `make test` (see README). Everything else is a helper.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test setup system db migrate load stop worker lint format bench serve clean-db backup restore

# The job worker (clustering) runs beside the web server and stops with it (or with `make stop`).
run: setup migrate load
	scripts/worker.sh start; trap 'scripts/worker.sh stop' EXIT; $(PY) manage.py runserver $(HOST):$(PORT)

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

setup: system $(VENV)/.installed frontend/node_modules/.installed db

system:
	@scripts/bootstrap.sh

# Reinstalled only when pyproject.toml changes, so the second run is fast.
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $@

db:
	@scripts/pg.sh start

migrate:
	$(PY) manage.py migrate --noinput -v 0

load:
	$(PY) manage.py load_all

# Production-like: gunicorn (config/gunicorn.py: CARTO_WORKERS, CARTO_TIMEOUT, CARTO_BIND…) and the
# collected, compressed static files served by whitenoise.
serve: setup migrate load
	$(PY) manage.py collectstatic --noinput -v 0
	scripts/worker.sh start; trap 'scripts/worker.sh stop' EXIT; \
	  CARTO_STATIC_FINDERS=false $(VENV)/bin/gunicorn config.wsgi -c config/gunicorn.py

# pg_dump -Fc of the database and a tar of the media into backups/<UTC timestamp>/ (scripts/backup.sh).
backup: db
	scripts/backup.sh

# make restore FROM=backups/<timestamp> [RESTORE_DB=carto_restore] [RESTORE_MEDIA_DIR=media_restore] [FORCE=1]
restore: db
	@test -n "$(FROM)" || { echo "usage: make restore FROM=backups/<timestamp>"; exit 2; }
	scripts/restore.sh "$(FROM)"

# The job worker alone, in the foreground (e.g. a second worker machine with DATABASE_URL set).
worker: setup migrate
	$(PY) manage.py procrastinate worker

stop:
	@scripts/worker.sh stop
	@scripts/pg.sh stop

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format:
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: setup migrate
	$(PY) bench/run_all.py $(BENCH_ARGS)

# make basemap OSM=path/to/ile-de-france-latest.osm.pbf: the street basemap as a PMTiles file (osmium-tool and
# tilemaker from Debian), then set the CARTO_BASEMAP_PMTILES line it prints (scripts/basemap.sh).
.PHONY: basemap
basemap: $(VENV)/.installed
	scripts/basemap.sh "$(OSM)"
