"""Shared fixtures: hermetic ox cache, role users, manifests written to tmp files."""

import json
import os
import tempfile
from pathlib import Path

import pytest

# Importing ``ox`` creates ~/.ox unless oxCACHE points elsewhere; keep tests hermetic.
os.environ.setdefault("oxCACHE", tempfile.mkdtemp(prefix="phs-ox-cache-"))


@pytest.fixture(scope="session", autouse=True)
def _live_server_on_shared_sqlite():
    """See tests/support/live_server.py: one request at a time on in-memory SQLite."""
    from tests.support.live_server import serialize_requests_on_shared_sqlite

    serialize_requests_on_shared_sqlite()


def pytest_report_header(config):
    from django.conf import settings

    database = settings.DATABASES["default"]
    return f"database: {database['ENGINE'].rsplit('.', 1)[-1]} {database.get('HOST') or ''}"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (camera choices and the like)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def make_user(db):
    from django.contrib.auth.models import Group, User

    def make(username: str, *groups: str, superuser: bool = False) -> User:
        if superuser:
            return User.objects.create_superuser(username, f"{username}@example.org", "pw")
        user = User.objects.create_user(username, f"{username}@example.org", "pw")
        user.groups.add(*Group.objects.filter(name__in=groups))
        return user

    return make


@pytest.fixture
def curator(make_user):
    return make_user("curator", "Curators")


@pytest.fixture
def reviewer(make_user):
    return make_user("reviewer", "Reviewers")


@pytest.fixture
def operator(make_user):
    return make_user("operator", "Operators")


@pytest.fixture
def admin_user(make_user):
    return make_user("admin", superuser=True)


@pytest.fixture
def write_manifest(tmp_path):
    """Write entries (or raw text) to a manifest file named like a drive's scan."""

    def write(entries, name: str = "Expansion.json") -> Path:
        path = tmp_path / name
        if isinstance(entries, (str, bytes)):
            path.write_bytes(entries.encode() if isinstance(entries, str) else entries)
        else:
            path.write_text(json.dumps(entries, ensure_ascii=False), encoding="utf-8")
        return path

    return write


def entry(filename: str, path: str = "", **fields) -> dict:
    """A manifest entry with plausible scanner fields; override any of them."""
    base = {
        "path": path,
        "filename": filename,
        "file_type": "image/jpeg",
        "oshash": f"{abs(hash((path, filename))) % 16**16:016x}",
        "size_exif": 1000 + len(filename),
        "date_exif": "2021:12:23 17:57:22",
        "camera": "DC-S1 (Panasonic)",
    }
    base.update(fields)
    return base
