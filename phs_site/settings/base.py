"""Settings shared by every environment.

Safe by default: DEBUG is off and there is no usable SECRET_KEY here; ``dev`` and
``test`` switch on conveniences, ``production`` reads everything from the environment.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent.parent
#: Where runtime state (the SQLite database, collected static files) lives by default.
VAR_DIR = Path(os.environ.get("PHS_VAR_DIR", BASE_DIR / "var"))

DEBUG = False
SECRET_KEY = os.environ.get("SECRET_KEY", "")
ALLOWED_HOSTS: list[str] = []

INSTALLED_APPS = [
    # The interface first: its hooks register the catalog's admin, Curate and the
    # dashboard before the review and search apps add theirs.
    "phs_site.ui",
    "catalog",
    "workflow",
    "search",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    # The database task backend and its `db_worker` (see TASKS below).
    "django_tasks_db",
    # Sign-in throttling (AXES_* below); phs_site's admin page lifts its lockouts.
    "axes",
    "phs_site",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    # Outermost, so its one line per request sees the final status and the full duration.
    "phs_site.logs.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Inside the CSP middleware: allows Wagtail's inline widget initialisers by hash.
    "phs_site.csp.WidgetScriptHashMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as axes asks: turns a locked-out sign-in into the lockout page (phs_site.login).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "phs_site.urls"
WSGI_APPLICATION = "phs_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "phs_site" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                # {% csp_nonce_attr %} for any inline <script> our own templates need.
                "django.template.context_processors.csp",
            ],
        },
    },
]


def database_config(url: str | None) -> dict:
    """``DATABASE_URL`` selects PostgreSQL (or anything dj-database-url reads); unset, SQLite."""
    if url:
        config = dj_database_url.parse(url, conn_max_age=600, conn_health_checks=True)
        if config["ENGINE"] == "django.db.backends.postgresql":
            config.setdefault("OPTIONS", {}).update(postgresql_statement_options())
        return config
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": VAR_DIR / "phs.sqlite3",
        "OPTIONS": {
            # WAL lets the site read while an import writes; IMMEDIATE avoids
            # "database is locked" upgrades in write transactions.
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA busy_timeout=10000; PRAGMA cache_size=-65536;"
            ),
            "transaction_mode": "IMMEDIATE",
        },
    }


def postgresql_statement_options() -> dict:
    """Server-side parameters and prepared statements on PostgreSQL.

    The admin's queries are small but join-heavy (permissions, Wagtail's workflow):
    planning them costs more than running them (7 ms against 0.3 ms for the reviewer
    check on the 2-core reference machine). With parameters bound by the server, a query
    run five times on a connection is prepared and later planned once, which halved the
    Curate view's open-file time. A pooler in transaction mode (PgBouncer before 1.21)
    cannot keep prepared statements: set ``PHS_DB_PREPARED_STATEMENTS=off`` there.
    """
    if os.environ.get("PHS_DB_PREPARED_STATEMENTS", "on").lower() in ("off", "0", "false", "no"):
        return {}
    return {"server_side_binding": True, "prepare_threshold": 5}


DATABASES = {"default": database_config(os.environ.get("DATABASE_URL"))}
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # Wagtail's search index needs PostgreSQL's contrib app whenever it runs there.
    INSTALLED_APPS.append("django.contrib.postgres")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Asia/Kolkata"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    # Offline previews (catalog.previews; docs/previews.md), private: served only through
    # the previews view, never from a public URL. Content-addressed, so a file written
    # again under its name is the same preview: overwriting is safe.
    "previews": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": os.environ.get("PHS_PREVIEWS_DIR", str(VAR_DIR / "previews")),
            "base_url": None,
            "allow_overwrite": True,
        },
    },
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
#: When set (production: ``/_previews/``), the previews view answers with an
#: ``X-Accel-Redirect`` to this nginx ``internal`` location instead of sending the file.
PHS_PREVIEWS_ACCEL_PREFIX = os.environ.get("PHS_PREVIEWS_ACCEL_PREFIX", "")
MEDIA_URL = "/media/"

LOGIN_URL = "wagtailadmin_login"
LOGIN_REDIRECT_URL = "wagtailadmin_home"

# --- Sign-in throttling (django-axes; docs/operations.md "Sign-in lockouts") ------------
# After PHS_LOGIN_FAILURE_LIMIT wrong passwords for one user from one address, that pair
# may not sign in (not even with the right password) for PHS_LOGIN_COOLOFF_MINUTES, or
# until an operator runs `axes_reset`. Other users, and the same user elsewhere, are not
# affected. nginx limits the rate of sign-in attempts per address on top of this.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out pair
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("PHS_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("PHS_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Attempts during a lockout do not push its end further: the page's "until" holds.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True  # a successful sign-in forgets earlier mistakes
AXES_DISABLE_ACCESS_LOG = True  # no table of every successful sign-in
# The client behind nginx (phs_site.proxy), not nginx's own loopback address.
AXES_CLIENT_IP_CALLABLE = "phs_site.proxy.client_address"
#: Peers whose X-Real-IP / X-Forwarded-For are believed: the nginx on this machine
#: (gunicorn listens on loopback; its forwarded_allow_ips names the same two).
PHS_TRUSTED_PROXIES = ("127.0.0.1", "::1")
AXES_LOCKOUT_CALLABLE = "phs_site.login.lockout_response"
WAGTAILADMIN_USER_LOGIN_FORM = "phs_site.login.LoginForm"
# ---------------------------------------------------------------------------------------

WAGTAIL_SITE_NAME = "PHS Archive"
WAGTAILADMIN_BASE_URL = os.environ.get("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")
# The catalog search goes through the ORM (see phs_site.ui.viewsets); Wagtail's own
# index is only used for pages, images and documents.
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
# Saves are explicit in this archive: no revisions created behind a curator's back.
WAGTAIL_AUTOSAVE_INTERVAL = 0

# --- Background tasks and the pad.ma export (workflow.export; docs/export.md) ----------
# One TASKS setting serves both task frameworks: Django's ``django.tasks`` (our export
# task) and the ``django_tasks`` backport Wagtail 8 uses. Both name the backend below, and
# a backend built on ``django.tasks`` makes Wagtail's tasks ``django.tasks`` tasks too.
# PHS_TASKS_BACKEND=database queues tasks in the database for ``manage.py db_worker``
# (production); unset, tasks run inline once the transaction commits (dev, tests).
TASK_BACKENDS = {
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
    "database": "django_tasks_db.DatabaseBackend",
}
_tasks_backend = os.environ.get("PHS_TASKS_BACKEND", "immediate")
if _tasks_backend not in TASK_BACKENDS:
    raise ValueError(f"PHS_TASKS_BACKEND must be one of {', '.join(TASK_BACKENDS)}")
TASKS = {"default": {"BACKEND": TASK_BACKENDS[_tasks_backend]}}
# pad.ma (pan.do/ra) API; without a username the export task leaves requests pending.
PADMA_URL = os.environ.get("PADMA_URL", "https://pad.ma/api/")
PADMA_USERNAME = os.environ.get("PADMA_USERNAME", "")
PADMA_PASSWORD = os.environ.get("PADMA_PASSWORD", "")
#: Exporters run in order, like EMAIL_BACKEND; the pan.do/ra one marks requests exported.
PADMA_EXPORT_BACKENDS = ["workflow.export.padma.PandoraExporter"]
#: Curator status -> pan.do/ra rightslevel (pad.ma: 0 Public, 1 Restricted, 2 Private).
PADMA_RIGHTS_LEVELS = {"upload": 0, "restricted": 1}
PADMA_EXPORT_CHUNK_SIZE = 100  # requests per transaction
PADMA_EXPORT_MAX_ATTEMPTS = 6  # then the request is "failed" until --retry-failed
PADMA_EXPORT_RETRY_SECONDS = 60  # first retry delay; doubles per attempt, at most 6 h
PADMA_TIMEOUT_SECONDS = 60
PADMA_MANIFEST_DIR = Path(os.environ.get("PADMA_MANIFEST_DIR", VAR_DIR / "padma-manifests"))
# ---------------------------------------------------------------------------------------
# Approval publishes through the review service (the task already checked the
# reviewer; reviewers get no direct "Publish" button). See docs/workflow.md.
WAGTAIL_FINISH_WORKFLOW_ACTION = "workflow.finish.finish_review"
# Workflow e-mails go out as one digest per reviewer per batch (workflow.notify).
WAGTAILADMIN_NOTIFICATION_USE_HTML = True
#: Bulk actions on more files than this run as a background task, not in the request.
PHS_BULK_INLINE_LIMIT = int(os.environ.get("PHS_BULK_INLINE_LIMIT", "20000"))

# Security headers for every environment (production adds HTTPS-only cookies and HSTS).
# SecurityMiddleware sends nosniff, Referrer-Policy and COOP; XFrameOptionsMiddleware
# sends X-Frame-Options; the CSP middleware sends the policy below.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# The admin loads only its own scripts, styles and images. Wagtail's templates and ours
# put colours in style="" attributes, so inline style *attributes* are allowed but
# <style> elements and inline <script> are not. Our own templates that need an inline
# script mark it with {% csp_nonce_attr %}; the nonce is sent only on pages that use it.
# tests/deploy/test_browser_csp.py opens the admin pages and fails on any violation.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "style-src-attr": [CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:", "blob:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
# Avatars come from gravatar.com by default: a third-party request from an internal
# archive (leaking who is logged in) that the img-src above blocks anyway.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
# The dashboard's upgrade notice fetches releases.wagtail.org: same reasoning, and
# upgrades here go through pyproject.toml anyway.
WAGTAIL_ENABLE_UPDATE_CHECK = False

# Structured logs: JSON lines on stderr, which systemd's journal keeps. ``phs.request``
# is the one line per request (phs_site.logs); ``workflow`` is for the pad.ma export.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "phs_site.logs.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "catalog": {"level": "INFO"},
        "workflow": {"level": "INFO"},
        "phs.request": {"level": "INFO"},
        "phs.health": {"level": "WARNING"},
        # Tracebacks of 500s; the request line itself comes from phs.request.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
    },
}
