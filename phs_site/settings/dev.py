"""Local development: debug on, a throwaway key, the demo logins may be printed."""

from .base import *  # noqa: F403

DEBUG = True
SECRET_KEY = "dev-only-not-secret"  # noqa: S105
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
#: Lets ``setup_demo`` print the demo passwords; never set in production.
PHS_DEMO_LOGINS = True
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve app static files straight from their folders (no collectstatic needed).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
# Commands print their own summaries; keep service logs for warnings here.
LOGGING["loggers"]["catalog"]["level"] = "WARNING"  # noqa: F405
# Mail the site would send (review notifications, digests, password resets) is written
# to files instead: there is no mail server on a laptop, and each submission would
# otherwise log a connection error.
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = VAR_DIR / "mail"  # noqa: F405
