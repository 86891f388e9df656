"""Offline previews in production: nginx's internal location, X-Accel-Redirect by default,
an S3-compatible store from the environment. (deploy/smoke-test serves one through nginx.)"""

import re
import subprocess
import sys

from tests.deploy.test_production_settings import ROOT, production_env

PRINT_SETTINGS = (
    "from django.conf import settings; "
    "print(settings.PHS_PREVIEWS_ACCEL_PREFIX); "
    "print(settings.STORAGES['previews']['BACKEND']); "
    "print(settings.STORAGES['previews']['OPTIONS'].get('bucket_name')); "
    "print(settings.STORAGES['previews']['OPTIONS'].get('default_acl')); "
    "print(settings.STORAGES['previews']['OPTIONS'].get('location'))"
)


def settings_seen(env) -> list[str]:
    """The settings alone (no app loaded: django-storages is not installed here)."""
    done = subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_production_hands_previews_to_nginx_from_the_var_folder(tmp_path):
    prefix, backend, _bucket, _acl, location = settings_seen(production_env(tmp_path))
    assert prefix == "/_previews/"
    assert backend == "django.core.files.storage.FileSystemStorage"
    assert location == str(tmp_path / "previews")


def test_an_s3_bucket_from_the_environment_is_private(tmp_path):
    env = production_env(
        tmp_path, PHS_PREVIEWS_S3_BUCKET="phs-previews", PHS_PREVIEWS_S3_PREFIX="p"
    )
    _prefix, backend, bucket, acl, location = settings_seen(env)
    assert (backend, bucket, acl, location) == (
        "storages.backends.s3.S3Storage",
        "phs-previews",
        "private",
        "p",
    )


def test_nginx_serves_previews_only_as_an_internal_alias_of_the_var_folder():
    site = (ROOT / "deploy" / "nginx" / "phs-archive.conf").read_text()
    block = re.search(r"location /_previews/ \{(.*?)\n    \}", site, re.S)
    assert block, "no /_previews/ location in deploy/nginx/phs-archive.conf"
    directives = [line.strip() for line in block.group(1).splitlines()]
    assert "internal;" in directives
    assert "alias /srv/phs-archive/var/previews/;" in directives
    env = (ROOT / "deploy" / "env.example").read_text()
    assert "PHS_VAR_DIR=/srv/phs-archive/var" in env
