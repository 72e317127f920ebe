"""Masthead settings: one module, read from the environment with safe local defaults.

Production sets ``DEBUG=false`` and must then supply ``SECRET_KEY`` (and ``ALLOWED_HOSTS``);
the process refuses to start otherwise. Local runs (``make run``, ``make test``) set
``DEBUG=true`` and get a SQLite database, a file cache and a filesystem Celery broker
under ``var/``, with no server to start.
"""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import cache_config, env_bool, env_int, env_list, env_str, site_url_parse

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("MASTHEAD_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Masthead refuses to start with DEBUG off and no "
            "SECRET_KEY: set SECRET_KEY to a long random value (or DEBUG=true for a local run)."
        )
    SECRET_KEY = "local-development-only-not-a-secret"  # noqa: S105 (DEBUG runs only)

# Key for the one-trial-per-person email hashes. Keep it stable: changing it forgets
# which addresses already had their trial.
EMAIL_HASH_KEY = env_str("EMAIL_HASH_KEY", SECRET_KEY)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# The site's public address. Every absolute URL given to Stripe or put in an email is built
# from it, never from the request's Host header (which ALLOWED_HOSTS checks without its port).
SITE_URL = site_url_parse(env_str("SITE_URL", "http://127.0.0.1:8000" if DEBUG else ""))
# Proxies in front of Masthead that each append to X-Forwarded-For (a load balancer, a CDN):
# the per-IP rate limits (allauth's and DRF's throttles) count the address the outermost
# trusted proxy saw. 0 trusts none and counts REMOTE_ADDR, ignoring X-Forwarded-For.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more.")
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "allauth",
    "allauth.account",
    "allauth.headless",
    "accounts",
    "membership",
    "billing",
    "web",
    "gifts",
    # Family and group plans sold by seat.
    "groups",
    "publishers",
    "appstores",
    "privacy",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.ReaderCacheMiddleware",
    "core.middleware.JsonErrorMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "membership.devices.DeviceMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
            ],
        },
    },
]

# Database: DATABASE_URL, else a SQLite file under var/. SQLite runs in WAL mode with
# IMMEDIATE transactions so the web process and Celery workers can share it. A connection
# kept across requests (DB_CONN_MAX_AGE seconds) is checked before it is reused, so a
# database restart does not fail the first request of every web worker with a 500.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'masthead.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory, so a Celery worker process sees the test database too.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
    "DB_PREPARED_STATEMENTS", True
):
    # Parameters bound by the server, and a statement a connection runs a fifth time is
    # prepared there, so PostgreSQL plans it once rather than at every request (a fifth of a
    # read's time, bench/gated_read.py). Off (DB_PREPARED_STATEMENTS=false) behind a pooler
    # that hands one connection to many clients, such as PgBouncer in transaction mode.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=5
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": cache_config(env_str("CACHE_URL"), default_dir=VAR_DIR / "cache")}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_REDIRECT_URL = "/"
LOGIN_URL = "/accounts/login/"

# django-allauth: email is the login; the app uses the headless API with X-Session-Token.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
# Sign-up always waits for the reader to confirm their address (the emailed link signs them
# in), so it answers alike whether or not the address has an account: the owner of an
# existing one is emailed instead (allauth's enumeration prevention, which needs allauth's
# "mandatory"). The ACCOUNT_EMAIL_VERIFICATION variable says whether a later sign-in with a
# password waits too ("mandatory") or not ("optional": the paywall asks for the address to
# be confirmed before the trial). accounts/stages.py's login stage applies it.
EMAIL_VERIFICATION_AT_SIGN_IN = env_str("ACCOUNT_EMAIL_VERIFICATION", "optional")
if EMAIL_VERIFICATION_AT_SIGN_IN not in {"optional", "mandatory"}:
    raise ImproperlyConfigured("ACCOUNT_EMAIL_VERIFICATION must be optional or mandatory.")
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_PREVENT_ENUMERATION = True
# Address rules on sign-up, and links in allauth's emails from SITE_URL (accounts/adapter.py).
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
HEADLESS_ADAPTER = "accounts.adapter.HeadlessAdapter"
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
# Account emails (templates/account/email/) are in Masthead's voice, text and HTML; the
# subject names Masthead, not the host the request came in on.
ACCOUNT_EMAIL_SUBJECT_PREFIX = "Masthead: "
# The web sign-in form says how long a locked-out reader waits (from login_failed below).
ACCOUNT_FORMS = {"login": "accounts.forms.LoginForm"}
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
}
HEADLESS_CLIENTS = ("app", "browser")
HEADLESS_TOKEN_STRATEGY = "accounts.session_tokens.OneQuerySessionTokenStrategy"  # noqa: S105 (a class)
HEADLESS_ONLY = False

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# collectstatic's target; whitenoise serves it (and, with DEBUG, the apps' folders directly).
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Email: console locally, SMTP when EMAIL_HOST is set.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))  # filebased backend
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Masthead <hello@masthead.localhost>")
# A mail server that stops answering fails the send within this many seconds (per operation).
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
# The outbox (membership.services.outbox): a sender holds a row this long, well past
# EMAIL_TIMEOUT; rows pending this long (their nudge lost) are queued again by beat.
OUTBOX_SEND_LEASE_SECONDS = env_int("OUTBOX_SEND_LEASE_SECONDS", 120)
OUTBOX_REDRIVE_AFTER = env_int("OUTBOX_REDRIVE_AFTER", 60)
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 10)
# One broker message per burst of emails (core/nudges.py): a row recorded queues a send task
# only when none has been pending for up to OUTBOX_NUDGE_SECONDS; the sender it wakes leases
# OUTBOX_DRAIN_BATCH rows at a time, for up to OUTBOX_DRAIN_SECONDS, then hands on.
OUTBOX_NUDGE_SECONDS = env_int("OUTBOX_NUDGE_SECONDS", 2)
OUTBOX_DRAIN_BATCH = env_int("OUTBOX_DRAIN_BATCH", 20)
OUTBOX_DRAIN_SECONDS = env_int("OUTBOX_DRAIN_SECONDS", 30)

# Membership.
TRIAL_DAYS = env_int("TRIAL_DAYS", 14)
TRIAL_REMINDER_DAYS = env_int("TRIAL_REMINDER_DAYS", 3)
MEMBERSHIP_BATCH_SIZE = env_int("MEMBERSHIP_BATCH_SIZE", 500)

# The meter: premium articles free each calendar month (its first day in METER_TIMEZONE),
# for a reader not signed in and for a signed-in reader without a trial or plan; 0 turns
# a meter off. These are the defaults until an admin saves the meter policy. Anonymous
# readers are known by a device id: a signed cookie kept DEVICE_COOKIE_AGE seconds.
METER_ANONYMOUS = env_int("METER_ANONYMOUS", 2)
METER_REGISTERED = env_int("METER_REGISTERED", 5)
METER_TIMEZONE = env_str("METER_TIMEZONE", "UTC")
DEVICE_COOKIE_AGE = env_int("DEVICE_COOKIE_AGE", 400 * 24 * 3600)

# Gift links: a reader with paid access shares an article with readers who have none.
GIFT_LINKS_PER_MONTH = env_int("GIFT_LINKS_PER_MONTH", 10)  # per giver, calendar month (UTC)
GIFT_LINK_DAYS = env_int("GIFT_LINK_DAYS", 14)
GIFT_LINK_MAX_OPENS = env_int("GIFT_LINK_MAX_OPENS", 10)  # distinct devices or readers
# The tokens are derived from this key and a random salt per link (only their hashes are
# stored). Changing it leaves links already given working, but their givers are shown a new
# link (costing a gift) when they share the same article again.
GIFT_LINK_KEY = env_str("GIFT_LINK_KEY", SECRET_KEY)

# Billing through Stripe. STRIPE_API_BASE points the SDK at the offline sandbox
# (`python -m stripe_sandbox`) for local runs and tests; leave it empty for real Stripe.
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY", "sk_test_masthead_local" if DEBUG else "")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET", "whsec_masthead_local" if DEBUG else "")
STRIPE_API_BASE = env_str("STRIPE_API_BASE", "http://127.0.0.1:12111" if DEBUG else "")
# The API version the installed SDK is built for (stripe.api_version); a test keeps them equal.
STRIPE_API_VERSION = "2026-10-28.endive"
STRIPE_WEBHOOK_TOLERANCE = env_int("STRIPE_WEBHOOK_TOLERANCE", 300)
STRIPE_TIMEOUT_SECONDS = float(env_int("STRIPE_TIMEOUT_SECONDS", 10))
STRIPE_MAX_NETWORK_RETRIES = env_int("STRIPE_MAX_NETWORK_RETRIES", 2)
BILLING_GRACE_DAYS = env_int("BILLING_GRACE_DAYS", 7)
# Access runs this long past a paid period's end, so a renewal a little late never locks out.
BILLING_RENEWAL_LEEWAY_HOURS = env_int("BILLING_RENEWAL_LEEWAY_HOURS", 2)
BILLING_EVENT_REDRIVE_AFTER = env_int("BILLING_EVENT_REDRIVE_AFTER", 60)
# A worker applying an event holds it this long and renews the lease while it applies; a
# lease that runs out (the worker died) lets the re-drive hand the event to another worker.
BILLING_EVENT_LEASE_SECONDS = env_int("BILLING_EVENT_LEASE_SECONDS", 60)
# Webhook pipeline speed: one broker message per burst (core/nudges.py). The door queues
# a nudge only when none has been pending for up to BILLING_EVENT_NUDGE_SECONDS; the worker
# it wakes drains the stored events, BILLING_EVENT_DRAIN_BATCH claimed at a time, for up to
# BILLING_EVENT_DRAIN_SECONDS before it hands on to a fresh nudge.
BILLING_EVENT_NUDGE_SECONDS = env_int("BILLING_EVENT_NUDGE_SECONDS", 2)
BILLING_EVENT_DRAIN_BATCH = env_int("BILLING_EVENT_DRAIN_BATCH", 10)
BILLING_EVENT_DRAIN_SECONDS = env_int("BILLING_EVENT_DRAIN_SECONDS", 30)
if not DEBUG and not (STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET):
    raise ImproperlyConfigured(
        "STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET are not set. Masthead refuses to start "
        "in production without its Stripe keys."
    )

# Publishers: the read ledger and monthly payout statements.
# A read qualifies at this many engaged seconds, or at this much of the article (0 to 1).
READ_QUALIFY_SECONDS = env_int("READ_QUALIFY_SECONDS", 30)
READ_QUALIFY_PROGRESS = 0.5
# One report counts at most this many seconds; one reader's day on one article at most this.
READ_REPORT_MAX_SECONDS = env_int("READ_REPORT_MAX_SECONDS", 120)
READ_DAY_MAX_SECONDS = env_int("READ_DAY_MAX_SECONDS", 3 * 3600)
# The publishers' pool: this share of each month's net revenue, per currency.
PUBLISHER_SHARE = env_str("PUBLISHER_SHARE", "0.5")
# App-store subscriptions (Apple App Store, Google Play). Locally and in tests the stores'
# servers are the offline stand-in (`python -m appstore_sandbox`, port 12112): its root
# certificate is the one trusted, its address the API base. In production: Apple's root
# certificates (AppleRootCA-G3.cer), APPLE_ENVIRONMENT=Production with APPLE_APP_APPLE_ID,
# an App Store Connect API key, and Google's certificates and Play Developer API.
APPSTORE_SANDBOX_URL = env_str("APPSTORE_SANDBOX_URL", "http://127.0.0.1:12112" if DEBUG else "")
APPLE_BUNDLE_ID = env_str("APPLE_BUNDLE_ID", "com.masthead.reader")
APPLE_APP_APPLE_ID = env_int("APPLE_APP_APPLE_ID", 1234567890)
# The environment is Masthead's, never the client's: the other one's data is refused.
APPLE_ENVIRONMENT = env_str("APPLE_ENVIRONMENT", "Sandbox" if DEBUG else "Production")
if APPLE_ENVIRONMENT not in ("Sandbox", "Production"):
    raise ImproperlyConfigured("APPLE_ENVIRONMENT must be Sandbox or Production.")
APPLE_ROOT_CERTIFICATES = env_list(
    "APPLE_ROOT_CERTIFICATES",
    [str(BASE_DIR / "var" / "appstore_sandbox" / "apple_root.der")] if DEBUG else [],
)
# OCSP revocation checks of Apple's chain (online); off for the offline stand-in.
APPLE_ONLINE_CHECKS = env_bool("APPLE_ONLINE_CHECKS", not DEBUG)
APPLE_API_BASE = env_str("APPLE_API_BASE", APPSTORE_SANDBOX_URL)
APPLE_API_KEY_ID = env_str("APPLE_API_KEY_ID", "SANDBOXKEY")
APPLE_API_ISSUER_ID = env_str("APPLE_API_ISSUER_ID", "00000000-0000-0000-0000-000000000000")
APPLE_API_PRIVATE_KEY = env_str("APPLE_API_PRIVATE_KEY", "")
GOOGLE_PLAY_PACKAGE = env_str("GOOGLE_PLAY_PACKAGE", "com.masthead.reader")
GOOGLE_PLAY_API_BASE = env_str(
    "GOOGLE_PLAY_API_BASE", APPSTORE_SANDBOX_URL or "https://androidpublisher.googleapis.com"
)
GOOGLE_SERVICE_ACCOUNT_FILE = env_str("GOOGLE_SERVICE_ACCOUNT_FILE", "")
# The push subscription's audience is the push URL; its tokens are checked against these certs.
GOOGLE_PUSH_AUDIENCE = env_str("GOOGLE_PUSH_AUDIENCE", SITE_URL + "/appstores/google/rtdn/")
GOOGLE_PUSH_CERTS_URL = env_str(
    "GOOGLE_PUSH_CERTS_URL",
    APPSTORE_SANDBOX_URL + "/_sandbox/google/certs"
    if APPSTORE_SANDBOX_URL
    else "https://www.googleapis.com/oauth2/v1/certs",
)
GOOGLE_PUSH_SERVICE_ACCOUNT = env_str(
    "GOOGLE_PUSH_SERVICE_ACCOUNT", "play-rtdn@masthead-sandbox.iam.gserviceaccount.com"
)
APPSTORES_TIMEOUT_SECONDS = float(env_int("APPSTORES_TIMEOUT_SECONDS", 10))
APPSTORES_REDRIVE_AFTER_SECONDS = env_int("APPSTORES_REDRIVE_AFTER_SECONDS", 60)
APPSTORES_NOTIFICATION_LEASE_SECONDS = env_int("APPSTORES_NOTIFICATION_LEASE_SECONDS", 120)
# Privacy: readers' data exports and erasure (privacy/).
# Export zips live here, outside static and media, served only to their reader.
PRIVACY_EXPORT_DIR = Path(env_str("PRIVACY_EXPORT_DIR", str(VAR_DIR / "exports")))
PRIVACY_EXPORT_DAYS = env_int("PRIVACY_EXPORT_DAYS", 7)
# Deleting an account without the password is allowed this long after signing in.
PRIVACY_FRESH_SIGN_IN_SECONDS = env_int("PRIVACY_FRESH_SIGN_IN_SECONDS", 300)
# Invoices and payment records of an erased reader are kept (without their name, address or
# email) this long, as tax law requires (8 to 10 years in Germany, say).
PRIVACY_PAYMENT_RECORDS_RETENTION_DAYS = env_int("PRIVACY_PAYMENT_RECORDS_RETENTION_DAYS", 3653)
PRIVACY_ERASURE_LEASE_SECONDS = env_int("PRIVACY_ERASURE_LEASE_SECONDS", 300)
# What Stripe sends about an erased reader's customers this long after is scrubbed too.
PRIVACY_LATE_SCRUB_HOURS = env_int("PRIVACY_LATE_SCRUB_HOURS", 48)

# Django REST framework and the OpenAPI schema.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.SessionTokenAuthentication",
        "accounts.authentication.CsrfSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "120/min"),
        "user": env_str("API_THROTTLE_USER", "600/min"),
        "trial_start": "10/hour",
        "device_create": env_str("API_THROTTLE_DEVICE_CREATE", "30/hour"),
        "read_report": env_str("API_THROTTLE_READ_REPORT", "240/min"),
        "account_delete": "10/hour",
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Masthead API",
    "DESCRIPTION": "Titles, articles behind the paywall, plans, and the reader's membership.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and Redoc are served from this project's static files, not a CDN, so the
    # docs work offline (`make run` needs no network).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.throttled_responses_document",
    ],
}

# Celery: an embedded filesystem broker under var/ unless CELERY_BROKER_URL is set.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery" / "queue"
    _processed_dir = VAR_DIR / "celery" / "processed"
    _control_dir = VAR_DIR / "celery" / "control"
    for _folder in (_queue_dir, _processed_dir, _control_dir):
        _folder.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_processed_dir),
        "control_folder": str(_control_dir),
        "store_processed": False,
    }
# Publishing gives up quickly when the broker is down: the work is a database row already,
# and a beat task re-drives it, so a webhook never waits long for the broker.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_ACKS_LATE = True
# Workers close database connections by Django's rules (config/celery.py), not Celery's.
CELERY_DB_REUSE_MAX = 2**31
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Each pool process holds up to 4 messages, so it goes on to the next short task (a webhook
# event) without a round trip to the broker; with acks_late a held message is delivered
# again if the worker dies before running it.
CELERY_WORKER_PREFETCH_MULTIPLIER = env_int("CELERY_WORKER_PREFETCH_MULTIPLIER", 4)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 300)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 360)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker that loses the broker keeps trying to reconnect for as long as it is down (Celery's
# default gives up after 100 tries, about 50 minutes, and exits). A task running at that
# moment finishes its database work; its message cannot be acknowledged, and an event it left
# unfinished is re-driven from its row.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# Schedules live in the database (django-celery-beat) so admins can edit them; the rows
# are created by a data migration. No beat_schedule here: beat would rewrite those rows.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# Production hardening (active when DEBUG is off).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Gated read speed: sessions are written to the database and read from the cache, falling
# back to the database on a miss or an outage (accounts/sessions.py); a cached copy lives at
# most SESSION_CACHE_SECONDS.
SESSION_ENGINE = "accounts.sessions"
SESSION_CACHE_SECONDS = env_int("SESSION_CACHE_SECONDS", 300)

# Every line goes through the console handler, which redacts gift links' tokens (core.logs);
# so does the development server's request log. Gunicorn's logs: Procfile's --logger-class.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"redact_secrets": {"()": "core.logs.RedactSecretsFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "line",
            "filters": ["redact_secrets"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Request loggers redact at the source too, for any handler added to them later.
        "django.request": {"filters": ["redact_secrets"]},
        "django.server": {
            "handlers": ["console"],
            "filters": ["redact_secrets"],
            "level": "INFO",
            "propagate": False,
        },
    },
}
