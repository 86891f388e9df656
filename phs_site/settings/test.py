"""Test runs: fast hashing, no manifest storage, the database from DATABASE_URL or SQLite."""

import atexit
import os
import shutil
import tempfile

from .base import *  # noqa: F403

SECRET_KEY = "test-only-not-secret"  # noqa: S105
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
PHS_DEMO_LOGINS = True
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    # Previews a test run stores go to a folder of the run's own, never the checkout's var/.
    "previews": {
        **STORAGES["previews"],  # noqa: F405
        "OPTIONS": {
            **STORAGES["previews"]["OPTIONS"],  # noqa: F405
            "location": (_previews := tempfile.mkdtemp(prefix="phs-test-previews-")),
        },
    },
}
atexit.register(shutil.rmtree, _previews, ignore_errors=True)
# Serve app static files straight from their folders (no collectstatic needed).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
# Commands print their own summaries; keep service logs for warnings here.
LOGGING["loggers"]["catalog"]["level"] = "WARNING"  # noqa: F405
# A test database of its own per run, so concurrent runs against one server never collide.
if DATABASES["default"]["ENGINE"].endswith("postgresql"):  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": f"test_phs_{os.getpid()}"}  # noqa: F405
