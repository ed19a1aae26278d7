"""Rathaus settings: read from environment variables only (docs/configuration.md lists them).

Safe defaults: without any variable set, Rathaus runs on SQLite under var/ with DEBUG off, a
secret key generated once into var/, and no external service (no Redis, no broker, no SMTP).
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from rathaus.core.envconfig import env, envbool, envint, envlist, parse_email_url, s3_storage

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent
VAR_DIR = Path(env("RATHAUS_VAR_DIR", str(PROJECT_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEMO = envbool("RATHAUS_DEMO", False)
DEBUG = envbool("RATHAUS_DEBUG", DEMO)
HTTPS = envbool("RATHAUS_HTTPS", False)
CITY_NAME = env("RATHAUS_CITY_NAME", "Leipzig")
# The letter in front of reference numbers (L-2026-7K3M-9QX4): one capital letter.
REFERENCE_PREFIX = env("RATHAUS_REFERENCE_PREFIX", CITY_NAME[:1].upper() or "R")
if len(REFERENCE_PREFIX) != 1 or not "A" <= REFERENCE_PREFIX <= "Z":
    raise ImproperlyConfigured("RATHAUS_REFERENCE_PREFIX must be one capital letter A-Z")
# The public address of this installation, for links in e-mails.
SITE_URL = env("RATHAUS_SITE_URL", "http://127.0.0.1:8000")


def _secret_key() -> str:
    key = env("RATHAUS_SECRET_KEY")
    if key:
        return key
    # Generated once and kept, so sessions survive restarts of a single-machine install.
    # Several processes may start at once: write to a private temporary file and link it into
    # place, so that every process reads the same complete key.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        tmp = VAR_DIR / f".secret_key.{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(50))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process was first; use its key
        finally:
            tmp.unlink(missing_ok=True)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
SECRET_KEY_GENERATED = not env("RATHAUS_SECRET_KEY")
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = envlist("RATHAUS_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "rathaus.core",
    "rathaus.accounts",
    "rathaus.catalog",
    "rathaus.forms",
    "rathaus.submissions",
    "rathaus.cases",
    "rathaus.transit",
    "rathaus.citydata",
    "rathaus.economy",
    "rathaus.innovation",
    "rathaus.funding",
    "rathaus.strategy",
    "rathaus.public",
    "rathaus.accounts.admin_config.RathausAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "ninja",
]

MIDDLEWARE = [
    "rathaus.core.middleware.RequestIdMiddleware",
    "rathaus.core.middleware.MetricsMiddleware",
    "rathaus.core.middleware.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "rathaus.core.middleware.ErrorPageMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "rathaus.urls"
WSGI_APPLICATION = "rathaus.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "rathaus.core.context_processors.site",
            ],
        },
    },
]

# ---- database --------------------------------------------------------------
DATABASE_URL = env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'rathaus.sqlite3'}")
_db: dict[str, Any] = dict(dj_database_url.parse(DATABASE_URL, conn_max_age=60))
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["CONN_MAX_AGE"] = 0
    # WAL lets readers and the worker go on while a request writes; IMMEDIATE avoids
    # "database is locked" upgrades inside transactions.
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    # A file (not :memory:) so that subprocesses started by tests (worker) see the test data.
    _db["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
elif _db["ENGINE"] == "django.db.backends.postgresql" and envbool(
    "RATHAUS_DB_PREPARED_STATEMENTS", True
):
    # Statements sent with their values apart (core.inserts: taking a submission) are
    # prepared once per connection from their fifth run on (psycopg's default, which Django
    # turns off): planning was half of the database's work for a submission. Django's other
    # queries quote their values into the SQL and are never prepared. Off for a pooler in
    # transaction mode that cannot keep prepared statements (PgBouncer before 1.21).
    _db.setdefault("OPTIONS", {})["prepare_threshold"] = 5
# A psycopg 3 connection pool per process (PostgreSQL only): RATHAUS_DB_POOL_MAX > 0 turns it on.
# The pool replaces persistent connections (Django refuses both at once).
DB_POOL_MAX = envint("RATHAUS_DB_POOL_MAX", 0)
if DB_POOL_MAX > 0 and _db["ENGINE"] == "django.db.backends.postgresql":
    # With health checks on, Django has the pool check each connection as it is taken: after
    # a database restart dead connections are dropped instead of failing a request each.
    _db["CONN_MAX_AGE"] = 0
    _db["CONN_HEALTH_CHECKS"] = True
    _db.setdefault("OPTIONS", {})["pool"] = {
        "min_size": min(envint("RATHAUS_DB_POOL_MIN", 1), DB_POOL_MAX),
        "max_size": DB_POOL_MAX,
        "timeout": envint("RATHAUS_DB_POOL_TIMEOUT", 10),
    }
DATABASES = {"default": _db}
# A read replica (streaming replication) for the read-only selectors marked with
# core.dbrouter.replica_reads: public catalogue, open data, dashboards. Writes, and every read
# not so marked, stay on the primary. Tests mirror it to the default database.
DATABASE_REPLICA_URL = env("DATABASE_REPLICA_URL")
if DATABASE_REPLICA_URL:
    _replica = {**_db, **dj_database_url.parse(DATABASE_REPLICA_URL, conn_max_age=60)}
    _replica["OPTIONS"] = {**_db.get("OPTIONS", {}), **_replica.get("OPTIONS", {})}
    if "pool" in _replica["OPTIONS"]:
        _replica["CONN_MAX_AGE"] = 0
    _replica["CONN_HEALTH_CHECKS"] = _db.get("CONN_HEALTH_CHECKS", False)
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES["replica"] = _replica
DATABASE_ROUTERS = ["rathaus.core.dbrouter.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Sessions live in the database: every node reads them, none keeps them (expired ones are
# removed daily by a periodic job).
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# ---- cache (rate limits, axes) ---------------------------------------------
CACHE_URL = env("RATHAUS_CACHE_URL")
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            # An unreachable Redis must not hold requests for minutes: the rate limits give
            # up after a second and let the request through (core.ratelimit).
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# ---- accounts --------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:profile"
LOGOUT_REDIRECT_URL = "public:home"
MAGIC_LINK_MAX_AGE = envint("RATHAUS_MAGIC_LINK_MAX_AGE", 15 * 60)
OTP_TOTP_ISSUER = f"Rathaus {CITY_NAME}"

# django-axes: throttle failed log-ins per account and address.
AXES_FAILURE_LIMIT = envint("RATHAUS_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envint("RATHAUS_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
# Count failures per address as people type it in any case: "Bea@" and "bea@" are one account.
AXES_USERNAME_CALLABLE = "rathaus.accounts.selectors.login_username"
AXES_LOCKOUT_CALLABLE = "rathaus.accounts.views.lockout"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# Behind N trusted reverse proxies, the client is the Nth address from the right of
# X-Forwarded-For (core.ratelimit.client_address); 0 means REMOTE_ADDR.
PROXY_COUNT = envint("RATHAUS_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "rathaus.core.ratelimit.client_address"

# Public endpoints: requests per window per client (see core.ratelimit).
RATELIMIT_MAGIC_LINK = env("RATHAUS_RATELIMIT_MAGIC_LINK", "5/h")
# The catalogue's whole-catalogue export (several MB per request).
RATELIMIT_EXPORT = env("RATHAUS_RATELIMIT_EXPORT", "30/h")
# Wrong reference number or code on the status page, per client.
RATELIMIT_STATUS_FAILURES = env("RATHAUS_RATELIMIT_STATUS_FAILURES", "10/h")
# Submissions per client (web form and API).
RATELIMIT_SUBMIT = env("RATHAUS_RATELIMIT_SUBMIT", "30/h")
# Answers to an office's question (Rückfrage) per client.
RATELIMIT_ANSWER = env("RATHAUS_RATELIMIT_ANSWER", "20/h")
# The sensor-data pages (/stadtdaten/) and, counted apart, their CSV downloads, per client.
RATELIMIT_CITYDATA = env("RATHAUS_RATELIMIT_CITYDATA", "120/m")
# The digital economy (/wirtschaft/): directory entries and claims per user and client, event
# registrations per client, posts, replies and relation proposals per user.
RATELIMIT_ECONOMY_REGISTER = env("RATHAUS_RATELIMIT_ECONOMY_REGISTER", "10/h")
RATELIMIT_EVENT_REGISTER = env("RATHAUS_RATELIMIT_EVENT_REGISTER", "20/h")
RATELIMIT_BOARD_POST = env("RATHAUS_RATELIMIT_BOARD_POST", "10/h")
RATELIMIT_BOARD_REPLY = env("RATHAUS_RATELIMIT_BOARD_REPLY", "60/h")
RATELIMIT_RELATION = env("RATHAUS_RATELIMIT_RELATION", "60/h")

# Public transport (transit): walking, changing and the in-memory timetables of journey planning.
TRANSIT_WALK_SPEED = float(env("RATHAUS_TRANSIT_WALK_SPEED", "1.2"))  # metres per second
TRANSIT_FOOTPATH_METERS = envint("RATHAUS_TRANSIT_FOOTPATH_METERS", 400)
TRANSIT_ACCESS_METERS = envint("RATHAUS_TRANSIT_ACCESS_METERS", 800)
TRANSIT_CHANGE_SECONDS = envint("RATHAUS_TRANSIT_CHANGE_SECONDS", 60)
TRANSIT_MAX_RIDES = envint("RATHAUS_TRANSIT_MAX_RIDES", 8)
TRANSIT_MAX_JOURNEY_SECONDS = envint("RATHAUS_TRANSIT_MAX_JOURNEY_SECONDS", 6 * 3600)
TRANSIT_PARETO_SLACK_SECONDS = envint("RATHAUS_TRANSIT_PARETO_SLACK_SECONDS", 3600)
TRANSIT_CACHED_DAYS = envint("RATHAUS_TRANSIT_CACHED_DAYS", 4)
TRANSIT_REALTIME_INTERVAL = envint("RATHAUS_TRANSIT_REALTIME_INTERVAL", 30)
TRANSIT_REALTIME_MAX_AGE = envint("RATHAUS_TRANSIT_REALTIME_MAX_AGE", 300)
RATELIMIT_TRANSIT = env("RATHAUS_RATELIMIT_TRANSIT", "120/m")
RATELIMIT_TRANSIT_JOURNEYS = env("RATHAUS_RATELIMIT_TRANSIT_JOURNEYS", "30/m")
# ÖV-Güteklassen: the grid's cell size, and the planners' areas (GeoJSON of Ortsteile) and
# population grid (CSV lat,lon,population) where the city has them
TRANSIT_QUALITY_CELL_METERS = float(env("RATHAUS_TRANSIT_QUALITY_CELL_METERS", "100"))
TRANSIT_AREAS_FILE = env("RATHAUS_TRANSIT_AREAS_FILE", "")
TRANSIT_POPULATION_FILE = env("RATHAUS_TRANSIT_POPULATION_FILE", "")
# a geocoding service answering the Nominatim search API, for addresses in the journey planner
GEOCODER_URL = env("RATHAUS_GEOCODER_URL", "")

# Funding (funding): the regions the city's applications count as in (the matching asks for
# programmes open to any of them), and how many days before a reporting duty falls due its
# responsible person is reminded (the default of a new duty; each duty can change it).
FUNDING_REGIONS = envlist("RATHAUS_FUNDING_REGIONS", ["EU", "DE", "DE-SN"])
FUNDING_REMINDER_DAYS = envint("RATHAUS_FUNDING_REMINDER_DAYS", 14)
# Strategy (strategy): a measure nobody updated or confirmed for this many days is stale, and
# its responsible person is reminded (through the outbox).
STRATEGY_STALE_DAYS = envint("RATHAUS_STRATEGY_STALE_DAYS", 90)

# Open-data catalogue (citydata): who publishes it, where it lies (DCAT-AP.de), the licence of
# generated datasets, how often the worker refreshes them, and the public endpoints' rate.
OPEN_DATA_TITLE = env("RATHAUS_OPEN_DATA_TITLE", f"Offene Daten {CITY_NAME}")
OPEN_DATA_PUBLISHER_NAME = env("RATHAUS_OPEN_DATA_PUBLISHER_NAME", f"Stadt {CITY_NAME}")
OPEN_DATA_PUBLISHER_URI = env(
    "RATHAUS_OPEN_DATA_PUBLISHER_URI", "http://leipzig-data.de/Data/StadtLeipzig"
)
OPEN_DATA_CONTRIBUTOR_ID = env(
    "RATHAUS_OPEN_DATA_CONTRIBUTOR_ID", "http://dcat-ap.de/def/contributors/stadtLeipzig"
)
OPEN_DATA_GEOCODING_URI = env(
    "RATHAUS_OPEN_DATA_GEOCODING_URI",
    "http://dcat-ap.de/def/politicalGeocoding/municipalityKey/14713000",
)
OPEN_DATA_GEOCODING_LEVEL = env(
    "RATHAUS_OPEN_DATA_GEOCODING_LEVEL",
    "http://dcat-ap.de/def/politicalGeocoding/Level/municipality",
)
OPEN_DATA_LICENSE = env("RATHAUS_OPEN_DATA_LICENSE", "dl-by-de/2.0")
OPEN_DATA_INTERVAL = envint("RATHAUS_OPEN_DATA_INTERVAL", 3600)
RATELIMIT_OPEN_DATA = env("RATHAUS_RATELIMIT_OPEN_DATA", "300/m")

# Sensor data over MQTT (citydata.mqtt, `rathaus ingest-mqtt`): without a broker URL nothing
# MQTT runs and observations come in over HTTP only. mqtt://user:password@host:1883, mqtts://
MQTT_URL = env("RATHAUS_MQTT_URL", "")
MQTT_CLIENT_ID = env("RATHAUS_MQTT_CLIENT_ID", "rathaus-ingest")  # the broker keeps its session
MQTT_TOPIC_PREFIX = env("RATHAUS_MQTT_TOPIC_PREFIX", "v1.1")
MQTT_BATCH_SIZE = envint("RATHAUS_MQTT_BATCH_SIZE", 5000)  # messages per transaction at most
MQTT_BATCH_MS = envint("RATHAUS_MQTT_BATCH_MS", 200)  # or after this long
MQTT_RECEIVE_MAXIMUM = envint("RATHAUS_MQTT_RECEIVE_MAXIMUM", 10000)  # unacknowledged at most
MQTT_MAX_PAYLOAD_BYTES = envint("RATHAUS_MQTT_MAX_PAYLOAD_BYTES", 64 * 1024)
MQTT_SESSION_EXPIRY = envint("RATHAUS_MQTT_SESSION_EXPIRY", 7 * 24 * 3600)
MQTT_CA_FILE = env("RATHAUS_MQTT_CA_FILE", "")

# ---- i18n ------------------------------------------------------------------
LANGUAGE_CODE = "de"
LANGUAGES = [("de", "Deutsch"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Europe/Berlin"
USE_TZ = True
LANGUAGE_COOKIE_NAME = "rathaus_language"
LANGUAGE_COOKIE_SAMESITE = "Lax"

# ---- static files ----------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env("RATHAUS_STATIC_ROOT", str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = Path(env("RATHAUS_STORAGE_ROOT", str(VAR_DIR / "media")))
# Stored files (uploads, receipts, released documents, generated datasets, logos): a local
# directory on one machine, S3-compatible object storage (django-storages) with several.
# Everything in it is private: Rathaus serves each file through a view that checks who asks.
STORAGE_BACKEND = env("RATHAUS_STORAGE_BACKEND", "filesystem")
if STORAGE_BACKEND == "filesystem":
    _files: dict[str, Any] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"allow_overwrite": True},
    }
elif STORAGE_BACKEND == "s3":
    _files = s3_storage(
        bucket=env("RATHAUS_STORAGE_BUCKET", "rathaus"),
        endpoint_url=env("RATHAUS_STORAGE_ENDPOINT_URL"),
        access_key=env("RATHAUS_STORAGE_ACCESS_KEY"),
        secret_key=env("RATHAUS_STORAGE_SECRET_KEY"),
        region=env("RATHAUS_STORAGE_REGION", "eu-central-1"),
        addressing=env("RATHAUS_STORAGE_ADDRESSING", "path"),
        prefix=env("RATHAUS_STORAGE_PREFIX", ""),
    )
else:
    raise ImproperlyConfigured("RATHAUS_STORAGE_BACKEND must be 'filesystem' or 's3'")
STORAGES = {
    "default": _files,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# ---- security --------------------------------------------------------------
MAX_REQUEST_BYTES = envint("RATHAUS_MAX_REQUEST_BYTES", 10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BYTES
CSRF_FAILURE_VIEW = "rathaus.core.views.csrf_failure"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = envint("RATHAUS_SESSION_AGE", 8 * 3600)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = envbool("RATHAUS_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = envint("RATHAUS_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]


def _tile_origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else "'self'"


# No inline script anywhere (always, not only over HTTPS): every script is a static file.
TILE_URL = env("RATHAUS_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", _tile_origin(TILE_URL)],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# ---- e-mail ----------------------------------------------------------------
_email = parse_email_url(env("EMAIL_URL", "console://"))
EMAIL_BACKEND = _email.pop("EMAIL_BACKEND")
for _key, _value in _email.items():
    globals()[_key] = _value
DEFAULT_FROM_EMAIL = env("RATHAUS_FROM_EMAIL", f"rathaus@{CITY_NAME.lower()}.example")

# ---- personal data ----------------------------------------------------------
# Rotatable keys for personal data at rest (first key encrypts, all decrypt); also used to
# pseudonymise personal values in the audit log. Falls back to SECRET_KEY itself.
DATA_KEYS = envlist("RATHAUS_DATA_KEYS", []) or [SECRET_KEY]

# ---- background work ---------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL")
CELERY_TASK_DEFAULT_QUEUE = env("RATHAUS_CELERY_QUEUE", "rathaus")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
# A task a killed worker had taken comes back after this long (Redis broker); the outbox's own
# lease brings its message back sooner (RATHAUS_OUTBOX_QUEUE_SECONDS).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": envint("RATHAUS_CELERY_VISIBILITY_TIMEOUT", 3600)
}
# Celery beat schedules the outbox hand-over and the periodic jobs (core.tasks). RedBeat keeps
# the schedule in Redis under a lock: run beat on every node, one of them schedules, another
# takes over within RATHAUS_BEAT_LOCK_SECONDS after it died.
CELERY_BEAT_SCHEDULER = "redbeat.RedBeatScheduler"
CELERY_REDBEAT_REDIS_URL = env(
    "RATHAUS_BEAT_REDIS_URL",
    (CELERY_BROKER_URL if (CELERY_BROKER_URL or "").startswith("redis") else CACHE_URL) or "",
)
CELERY_REDBEAT_KEY_PREFIX = env("RATHAUS_BEAT_KEY_PREFIX", "rathaus:beat:")
CELERY_REDBEAT_LOCK_TIMEOUT = envint("RATHAUS_BEAT_LOCK_SECONDS", 30)
# Beat wakes at least this often to extend its lock, well within the lock's lifetime.
CELERY_BEAT_MAX_LOOP_INTERVAL = max(1, min(5, CELERY_REDBEAT_LOCK_TIMEOUT // 3))
# Beat retries Redis for this long before it gives up (a Redis restart must not end it).
CELERY_REDBEAT_REDIS_OPTIONS = {"retry_period": 30}
# With Celery: how often beat hands due outbox messages to the workers (seconds).
OUTBOX_DISPATCH_SECONDS = float(env("RATHAUS_OUTBOX_DISPATCH_SECONDS", "1"))
# Form drafts (what a person typed so far) are kept this many days after the last change.
FORM_DRAFT_DAYS = envint("RATHAUS_FORM_DRAFT_DAYS", 30)
# Submissions are kept this many days after their last step, unless their service says otherwise.
SUBMISSION_RETENTION_DAYS = envint("RATHAUS_SUBMISSION_RETENTION_DAYS", 3 * 365)
# Uploads: "none" (no scan) or "clamd://host:3310" (ClamAV; forms.contrib.virusscan).
VIRUS_SCANNER = env("RATHAUS_VIRUS_SCANNER", "none")
OUTBOX_LEASE_SECONDS = envint("RATHAUS_OUTBOX_LEASE_SECONDS", 300)
# With Celery: a message handed to the queue is handed over again after this long if no worker
# has started it (a lost task); its delivery lease starts only when a worker takes it.
OUTBOX_QUEUE_SECONDS = envint("RATHAUS_OUTBOX_QUEUE_SECONDS", 900)
OUTBOX_MAX_ATTEMPTS = envint("RATHAUS_OUTBOX_MAX_ATTEMPTS", 8)
OUTBOX_BACKOFF_BASE_SECONDS = envint("RATHAUS_OUTBOX_BACKOFF_SECONDS", 30)
OUTBOX_INPROCESS_WORKER = envbool("RATHAUS_INPROCESS_WORKER", DEMO)

# ---- logging -----------------------------------------------------------------
LOG_LEVEL = env("RATHAUS_LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "rathaus.core.logs.RequestIdFilter"}},
    "formatters": {"json": {"()": "rathaus.core.logs.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's request logger repeats paths and our access log already records each
        # request once, without query strings (which may carry personal data).
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "ERROR"},
        "axes": {"level": "WARNING"},
    },
}

# ---- API -----------------------------------------------------------------------
NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_LIMIT = 200
