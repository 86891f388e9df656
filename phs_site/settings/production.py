"""Production: every secret and host name comes from the environment.

Start-up stops with one message naming every missing required variable. The full list,
with examples, is in docs/operations.md and deploy/env.example.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import INSTALLED_APPS, LOGGING, database_config

REQUIRED_ENV = ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL")
_missing = [name for name in REQUIRED_ENV if not os.environ.get(name, "").strip()]
if _missing:
    raise ImproperlyConfigured(
        "Missing required environment variables: "
        + ", ".join(_missing)
        + " (see deploy/env.example and docs/operations.md)"
    )


def _env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


#: The placeholder in deploy/env.example (systemd keeps a comment after it in the value).
PLACEHOLDER_SECRET_KEY = "change-me"  # noqa: S105 (what to refuse, not a key)
SECRET_KEY_MIN_LENGTH = 50


def _refuse_weak_secret_key(key: str) -> None:
    """Sessions, password-reset links and CSRF tokens are signed with this key: a known
    or short one lets anyone forge them. Django's check only warns (security.W009)."""
    how = 'generate one with: python3 -c "import secrets; print(secrets.token_urlsafe(50))"'
    if PLACEHOLDER_SECRET_KEY in key:
        problem = "is still the placeholder from deploy/env.example"
    elif len(key) < SECRET_KEY_MIN_LENGTH:
        problem = f"is {len(key)} characters long; it needs {SECRET_KEY_MIN_LENGTH} or more"
    elif len(set(key)) < 5 or key.startswith("django-insecure-"):
        problem = "is not random (Django's own check, security.W009, would warn about it)"
    else:
        return
    raise ImproperlyConfigured(f"SECRET_KEY {problem}: {how}, and put it in the environment")


DEBUG = False
SECRET_KEY = os.environ["SECRET_KEY"]
_refuse_weak_secret_key(SECRET_KEY)
ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS names no host (a comma-separated list)")
CSRF_TRUSTED_ORIGINS = _env_list("CSRF_TRUSTED_ORIGINS")
DATABASES = {"default": database_config(os.environ["DATABASE_URL"])}
# Wagtail's search index uses PostgreSQL's full-text fields, which Django's system
# checks (run by migrate) refuse without this app.
_on_postgresql = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
if _on_postgresql and "django.contrib.postgres" not in INSTALLED_APPS:
    INSTALLED_APPS = [*INSTALLED_APPS, "django.contrib.postgres"]
PHS_DEMO_LOGINS = False

#: pad.ma (pan.do/ra) API credentials for the export; optional until the export runs.
PADMA_URL = os.environ.get("PADMA_URL", "https://pad.ma/api/")
PADMA_USERNAME = os.environ.get("PADMA_USERNAME", "")
PADMA_PASSWORD = os.environ.get("PADMA_PASSWORD", "")

# E-mail: review notifications, reviewers' digests, password resets. SMTP when EMAIL_HOST
# is set (TLS by default on 587, SSL on 465); without it nothing is sent, on purpose:
# a missing relay must not make every approval fail.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "").strip()
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_SSL = _env_flag("EMAIL_USE_SSL", default=EMAIL_PORT == 465)
    EMAIL_USE_TLS = _env_flag("EMAIL_USE_TLS", default=EMAIL_PORT == 587)
    EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "20"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get(
    "DEFAULT_FROM_EMAIL", f"PHS Archive <noreply@{ALLOWED_HOSTS[0].lstrip('.')}>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
WAGTAILADMIN_NOTIFICATION_FROM_EMAIL = DEFAULT_FROM_EMAIL

# HTTPS: nginx terminates TLS and sets X-Forwarded-Proto (overwriting any the client sent).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = _env_flag("SECURE_SSL_REDIRECT", default=True)
# Monitoring may probe gunicorn directly over loopback HTTP, without nginx.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_flag("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = _env_flag("SECURE_HSTS_PRELOAD", default=True)

# Collected by `collectstatic` into STATIC_ROOT (from the environment, see base) and
# served by nginx with long cache headers; whitenoise stays as the fallback.
WAGTAILADMIN_BASE_URL = os.environ.get(
    "WAGTAILADMIN_BASE_URL", "https://" + ALLOWED_HOSTS[0].lstrip(".")
)

# Offline previews (docs/previews.md): Django checks login and permission, nginx sends the
# file from its `internal` location /_previews/ (deploy/nginx/phs-archive.conf), an alias
# of PHS_VAR_DIR/previews. Set PHS_PREVIEWS_ACCEL_PREFIX= (empty) to let Django send them.
PHS_PREVIEWS_ACCEL_PREFIX = os.environ.get("PHS_PREVIEWS_ACCEL_PREFIX", "/_previews/")
# Or an S3-compatible store through django-storages (pip install "django-storages[s3]"):
# private objects, handed out as signed URLs that last five minutes.
if os.environ.get("PHS_PREVIEWS_S3_BUCKET", "").strip():
    STORAGES = {
        **STORAGES,  # noqa: F405
        "previews": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": os.environ["PHS_PREVIEWS_S3_BUCKET"].strip(),
                "endpoint_url": os.environ.get("PHS_PREVIEWS_S3_ENDPOINT_URL") or None,
                "region_name": os.environ.get("PHS_PREVIEWS_S3_REGION") or None,
                "access_key": os.environ.get("PHS_PREVIEWS_S3_ACCESS_KEY_ID") or None,
                "secret_key": os.environ.get("PHS_PREVIEWS_S3_SECRET_ACCESS_KEY") or None,
                "location": os.environ.get("PHS_PREVIEWS_S3_PREFIX", "previews"),
                "default_acl": "private",
                "querystring_auth": True,
                "querystring_expire": 300,
                "file_overwrite": True,
            },
        },
    }

# JSON lines in production: journald keeps them, `jq` reads them.
LOGGING["handlers"]["console"]["formatter"] = "json"
