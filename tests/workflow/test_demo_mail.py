"""The demo's notifications land in the mail folder the README points to: the demo users
have addresses, and the dev settings write each message as a file."""

import pytest
from django.contrib.auth import get_user_model

from catalog.demo import ensure_demo_users
from catalog.models import FileEntry, Status
from catalog.services.imports import import_manifest
from tests.conftest import entry
from workflow.services import review

pytestmark = pytest.mark.django_db


def test_every_demo_user_has_an_example_org_address():
    ensure_demo_users()
    users = get_user_model().objects.filter(username__in=["admin", "curator", "reviewer"])
    assert {u.username: u.email for u in users} == {
        "admin": "admin@example.org",
        "curator": "curator@example.org",
        "reviewer": "reviewer@example.org",
    }


def test_an_address_someone_changed_is_kept():
    ensure_demo_users()
    get_user_model().objects.filter(username="curator").update(email="me@phs.example")
    ensure_demo_users()
    assert get_user_model().objects.get(username="curator").email == "me@phs.example"


def test_a_demo_rejection_lands_as_a_mail_file(
    settings, tmp_path, write_manifest, django_capture_on_commit_callbacks
):
    from phs_site.settings import dev

    assert dev.EMAIL_FILE_PATH == dev.VAR_DIR / "mail"  # what the README promises
    settings.EMAIL_BACKEND = dev.EMAIL_BACKEND  # the dev settings' files, in tmp_path here
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    ensure_demo_users()
    curator = get_user_model().objects.get(username="curator")
    reviewer = get_user_model().objects.get(username="reviewer")
    import_manifest(write_manifest([entry("dance.jpg", "2019")]), drive_name="PHS_Demo_A")
    file = FileEntry.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        file = review.save_decision(file=file, user=curator, changes={"status": Status.UPLOAD})
        review.submit_for_review(file=file, user=curator)
    with django_capture_on_commit_callbacks(execute=True):
        review.reject(file=file, user=reviewer, comment="Which rehearsal is this?")

    mails = [path.read_text() for path in (tmp_path / "mail").iterdir()]
    to_reviewer = [m for m in mails if "To: reviewer@example.org" in m]
    to_curator = [m for m in mails if "To: curator@example.org" in m]
    assert to_reviewer and "waiting for your review" in to_reviewer[0]
    assert len(to_curator) == 1
    assert "sent back to you" in to_curator[0]
    assert "Which rehearsal is this?" in to_curator[0]
    assert "PHS_Demo_A:/2019/dance.jpg" in to_curator[0]
