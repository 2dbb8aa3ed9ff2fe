"""Inbound settings: one file, read top to bottom, every value from the environment.

DEBUG is off unless the environment says DEBUG=1, and with DEBUG off SECRET_KEY, PERSONAL_DATA_KEY
and ALLOWED_HOSTS must be set, or startup stops with a message naming what is missing.
Development (`make run`, the tests) sets DEBUG=1 and needs nothing else: SQLite and a filesystem
broker under var/, and keys generated once into var/. docs/operations.md lists every variable.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Queue
from pythonjsonlogger.core import RESERVED_ATTRS as JSON_LOG_RESERVED_ATTRS

from inbound.lib.broker import celery_broker
from inbound.lib.env import (
    development_key,
    env_bool,
    env_database,
    env_email,
    env_int,
    env_list,
    env_prefixed,
    env_redis_url,
    env_str,
    redis_other_db,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR") or BASE_DIR / "var")

DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = env_str("SECRET_KEY")
# Keys the fingerprints of personal data (e-mail hashes in tombstones and links). Apart from
# SECRET_KEY so that rotating SECRET_KEY breaks no link and lets no erased person back in; it must
# never change once set (docs/operations.md).
PERSONAL_DATA_KEY = env_str("PERSONAL_DATA_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if not DEBUG:
    missing = [
        name
        for name, value in (
            ("SECRET_KEY", SECRET_KEY),
            ("PERSONAL_DATA_KEY", PERSONAL_DATA_KEY),
            ("ALLOWED_HOSTS", ALLOWED_HOSTS),
        )
        if not value
    ]
    if missing:
        raise ImproperlyConfigured(
            f"DEBUG is off, so {', '.join(missing)} must be set in the environment "
            "(see docs/operations.md). On a development machine set DEBUG=1 instead."
        )
else:
    # Development keys are random, made once per checkout under var/ and shared by every process
    # of it; no key is written in the code.
    SECRET_KEY = SECRET_KEY or development_key(VAR_DIR / "secret_key")
    PERSONAL_DATA_KEY = PERSONAL_DATA_KEY or development_key(VAR_DIR / "personal_data_key")
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]", "testserver"]

# Old keys keep signed links and sessions valid while a new SECRET_KEY rolls out.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# --- The institution -------------------------------------------------------------------------
INSTITUTION = {
    "name": env_str("INSTITUTION_NAME", "Ayuntamiento de Villaclara del Río"),
    "logo": env_str("INSTITUTION_LOGO", "img/logo.svg"),
    "email": env_str("INSTITUTION_EMAIL", "atencion@villaclara.example"),
    "phone": env_str("INSTITUTION_PHONE", "+34 900 000 000"),
    "address": env_str("INSTITUTION_ADDRESS", "Plaza Mayor, 1, 28999 Villaclara del Río (Madrid)"),
}

# --- Applications ----------------------------------------------------------------------------
INSTALLED_APPS = [
    "modeltranslation",  # before the admin, as it asks
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",  # API tokens: hashed at rest, with an expiry (inbound.api.StaffTokenAuthentication)
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "corsheaders",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",  # staff two-step sign-in (inbound.twofactor)
    "django_prose_editor",
    "inbound",
    "contacts",
    "content",
    "conversion",
    "campaigns",
    "workflows",  # automated workflows: triggers, steps, the engine (above campaigns)
    "anymail",  # ESP backends and the bounce/complaint webhooks (campaigns.webhooks)
]

MIDDLEWARE = [
    "inbound.lib.requestid.RequestIdMiddleware",
    # Before anything that validates the Host header: orchestrators probe by pod IP.
    "inbound.lib.probes.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Answers CORS preflights before anything else can answer them (django-cors-headers asks).
    "corsheaders.middleware.CorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Response headers every page carries, cached or not: so above the page cache.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Answers anonymous public pages from the cache before sessions, URL resolving, CSRF and
    # authentication run (inbound.lib.pagecache).
    "inbound.lib.pagecache.PublicPageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "inbound.lib.locale.PrefixLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Marks a session verified by a second factor; then staff pages ask for one where needed.
    "django_otp.middleware.OTPMiddleware",
    "inbound.twofactor.StaffTwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks, so it sees the outcome of every login.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "inbound.urls"
WSGI_APPLICATION = "inbound.wsgi.application"
ASGI_APPLICATION = "inbound.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "inbound.context_processors.site",
            ],
        },
    },
]

# --- Data ------------------------------------------------------------------------------------
DATABASES = {"default": env_database("DATABASE_URL", VAR_DIR / "inbound.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_redis_url("REDIS_URL")
if REDIS_URL:
    # The cache gets its own Redis database: cache.clear() flushes its whole database, and must
    # never take the broker's queued tasks with it.
    CACHES = {
        "default": {
            "BACKEND": "inbound.lib.cache.ReusedClientRedisCache",
            "LOCATION": env_redis_url("REDIS_CACHE_URL") or redis_other_db(REDIS_URL),
            "KEY_PREFIX": "inbound",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Anonymous public pages are rendered once per language and path, then served from the cache
# until this many seconds pass or staff change what they show (inbound.lib.pagecache).
PUBLIC_PAGE_CACHE_SECONDS = env_int("PUBLIC_PAGE_CACHE_SECONDS", 300, minimum=0)
# The costly parts of public pages (the home's news, an article's text) are kept rendered the
# same way, for the renders the page cache does not answer: a session cookie, a query string,
# the page cache off (signed-in staff always get everything fresh). 0 turns fragments off.
PUBLIC_FRAGMENT_CACHE_SECONDS = env_int("PUBLIC_FRAGMENT_CACHE_SECONDS", 300, minimum=0)

# Citizens' rights (contacts.links, contacts.rights): how long signed links live, how many
# link e-mails one address may be sent a day whoever asks, and when inactive contacts without
# consent are anonymised. The links to download or erase one's data are also single use.
PREFERENCES_LINK_MAX_AGE_DAYS = env_int("PREFERENCES_LINK_MAX_AGE_DAYS", 30, minimum=1)
RIGHTS_DATA_LINK_MAX_AGE_MINUTES = env_int("RIGHTS_DATA_LINK_MAX_AGE_MINUTES", 60, minimum=5)
RIGHTS_EMAILS_PER_ADDRESS_PER_DAY = env_int("RIGHTS_EMAILS_PER_ADDRESS_PER_DAY", 5, minimum=1)
CONTACT_RETENTION_MONTHS = env_int("CONTACT_RETENTION_MONTHS", 24, minimum=1)
# How long each kind of personal data is kept, in days (inbound.retention, nightly): then it is
# deleted, or redacted where the row must stay for aggregates. RETENTION_<KIND>_DAYS overrides.
RETENTION = {
    kind: env_int(f"RETENTION_{kind.upper()}_DAYS", days, minimum=1)
    for kind, days in {
        "submissions": 730,  # answers and files; the row stays for conversion figures
        "unconfirmed_submissions": 30,  # opt-ins never confirmed
        "touchpoints": 760,  # interactions (25 months: a year-on-year comparison)
        "search_queries": 395,  # what was typed in the site search (13 months)
        "deliveries": 1095,  # who was sent which e-mail
        "workflow_runs": 365,  # finished enrolments with their steps and actions
        "imports": 90,  # import reports (the files are deleted when imported)
        "login_attempts": 90,  # django-axes logs of staff sign-ins
        "audit": 1825,  # the staff audit log: accountability outlives the rest (5 years)
    }.items()
}

# Contact imports (contacts.import_files): an XLSX is a zip, refused at upload, before anything
# is inflated, if it would take more than this once uncompressed (a 20 MB upload of a real
# million-row sheet stays under 500 MB) or if a part expands more than real sheets do (10-20x).
IMPORT_MAX_UNCOMPRESSED_MB = env_int("IMPORT_MAX_UNCOMPRESSED_MB", 500, minimum=1)
IMPORT_MAX_COMPRESSION_RATIO = env_int("IMPORT_MAX_COMPRESSION_RATIO", 100, minimum=2)

# What `manage.py seed_demo` loads after the institution itself, app by app.
DEMO_SEEDERS = [
    "contacts.demo.contacts_demo_seed",
    "content.demo.content_demo_seed",
    "conversion.demo.conversion_demo_seed",
    "campaigns.demo.campaigns_demo_seed",
    "workflows.demo.workflows_demo_seed",
]

# Citizen forms (conversion): anti-abuse, uploads and link lifetimes.
CONVERSION_MIN_FILL_SECONDS = env_int("CONVERSION_MIN_FILL_SECONDS", 3, minimum=0)
CONVERSION_MAX_UPLOAD_MB = env_int("CONVERSION_MAX_UPLOAD_MB", 5, minimum=1)
CONVERSION_IDEMPOTENCY_WINDOW_SECONDS = env_int(
    "CONVERSION_IDEMPOTENCY_WINDOW_SECONDS", 600, minimum=1
)
CONVERSION_OPTIN_MAX_AGE_DAYS = env_int("CONVERSION_OPTIN_MAX_AGE_DAYS", 7, minimum=1)
# A committed submission wakes the outbox relay at once (conversion.wake); beat's 2-second tick
# is the safety net. Off only in the test run (tests/settings.py).
CONVERSION_RELAY_WAKE = True
# Opt-in e-mails one address may receive in 24 hours, whoever sends the form and from wherever:
# a form cannot be used to flood someone else's inbox.
CONVERSION_OPTIN_EMAILS_PER_ADDRESS_PER_DAY = env_int(
    "CONVERSION_OPTIN_EMAILS_PER_ADDRESS_PER_DAY", 3, minimum=1
)
CONVERSION_CONTACT_MAX_AGE_DAYS = env_int("CONVERSION_CONTACT_MAX_AGE_DAYS", 180, minimum=1)
# A web process re-reads whether a published form changed at most this often (its form page and
# submissions cost no query in between): an edit or unpublishing shows within this delay.
CONVERSION_FORM_CHECK_SECONDS = env_int("CONVERSION_FORM_CHECK_SECONDS", 5, minimum=0)
CONVERSION_RATE_LIMIT_PER_MINUTE = env_int("CONVERSION_RATE_LIMIT_PER_MINUTE", 20, minimum=1)
CONVERSION_DOWNLOAD_MAX_AGE_HOURS = env_int("CONVERSION_DOWNLOAD_MAX_AGE_HOURS", 72, minimum=1)
# Campaigns (campaigns.sending): a sender's lease on a chunk of deliveries. It only runs out
# when the sender died; then another sender takes the chunk's unsent rows.
CAMPAIGNS_LEASE_SECONDS = env_int("CAMPAIGNS_LEASE_SECONDS", 120, minimum=5)
# The provider's cap on messages a second, shared by every email worker through a Redis token
# bucket (inbound.lib.throttle); 0: as fast as the workers go. Amazon SES starts at 14.
CAMPAIGNS_RATE_PER_SECOND = env_int("CAMPAIGNS_RATE_PER_SECOND", 0, minimum=0)
# A send pauses on its own when more than this share of a tick's messages fail (at least 50).
CAMPAIGNS_PAUSE_ERROR_PERCENT = env_int("CAMPAIGNS_PAUSE_ERROR_PERCENT", 20, minimum=1)
# Deliverability (docs/operations.md, "Email"). The SMTP envelope sender of campaign mail, where
# bounces go; empty: the From address. An ESP (anymail) uses its own and ignores this.
CAMPAIGNS_RETURN_PATH = env_str("CAMPAIGNS_RETURN_PATH")
# An address for `List-Unsubscribe: <mailto:…>` (RFC 2369), read through an ESP's inbound
# webhook (campaigns.webhooks); empty: the https one-click link only.
CAMPAIGNS_UNSUBSCRIBE_MAILTO = env_str("CAMPAIGNS_UNSUBSCRIBE_MAILTO")
# DKIM signing of campaign mail sent over SMTP (inbound.lib.dkim_signing): all three, or none.
CAMPAIGNS_DKIM_PRIVATE_KEY = env_str("CAMPAIGNS_DKIM_PRIVATE_KEY")  # PEM text, or a path to it
CAMPAIGNS_DKIM_SELECTOR = env_str("CAMPAIGNS_DKIM_SELECTOR")
CAMPAIGNS_DKIM_DOMAIN = env_str("CAMPAIGNS_DKIM_DOMAIN")
# Outgoing webhooks (inbound.lib.webhooks: forms' and workflows' calls). Their URLs must resolve
# to public addresses only, so a webhook typed by staff cannot reach the server's own network
# (SSRF). WEBHOOKS_ALLOW_PRIVATE=1 lifts the check (a development machine, a CRM on the
# institution's network); WEBHOOKS_ALLOWED_HOSTS lifts it for these host names only.
WEBHOOKS_ALLOW_PRIVATE = env_bool("WEBHOOKS_ALLOW_PRIVATE", False)
WEBHOOKS_ALLOWED_HOSTS = env_list("WEBHOOKS_ALLOWED_HOSTS")
# Workflows (workflows.actions): seconds a workflow's webhook call may take to connect
# and to answer before it counts as failed (and is retried with backoff).
WORKFLOWS_WEBHOOK_TIMEOUT_SECONDS = env_int("WORKFLOWS_WEBHOOK_TIMEOUT_SECONDS", 5, minimum=1)
# Benchmark-only endpoints (`python -m bench submissions` sets it); never on in production.
BENCH_ENDPOINTS = env_bool("BENCH_ENDPOINTS", False)

# PeerTube servers whose videos may be embedded (besides youtube-nocookie and Vimeo).
CONTENT_PEERTUBE_HOSTS = env_list("CONTENT_PEERTUBE_HOSTS", ["framatube.org"])

# --- Authentication and staff ----------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

# Two-step sign-in (TOTP, inbound.twofactor): required for Administrators and Marketers when on.
# On by default in production; off in development, and in tests unless a test turns it on.
STAFF_2FA_REQUIRED = env_bool("STAFF_2FA_REQUIRED", default=not DEBUG)
OTP_TOTP_ISSUER = INSTITUTION["name"]  # how the account is named in the authenticator app
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # no TOTP secret or QR code in the admin

# Brute-force protection for the staff login. Axes keys attempts by IP; we hand it a keyed hash
# of the IP shaped as an IPv6 address, so lockouts work and no raw IP is ever stored.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
# Password spraying (one user name from many addresses) is bounded by the user name alone, with
# a higher limit so that nobody can lock a colleague out from a handful of addresses
# (inbound.lib.lockout).
AXES_USERNAME_FAILURE_LIMIT = env_int("AXES_USERNAME_FAILURE_LIMIT", 20, minimum=1)
AXES_HANDLER = "inbound.lib.lockout.LockoutHandler"
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = ["ip_address", ["username", "ip_address"], "username"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "inbound.lib.privacy.axes_client_ip"
AXES_LOCKOUT_TEMPLATE = "inbound/lockout.html"
AXES_VERBOSE = False
AXES_DISABLE_ACCESS_LOG = True  # successful logins go to our own audit log

# --- Internationalisation --------------------------------------------------------------------
LANGUAGE_CODE = "es"
LANGUAGES = [("es", _("Spanish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Content (topics, articles…) is translatable into every official language of Spain and English;
# Spanish is the source and the fallback.
MODELTRANSLATION_LANGUAGES = ("es", "ca", "eu", "gl", "en")
MODELTRANSLATION_DEFAULT_LANGUAGE = "es"
MODELTRANSLATION_FALLBACK_LANGUAGES = ("es",)
TIME_ZONE = "Europe/Madrid"
USE_I18N = True
USE_TZ = True

# --- Static and media ------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Files with personal data (contact imports): never under MEDIA_ROOT, never served.
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(VAR_DIR / "private"), "base_url": None},
    },
    "staticfiles": {
        # Hashed names let WhiteNoise send far-future cache headers; they need collectstatic.
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env_bool("STATIC_MANIFEST", default=not DEBUG)
        else "django.contrib.staticfiles.storage.StaticFilesStorage",
    },
}

# --- Email -----------------------------------------------------------------------------------
globals().update(env_email("EMAIL_URL", VAR_DIR / "mail"))  # sets EMAIL_BACKEND, EMAIL_HOST…
DEFAULT_FROM_EMAIL = env_str(
    "DEFAULT_FROM_EMAIL", f"{INSTITUTION['name']} <{INSTITUTION['email']}>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
# Any ESP through django-anymail instead of SMTP: EMAIL_BACKEND=anymail.backends.<esp>.EmailBackend,
# its settings as ANYMAIL_<NAME> (ANYMAIL_POSTMARK_SERVER_TOKEN, ANYMAIL_WEBHOOK_SECRET=user:pass…).
if env_str("EMAIL_BACKEND"):
    EMAIL_BACKEND = env_str("EMAIL_BACKEND")
ANYMAIL = env_prefixed("ANYMAIL_")

# --- Celery ----------------------------------------------------------------------------------
# Redis in production; with no REDIS_URL, kombu's filesystem transport under var/ so that
# `make run` needs no server. Both use the same queues and routes.
# CELERY_NAMESPACE keeps runs that share a broker apart (each test run uses its own).
CELERY_NAMESPACE = env_str("CELERY_NAMESPACE")
CELERY_BROKER_URL, CELERY_BROKER_TRANSPORT_OPTIONS = celery_broker(
    REDIS_URL, VAR_DIR / "broker", CELERY_NAMESPACE
)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # worker and beat log through LOGGING (JSON in production)
CELERY_RESULT_BACKEND = None  # tasks report through the database, not result messages
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = [Queue("default"), Queue("email"), Queue("tracking")]
# Every task of ours is idempotent (idempotency keys on every send), so a message is acknowledged
# only after the task finished and is redelivered if the worker died mid-task.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ROUTES = {
    # Workflow steps only write rows (e-mails leave through the sending engine): kept off the
    # `email` queue so a big send never delays them.
    "workflows.tasks.*": {"queue": "default"},
    "campaigns.tasks.*": {"queue": "email"},
    "*.tasks.email_*": {"queue": "email"},
    "analytics.tasks.*": {"queue": "tracking"},
    "*.tasks.tracking_*": {"queue": "tracking"},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# How much lower than the web's the Celery worker's CPU priority is (Unix niceness, 0-19;
# inbound.celery): on a machine they share, a burst of submissions is answered first and the
# relay applies it right after. 0 keeps the worker level with the web.
WORKER_NICENESS = env_int("WORKER_NICENESS", 10, minimum=0)
# Every periodic job of the platform, in one place. A tick is worth running late, not
# discarding: on a busy machine (one worker, a long task ahead of it) a tick that expired after
# one interval was mostly dropped, so ticks live TICK_LIFETIME of their intervals. A tick that
# finds its predecessor still at work takes other rows (leases), so a backlog costs little.
TICK_LIFETIME = 5
CELERY_BEAT_SCHEDULE = {
    "heartbeat-default": {
        "task": "inbound.tasks.heartbeat",
        "schedule": 60.0,
        "kwargs": {"name": "default"},
        "options": {"queue": "default", "expires": 60.0 * TICK_LIFETIME},
    },
    "heartbeat-email": {
        "task": "inbound.tasks.heartbeat",
        "schedule": 60.0,
        "kwargs": {"name": "email"},
        "options": {"queue": "email", "expires": 60.0 * TICK_LIFETIME},
    },
    "heartbeat-tracking": {
        "task": "inbound.tasks.heartbeat",
        "schedule": 60.0,
        "kwargs": {"name": "tracking"},
        "options": {"queue": "tracking", "expires": 60.0 * TICK_LIFETIME},
    },
    "conversion-effects-sweep": {
        # The outbox relay: side effects of submissions (opt-in e-mail, staff notification,
        # webhook), sent in batches within seconds of the commit, failures retried with backoff.
        "task": "conversion.tasks.effects_sweep",
        "schedule": 2.0,
        "options": {"queue": "email", "expires": 2.0 * TICK_LIFETIME},
    },
    "campaigns-send-due": {
        # The sending engine: starts scheduled campaigns and sends the due deliveries of those
        # being sent, in leased chunks (campaigns.sending).
        "task": "campaigns.tasks.send_due",
        "schedule": 2.0,
        "options": {"queue": "email", "expires": 2.0 * TICK_LIFETIME},
    },
    "workflows-due": {
        # Workflow steps whose time has come, claimed in batches (workflows.engine).
        "task": "workflows.tasks.workflows_due",
        "schedule": 2.0,
        "options": {"queue": "default", "expires": 2.0 * TICK_LIFETIME},
    },
    "workflows-triggers": {
        # Enrolments the signal cannot see: interactions it missed, contacts who entered a
        # segment, and contacts' dates (workflows.triggers).
        "task": "workflows.tasks.workflows_triggers",
        "schedule": 60.0,
        "options": {"queue": "default", "expires": 60.0 * TICK_LIFETIME},
    },
    "workflows-actions": {
        # What workflow steps do outside the database (webhook calls, e-mails to staff), sent
        # with retries and backoff (workflows.actions). On `default`: a slow webhook
        # receiver must not hold up an `email` worker in the middle of a campaign.
        "task": "workflows.tasks.workflow_actions_due",
        "schedule": 5.0,
        "options": {"queue": "default", "expires": 5.0 * TICK_LIFETIME},
    },
    "campaigns-bulletins-scan": {
        # Bulletins: content that became public (scheduled included) recorded once per topic,
        # and sent to the subscribers who want it at once (campaigns.bulletins).
        "task": "campaigns.tasks.bulletins_scan",
        "schedule": 60.0,
        "options": {"queue": "email", "expires": 60.0 * TICK_LIFETIME},
    },
    "campaigns-bulletins-daily": {
        # The daily and weekly digests, in the morning (CELERY_TIMEZONE is Europe/Madrid).
        "task": "campaigns.tasks.bulletins_daily",
        "schedule": crontab(minute=0, hour=7),
        "options": {"queue": "email"},
    },
    "campaigns-bulletins-weekly": {
        "task": "campaigns.tasks.bulletins_weekly",
        "schedule": crontab(minute=0, hour=7, day_of_week="mon"),
        "options": {"queue": "email"},
    },
    "content-publish-due": {
        "task": "content.tasks.content_publish_due",
        "schedule": 60.0,
        "options": {"queue": "default", "expires": 60.0 * TICK_LIFETIME},
    },
    "contacts-derived-refresh": {
        # Lifecycle stage and persona of contacts who just acted (contacts.derived), in batches.
        "task": "contacts.tasks_personas.derived_refresh",
        "schedule": 5.0,
        "options": {"queue": "tracking", "expires": 5.0 * TICK_LIFETIME},
    },
    "contacts-personas-assign": {
        "task": "contacts.tasks_personas.personas_assign_all",
        "schedule": crontab(minute=5, hour="*/6"),
    },
    "contacts-lifecycle-refresh": {
        "task": "contacts.tasks_personas.lifecycle_refresh",
        "schedule": crontab(minute=25, hour=2),
    },
    "contacts-imports-headers-sweep": {
        # Column names of uploads whose task a lost broker message never ran
        # (contacts.tasks_imports).
        "task": "contacts.tasks_imports.imports_headers_sweep",
        "schedule": 60.0,
        "options": {"expires": 60.0 * TICK_LIFETIME},
    },
    "contacts-imports-abandoned-purge": {
        "task": "contacts.tasks_imports.imports_abandoned_purge",
        "schedule": crontab(minute=50, hour=3),
    },
    "contacts-retention-sweep": {
        "task": "contacts.tasks_rights.contacts_retention_sweep",
        "schedule": crontab(minute=41, hour=3),
    },
    "inbound-visitor-salts-rotate": {
        # Visitor keys: today's random salt made, the salts of two days ago deleted, so no key
        # older than that can be recomputed or linked (inbound.visitors). Also done by the first
        # request of the day; this covers the days nobody visits.
        "task": "inbound.tasks.visitor_salts_rotate",
        "schedule": crontab(minute=1, hour=0),
    },
    "inbound-retention-purge": {
        # Every kind of personal data past its RETENTION, deleted or redacted in batches.
        "task": "inbound.tasks.retention_purge",
        "schedule": crontab(minute=35, hour=3),
    },
    "contacts-used-tokens-purge": {
        # Used single-use links (data download, erasure) once they would have expired anyway.
        "task": "contacts.tasks_rights.used_tokens_purge",
        "schedule": crontab(minute=53),
    },
    "axes-expired-attempts": {
        "task": "inbound.tasks.login_attempts_prune",
        "schedule": crontab(minute=17, hour=3),
    },
}

# --- API -------------------------------------------------------------------------------------
# Staff API tokens (django-rest-knox, inbound.lib.api_access): created on
# /es/staff/account/api-tokens/, shown once, stored only as a SHA-512 digest, and refused after
# this many days.
API_TOKEN_TTL_DAYS = env_int("API_TOKEN_TTL_DAYS", 30, minimum=1)
API_TOKENS_PER_USER = env_int("API_TOKENS_PER_USER", 5, minimum=1)
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=API_TOKEN_TTL_DAYS),
    "AUTO_REFRESH": False,  # an expiry is a date staff can plan for, not a moving target
    "AUTH_HEADER_PREFIX": "Token",  # the header clients of the old tokens already send
}
# Requests per staff member (or, before sign-in, per hashed address) on every staff endpoint.
API_STAFF_RATE = env_str("API_STAFF_RATE", "300/min")
if not re.fullmatch(r"\d+/(s|sec|m|min|h|hour|d|day)", API_STAFF_RATE):
    raise ImproperlyConfigured(
        "API_STAFF_RATE must read like 300/min (a number, then /s, /min, /hour or /day)."
    )
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "inbound.lib.api_access.StaffSessionAuthentication",
        "inbound.lib.api_access.StaffTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "inbound.api.exception_handler",
    # Every staff endpoint is limited per staff member; public endpoints set their own limits
    # per client (content.api; the form API has the form page's limit, conversion.api).
    "DEFAULT_THROTTLE_CLASSES": ["inbound.lib.api_access.StaffRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"content_public": "120/min", "staff": API_STAFF_RATE},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Inbound API",
    "DESCRIPTION": "Staff API of the Inbound citizen-engagement platform.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Forms embedded on other institutional sites call the form API from the browser. CORS applies
# to those endpoints only, and each form allows just the sites it lists (Form.embed_origins,
# through the check_request_enabled signal in conversion.embedding): no global allowlist, never
# credentials (the API reads no cookie).
CORS_URLS_REGEX = r"^/api/v1/forms/"
CORS_ALLOW_METHODS = ["GET", "POST"]
CORS_ALLOW_HEADERS = ["content-type"]
CORS_ALLOW_CREDENTIALS = False
CORS_PREFLIGHT_MAX_AGE = 600  # a site removed from a form stops passing preflights within minutes

# --- Security --------------------------------------------------------------------------------
NUM_PROXIES = env_int("NUM_PROXIES", 0, minimum=0)  # trusted reverse proxies in front of web
if env_bool("SECURE_PROXY_SSL", default=NUM_PROXIES > 0):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]  # probes speak plain HTTP inside the cluster
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600  # one working day for staff
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FIELDS = 500

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        # The nonce lets the rich-text editor's import map run; it is added to the header only
        # on pages that use it (the admin's editor), so public pages stay 'self'-only.
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        # Privacy-enhanced video embeds only (content.validators keeps the same list).
        "frame-src": [
            "https://www.youtube-nocookie.com",
            "https://player.vimeo.com",
            *(f"https://{host}" for host in CONTENT_PEERTUBE_HOSTS),
        ],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- Logging ---------------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
# Tokens of citizens' links never reach a log line: Django's request logging is filtered
# (`/es/baja/<redacted>/`, inbound.lib.logredact), and so is everything the console handler
# writes. Django's own handlers for `django` and `django.server` are replaced by ours (they
# would print the same lines again, unfiltered); the JSON lines leave out the request object,
# whose text is its path.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "inbound.lib.requestid.RequestIdFilter"},
        "redact_tokens": {"()": "inbound.lib.logredact.TokenRedactFilter"},
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "reserved_attrs": [*JSON_LOG_RESERVED_ATTRS, "request", "server_time"],
        },
        "text": {"format": "%(asctime)s %(levelname)-7s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id", "redact_tokens"],
            "formatter": env_str("LOG_FORMAT") or ("text" if DEBUG else "json"),
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.request": {"filters": ["redact_tokens"]},
        "django.server": {"handlers": [], "filters": ["redact_tokens"], "propagate": True},
        "django.db.backends": {"level": "INFO"},
        "axes": {"level": "WARNING"},
    },
}
