"""carto settings: one file, everything from the environment (see .env.example)."""

from __future__ import annotations

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from config.networks import trusted_networks

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Before numpy and the e5 engine load (they read these once): their worker threads spin while they wait,
# and on 2 cores shared by gunicorn's threads and PostgreSQL a spinning thread holds the core the other
# one waits for. Measured on GET /api/pins/similar/'s steps (100 k pins, machine load ~10, ~55 queries
# each way): whitening 400-600 stored vectors took p50 16 ms, p95 99 ms with OpenBLAS's 2 threads, 1.4 / 6.7 ms
# with one; encoding one text p50 160-210 ms, p95 1.6-2.0 s with OpenMP's default active wait, 30-45 /
# 52 ms with passive waiting. The environment or .env can still choose otherwise.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# The development default is only ever used on loopback; production must set its own (check --deploy).
DEVELOPMENT_SECRET_KEY = "dev-only-insecure-key-change-me-in-production-0123456789"  # noqa: S105 (public on purpose)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=LOOPBACK_HOSTS)
# The key seeds the keyed hashes of devices and addresses and, unless CARTO_BLUR_SECRET is set, the blur of
# public locations: with the key of the repository anyone could undo the blur of every pin. `check --deploy`
# takes it (57 varied characters), so a site named beyond loopback refuses to start with it.
if SECRET_KEY == DEVELOPMENT_SECRET_KEY and (set(ALLOWED_HOSTS) - set(LOOPBACK_HOSTS)):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set (a long random string) when DJANGO_ALLOWED_HOSTS names a host beyond "
        "this machine: the development key is public."
    )

DATABASES = {
    "default": env.db_url(
        "DATABASE_URL",
        # The project-local cluster started by scripts/pg.sh (same CARTO_PGPORT).
        default=f"postgis://carto@127.0.0.1:{env.int('CARTO_PGPORT', default=55432)}/carto",
        engine="django.contrib.gis.db.backends.postgis",
    )
}
if DATABASES["default"]["ENGINE"] != "django.contrib.gis.db.backends.postgis":
    raise ImproperlyConfigured("DATABASE_URL must point at PostGIS (scheme postgis://)")
DATABASES["default"].setdefault("OPTIONS", {})
DATABASES["default"]["OPTIONS"].update(
    {
        # Fail fast when PostgreSQL is unreachable, and bound any runaway query.
        "connect_timeout": env.int("CARTO_DB_CONNECT_TIMEOUT", default=3),
        # JIT compilation costs more than it saves on our short PostGIS queries (measured in bench/pins_bbox.py:
        # 470 ms of a 917 ms bbox query was JIT), because PostGIS marks its functions expensive; for the same
        # reason the planner picks parallel plans whose workers first reload PostGIS, GEOS and PROJ (~20 ms
        # per query, bench/stats.py), on a server whose cores are busy with other requests anyway.
        "options": (
            f"-c statement_timeout={env.int('CARTO_DB_STATEMENT_TIMEOUT_MS', default=15000)} -c jit=off"
            f" -c max_parallel_workers_per_gather={env.int('CARTO_DB_PARALLEL_WORKERS', default=0)}"
        ),
    }
)
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CARTO_DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["TEST"] = {"NAME": env.str("CARTO_TEST_DATABASE", default="test_carto")}
# Streaming read replicas (comma-separated URLs): read-only traffic goes there, writes and the reads that
# must see them stay on the primary (config/db_router.py). Same timeouts as the primary.
for _index, _url in enumerate(env.list("DATABASE_REPLICA_URLS", default=[])):
    _replica = env.db_url_config(_url, engine="django.contrib.gis.db.backends.postgis")
    _replica["OPTIONS"] = {**DATABASES["default"]["OPTIONS"], **_replica.get("OPTIONS", {})}
    _replica["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
    _replica["CONN_HEALTH_CHECKS"] = True
    # Tests run on one test database; a replica alias reads it through the primary's connection settings.
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES[f"replica_{_index}"] = _replica
DATABASE_ROUTERS = ["config.db_router.PrimaryReplicaRouter"]
# After a write, the same client reads from the primary this long (covers any realistic replication lag).
CARTO_READ_YOUR_WRITES_SECONDS = env.int("CARTO_READ_YOUR_WRITES_SECONDS", default=10)
# Statistics (comparisons, hexbins) are kept in each worker's cache under the map version, which every write
# they count bumps; this bounds what no bump covers (a new population from an import). 0: no cache.
CARTO_STATS_CACHE_SECONDS = env.int("CARTO_STATS_CACHE_SECONDS", default=300)
# Map groups (GET /api/pins/clusters/) from an in-memory index of the visible pins, one per worker process
# (carto.stats.map_index_holder): "background" rebuilds it in a thread when the map version moves, "inline"
# in the request (tests), "off" answers in SQL only.
CARTO_MAP_INDEX = env.str("CARTO_MAP_INDEX", default="background")
if CARTO_MAP_INDEX not in ("background", "inline", "off"):
    raise ImproperlyConfigured("CARTO_MAP_INDEX must be background, inline or off")
# Screens that must always see the latest state (curators, the resident's own pins).
CARTO_PRIMARY_PATHS = env.list("CARTO_PRIMARY_PATHS", default=["/admin/", "/api/pins/mine/"])
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# GDAL 3.6 (Debian 12) cannot block network access in spatial references; carto never lets GDAL parse
# client input (the API reads coordinates itself), only the operator's data files.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

CARTO_DATA_DIR = Path(env.str("CARTO_DATA_DIR", default=str(BASE_DIR.parent / "shared" / "data")))
CARTO_BASEMAP_URL = env.str("CARTO_BASEMAP_URL", default="")
# A local street basemap (`make basemap`): one PMTiles file served in byte ranges at /api/basemap.pmtiles.
CARTO_BASEMAP_PMTILES = env.str("CARTO_BASEMAP_PMTILES", default="")
if CARTO_BASEMAP_PMTILES and not Path(CARTO_BASEMAP_PMTILES).is_file():
    raise ImproperlyConfigured(
        f"CARTO_BASEMAP_PMTILES: no file at {CARTO_BASEMAP_PMTILES} (see make basemap)"
    )
# Seeds the deterministic blur of public locations; changing it moves every future pin's public point.
CARTO_BLUR_SECRET = env.str("CARTO_BLUR_SECRET", default=SECRET_KEY)
CARTO_CLUSTERING_METHOD = env.str("CARTO_CLUSTERING_METHOD", default="auto")
if CARTO_CLUSTERING_METHOD not in ("auto", "e5", "tfidf"):
    raise ImproperlyConfigured("CARTO_CLUSTERING_METHOD must be auto, e5 or tfidf")
CARTO_PINS_MAX_FEATURES = env.int("CARTO_PINS_MAX_FEATURES", default=5000)
CARTO_PINS_PAGE_SIZE = env.int("CARTO_PINS_PAGE_SIZE", default=500)
CARTO_THROTTLE_DEVICE_PER_HOUR = env.int("CARTO_THROTTLE_DEVICE_PER_HOUR", default=30)
CARTO_THROTTLE_IP_PER_HOUR = env.int("CARTO_THROTTLE_IP_PER_HOUR", default=120)
CARTO_THROTTLE_AREA_PER_HOUR = env.int("CARTO_THROTTLE_AREA_PER_HOUR", default=200)
# Anonymous "moi aussi" on one pin from one network (IP) per hour (carto.services.abuse).
CARTO_SUPPORTS_PER_NETWORK_PER_PIN_HOUR = env.int("CARTO_SUPPORTS_PER_NETWORK_PER_PIN_HOUR", default=8)
# Anonymous reports ("flags") per device and per network per hour (carto.services.moderation.pin_flag).
CARTO_FLAGS_PER_DEVICE_PER_HOUR = env.int("CARTO_FLAGS_PER_DEVICE_PER_HOUR", default=5)
CARTO_FLAGS_PER_NETWORK_PER_HOUR = env.int("CARTO_FLAGS_PER_NETWORK_PER_HOUR", default=20)


# The reverse proxies in front (nginx, a load balancer): only from them is X-Forwarded-For believed, and the
# client is its last address that is not one of them (api.requester.client_ip). Empty: REMOTE_ADDR as is.
# Behind a proxy that is not listed, every resident shares the proxy's address, hence every network budget.
CARTO_TRUSTED_PROXIES = env.list("CARTO_TRUSTED_PROXIES", default=[])
trusted_networks(CARTO_TRUSTED_PROXIES)
CARTO_PREMODERATION_NEW_DEVICE_PINS = env.int("CARTO_PREMODERATION_NEW_DEVICE_PINS", default=5)
# Pins from new devices on one network (IP hash) per hour before the next ones are held for review.
CARTO_PREMODERATION_NEW_DEVICE_PINS_PER_NETWORK = env.int(
    "CARTO_PREMODERATION_NEW_DEVICE_PINS_PER_NETWORK", default=20
)
if CARTO_PINS_MAX_FEATURES < CARTO_PINS_PAGE_SIZE:
    raise ImproperlyConfigured("CARTO_PINS_MAX_FEATURES must be >= CARTO_PINS_PAGE_SIZE")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "rest_framework",
    "rest_framework.authtoken",
    "rest_framework_gis",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "procrastinate.contrib.django",
    "carto",
    "api",
    "frontend",
]

# The job worker (`manage.py procrastinate worker`, carto.tasks): every queue; a successful job's row is
# deleted (a million pins would otherwise leave a million rows), a failed one stays for inspection.
# A worker heartbeats every CARTO_WORKER_HEARTBEAT_SECONDS; after 3 missed beats it is dead and its jobs go back
# to the queue (carto.tasks.recover_stalled).
CARTO_WORKER_HEARTBEAT_SECONDS = env.float("CARTO_WORKER_HEARTBEAT_SECONDS", default=10.0)
PROCRASTINATE_WORKER_DEFAULTS = {
    "delete_jobs": "successful",
    "shutdown_graceful_timeout": 10,
    "update_heartbeat_interval": CARTO_WORKER_HEARTBEAT_SECONDS,
    # A starting worker deletes the rows of workers silent this long. A live worker whose row is deleted (its
    # heartbeats failed while the database was away) can never fetch a job again (the jobs' worker_id foreign
    # key), so only long-dead rows go; the jobs of a dead worker are requeued after 3 beats all the same
    # (carto.tasks.recover_stalled, which reads heartbeats, not this).
    "stalled_worker_timeout": 60 * CARTO_WORKER_HEARTBEAT_SECONDS,
    # Two jobs at once: a cluster rebuild (carto.recluster, minutes at scale) must not hold back new pins'
    # clustering. One process still places one pin at a time (carto.tasks.cluster_pin).
    "concurrency": 2,
}
# Residents see the rebuild's grouping, not only the online pass's (served checking-half F1 0.596 against 0.501,
# bench/cluster_served.py): the worker rebuilds every cluster this many seconds after a new pin is clustered
# (0: never), one rebuild at a time, pins arriving meanwhile joining the next; above
# CARTO_RECLUSTER_AUTO_MAX_PINS visible pins (a rebuild takes ~2 min at 100 k, 39 min at 1 M: under a steady
# stream it would keep a core busy) only the nightly one runs, at CARTO_RECLUSTER_CRON (empty: none).
CARTO_RECLUSTER_AFTER_SECONDS = env.int("CARTO_RECLUSTER_AFTER_SECONDS", default=30)
CARTO_RECLUSTER_AUTO_MAX_PINS = env.int("CARTO_RECLUSTER_AUTO_MAX_PINS", default=20_000)
CARTO_RECLUSTER_CRON = env.str("CARTO_RECLUSTER_CRON", default="17 3 * * *")
# A job still "doing" this long after it started is taken for lost and queued again (carto.tasks.recover_stalled).
CARTO_JOB_LOST_SECONDS = env.int("CARTO_JOB_LOST_SECONDS", default=120)
# /readyz turns "unavailable" (queue "stuck") when the oldest due job has waited this long: no worker runs,
# or the ones that run cannot keep up. A pin is normally clustered within 2 s (bench/load.py).
CARTO_QUEUE_STUCK_SECONDS = env.int("CARTO_QUEUE_STUCK_SECONDS", default=120)

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before everything that writes a body: gzips HTML, JSON, vector tiles (ST_AsMVT's bytes are raw) and,
    # under `make run`, the static files whitenoise reads from the finders. `make serve`'s collected files
    # are precompressed: whitenoise answers with Content-Encoding already set, which this leaves alone.
    # Django's BREACH mitigation (random bytes in the gzip header) covers the CSRF token in the pages.
    # Byte ranges (the basemap's 206) are left alone: their Content-Range counts the stored bytes.
    "api.middleware.RangeAwareGZipMiddleware",
    # CSP and no-store on signed-in answers, around everything else (api/security.py).
    "api.security.SecurityHeadersMiddleware",
    "api.middleware.ApiErrorMiddleware",
    # Before anything reads the database: decides primary or replica for the whole request.
    "config.db_router.PrimaryPinningMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "api.middleware.PageMessageMiddleware",  # Django's, skipped under /api/
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français"), ("en", "English"), ("ar", "العربية"), ("zh-hans", "中文")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    ("vendor/maplibre-gl", BASE_DIR / "frontend" / "node_modules" / "maplibre-gl" / "dist"),
    # The PMTiles reader for the street basemap, loaded only when CARTO_BASEMAP_PMTILES is set.
    ("vendor/pmtiles", BASE_DIR / "frontend" / "node_modules" / "pmtiles" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve static files straight from the app folders and node_modules when collectstatic has not run
# (make run); production runs collectstatic and gets gzip-precompressed files. Their names carry no content
# hash (the modules import each other and the catalogues by plain names), so browsers keep them whitenoise's
# 60 s; a returning phone reads them from its service worker, whose cache is named by their content hash
# (frontend/static_version.py), so it never keeps an old one.
WHITENOISE_USE_FINDERS = env.bool("CARTO_STATIC_FINDERS", default=True)
MEDIA_ROOT = Path(env.str("CARTO_MEDIA_ROOT", default=str(BASE_DIR / "media")))
MEDIA_URL = "/media/"
# Requests bigger than this are refused before parsing (photos are sent as multipart files).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("CARTO_MAX_BODY_BYTES", default=10_000_000)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    # Token first: DRF answers an unauthenticated request with the first class's challenge, so anonymous
    # or bad-token requests get 401 (with WWW-Authenticate: Token), not 403, as the rest of the API does.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # OPTIONS answers name the methods and media types only, never a view's docstring.
    "DEFAULT_METADATA_CLASS": "api.metadata.PublicMetadata",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "carto API",
    "DESCRIPTION": "Needs and proposals of the quartiers of the Métropole du Grand Paris.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Two choice sets are named `kind` (a pin's, a place name's): each gets its own enum name.
    "ENUM_NAME_OVERRIDES": {
        "PinKindEnum": "carto.models.Pin.Kind",
        "PlaceKindEnum": "carto.models.PlaceName.Kind",
    },
    # Swagger UI served from our static files (drf-spectacular-sidecar): no CDN at run time.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"quiet_housekeeping": {"()": "config.log_filters.QuietHousekeeping"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["quiet_housekeeping"]}
    },
    "root": {"handlers": ["console"], "level": env.str("CARTO_LOG_LEVEL", default="INFO")},
    # Django's request logger prints the full path (with query string, which may hold coordinates).
    "loggers": {
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
        # One line per deferred job and per task registration at start-up: noise in the web server's log
        # (the worker still logs each job it runs, and failures).
        "procrastinate.jobs": {"level": "WARNING"},
        "procrastinate.blueprints": {"level": "WARNING"},
        "procrastinate.periodic": {"level": "WARNING"},
    },
}

# Login lock-out (api/security.py): this many failures for one username from one address in the
# window refuse further attempts until the window passes.
AUTHENTICATION_BACKENDS = ["api.security.LockoutModelBackend"]
CARTO_LOGIN_MAX_FAILURES = env.int("CARTO_LOGIN_MAX_FAILURES", default=5)
CARTO_LOGIN_LOCKOUT_SECONDS = env.int("CARTO_LOGIN_LOCKOUT_SECONDS", default=900)
# API tokens (POST /api/auth/token/) sign in for this long, then the client signs in again for a new one.
CARTO_TOKEN_MAX_AGE_SECONDS = env.int("CARTO_TOKEN_MAX_AGE_SECONDS", default=14 * 24 * 3600)
# Password spraying: a network (an address, an IPv6 /64) with this many failed sign-ins over any usernames in
# the window is refused until it passes.
CARTO_LOGIN_NETWORK_MAX_FAILURES = env.int("CARTO_LOGIN_NETWORK_MAX_FAILURES", default=30)
# Personal data (carto/services/accounts.py): exact locations of closed pins and IP hashes are purged
# after these delays (manage.py purge_retention, daily); a data export link works once, this long.
CARTO_RETENTION_DAYS = env.int("CARTO_RETENTION_DAYS", default=365)
CARTO_IP_HASH_RETENTION_DAYS = env.int("CARTO_IP_HASH_RETENTION_DAYS", default=30)
CARTO_EXPORT_LINK_SECONDS = env.int("CARTO_EXPORT_LINK_SECONDS", default=900)
if CARTO_LOGIN_MAX_FAILURES < 1 or CARTO_LOGIN_LOCKOUT_SECONDS < 60:
    raise ImproperlyConfigured("CARTO_LOGIN_MAX_FAILURES must be >= 1 and CARTO_LOGIN_LOCKOUT_SECONDS >= 60")

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG and env.bool("CARTO_HTTPS", default=False):
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
