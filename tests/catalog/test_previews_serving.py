"""Serving previews (GET) and taking browser-made ones (POST): who may, what is refused."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Preview
from catalog.previews.selectors import preview_map, preview_url
from catalog.previews.services import store_browser_preview
from catalog.services.imports import import_manifest
from tests.catalog.preview_media import jpeg_bytes, previews_storage  # noqa: F401
from tests.conftest import entry

OSHASH = "0123456789abcdef"
OTHER = "fedcba9876543210"
URL = f"/admin/previews/{OSHASH}/thumb/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogued(write_manifest, previews_storage):  # noqa: F811
    import_manifest(
        write_manifest(
            [entry("a.jpg", oshash=OSHASH), entry("copy-of-a.jpg", "copies", oshash=OSHASH)]
        ),
        drive_name="Expansion",
    )


@pytest.fixture
def stored(catalogued):
    return store_browser_preview(oshash=OSHASH, kind="thumb", data=jpeg_bytes()).preview


def test_anonymous_users_are_sent_to_the_login(client, stored):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_users_in_no_group_are_refused(client, stored, make_user):
    client.force_login(make_user("nobody"))
    assert client.get(URL).status_code == 403


@pytest.mark.parametrize("who", ["curator", "reviewer", "operator", "admin_user"])
def test_every_role_sees_a_preview_with_cache_headers(client, stored, request, who):
    client.force_login(request.getfixturevalue(who))
    response = client.get(URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content) == jpeg_bytes()
    assert response["Cache-Control"] == "private, max-age=86400, immutable"
    again = client.get(URL, HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_missing_kinds_and_bad_addresses_are_404(client, stored, curator):
    client.force_login(curator)
    assert client.get(f"/admin/previews/{OSHASH}/review/").status_code == 404
    assert client.get(f"/admin/previews/{OSHASH}/nonsense/").status_code == 404
    assert client.get("/admin/previews/not-a-hash/thumb/").status_code == 404


def test_production_hands_the_file_to_nginx(client, stored, curator, settings):
    settings.PHS_PREVIEWS_ACCEL_PREFIX = "/_previews/"
    client.force_login(curator)
    response = client.get(URL)
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/_previews/{stored.file.name}"
    assert response.content == b""
    assert response["Content-Type"] == "image/jpeg"


def test_preview_map_is_one_query_for_any_number_of_files(stored):
    Preview.objects.create(oshash=OTHER, kind="placeholder", reason="no preview for .zip files")
    with CaptureQueriesContext(connection) as queries:
        found = preview_map([OSHASH, OTHER, None, "1111111111111111"])
    assert len(queries) == 1
    assert set(found) == {OSHASH, OTHER}
    assert found[OSHASH]["thumb"]["url"].startswith(preview_url(OSHASH, "thumb") + "?v=")
    assert (found[OSHASH]["thumb"]["width"], found[OSHASH]["thumb"]["height"]) == (200, 100)
    assert found[OTHER] == {"placeholder": {"reason": "no preview for .zip files"}}


def upload(client, kind="thumb", oshash=OSHASH, **data):
    return client.post(f"/admin/previews/{oshash}/{kind}/", data)


def image_file(data: bytes, name="thumb.jpg"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


def test_a_curator_uploads_once_and_copies_share_it(client, catalogued, curator):
    client.force_login(curator)
    response = upload(client, image=image_file(jpeg_bytes(fmt="WEBP")))
    assert response.status_code == 201, response.content
    assert response.json()["stored"] is True
    again = upload(client, image=image_file(jpeg_bytes(colour="blue")))
    assert again.status_code == 200
    assert again.json()["stored"] is False
    preview = Preview.objects.get()
    assert (preview.source, preview.content_type) == ("browser", "image/webp")
    assert client.get(URL).status_code == 200


def test_uploads_need_the_change_permission_and_a_login(client, catalogued, make_user):
    assert upload(client, image=image_file(jpeg_bytes())).status_code == 401
    client.force_login(make_user("nobody"))
    assert upload(client, image=image_file(jpeg_bytes())).status_code == 403
    assert not Preview.objects.exists()


def test_uploads_need_a_csrf_token(catalogued, curator):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(curator)
    assert upload(client, image=image_file(jpeg_bytes())).status_code == 403
    assert not Preview.objects.exists()


@pytest.mark.parametrize(
    ("kind", "oshash", "data", "status", "field"),
    [
        ("thumb", OTHER, {"image": jpeg_bytes()}, 404, "oshash"),
        ("waveform", OSHASH, {"image": jpeg_bytes()}, 404, "kind"),
        ("thumb", OSHASH, {}, 400, "image"),
        ("thumb", OSHASH, {"image": b"not an image at all"}, 400, "image"),
        ("thumb", OSHASH, {"image": jpeg_bytes()[:300]}, 400, "image"),
        ("thumb", OSHASH, {"image": jpeg_bytes(fmt="GIF")}, 400, "image"),
        ("thumb", OSHASH, {"image": jpeg_bytes(size=(1000, 20))}, 400, "image"),
        ("review", OSHASH, {"image": b"\xff" * (2 * 1024 * 1024 + 1)}, 400, "image"),
        ("strip", OSHASH, {"image": jpeg_bytes()}, 400, "times"),
        ("strip", OSHASH, {"image": jpeg_bytes(), "times": "soon"}, 400, "times"),
    ],
)
def test_uploads_are_refused_naming_the_field(client, catalogued, curator, kind, oshash, data, status, field):  # fmt: skip
    client.force_login(curator)
    if "image" in data:
        data = {**data, "image": image_file(data["image"])}
    response = upload(client, kind, oshash, **data)
    assert response.status_code == status, response.content
    assert response.json()["field"] == field
    assert response.json()["error"].startswith(f"{field}: ")
    assert not Preview.objects.exists()


def test_a_strip_keeps_its_frame_times(client, catalogued, reviewer):
    client.force_login(reviewer)
    strip = jpeg_bytes(size=(960, 90))
    response = upload(client, "strip", image=image_file(strip), times=json.dumps([1, 3, 5, 7]))
    assert response.status_code == 201, response.content
    found = preview_map([OSHASH])[OSHASH]["strip"]
    assert (found["frames"], found["times"]) == (4, [1.0, 3.0, 5.0, 7.0])


def test_a_scan_made_preview_is_never_replaced(client, catalogued, curator):
    Preview.objects.create(oshash=OSHASH, kind="thumb", source="scan", bytes=10)
    client.force_login(curator)
    response = upload(client, image=image_file(jpeg_bytes()))
    assert response.status_code == 200
    assert response.json() | {"url": None} == {
        "stored": False,
        "message": "a scan-made thumb is stored",
        "source": "scan",
        "url": None,
    }
    assert Preview.objects.get().source == "scan"


def test_no_preview_for_files_under_8_bytes(client, write_manifest, curator):
    tiny = "0000000000000005"  # the oshash of any 5-byte file: its size
    import_manifest(write_manifest([entry("a.txt", oshash=tiny, size_exif=5)]), drive_name="D")
    client.force_login(curator)
    response = upload(client, oshash=tiny, image=image_file(jpeg_bytes()))
    assert (response.status_code, response.json()["field"]) == (404, "oshash")


def test_an_s3_style_store_answers_with_a_short_lived_signed_url(client, stored, curator):
    """Any storage that is not the file system (django-storages' S3Storage in production)."""
    from django.core.files.storage import Storage

    class SignedUrls(Storage):
        def url(self, name, expire=None):
            return f"https://bucket.example.org/{name}?expires={expire}"

    field = Preview._meta.get_field("file")
    original = field.storage
    field.storage = SignedUrls()
    try:
        client.force_login(curator)
        response = client.get(URL)
    finally:
        field.storage = original
    assert response.status_code == 302
    assert response["Location"] == f"https://bucket.example.org/{stored.file.name}?expires=300"
    assert response["Cache-Control"] == "private, max-age=240"
