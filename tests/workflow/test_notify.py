"""E-mail around reviews: reviewers hear when work starts waiting, never once per file."""

import pytest
from django.core import mail

from catalog.models import FileEntry, Status
from tests.workflow.conftest import clip
from workflow.services import bulk, review

pytestmark = pytest.mark.django_db


@pytest.fixture
def files(import_files):
    return import_files([clip(f"clip{i}.mp4") for i in range(4)])


@pytest.fixture
def reviewers(make_user, reviewer):
    return [reviewer, make_user("second-reviewer", "Reviewers")]


def decided(files, curator):
    return [
        review.save_decision(file=file, user=curator, changes={"status": Status.UPLOAD})
        for file in files
    ]


def sent(outbox_before: int) -> list:
    return mail.outbox[outbox_before:]


def test_the_first_file_waiting_tells_each_reviewer_once(
    files, curator, reviewers, django_capture_on_commit_callbacks
):
    first, second, third, _ = decided(files, curator)
    with django_capture_on_commit_callbacks(execute=True):
        review.submit_for_review(file=first, user=curator)
    messages = sent(0)
    assert sorted(m.to[0] for m in messages) == sorted(r.email for r in reviewers)
    assert {m.subject for m in messages} == {"1 file is waiting for your review"}
    assert "curator submitted 1 file for pad.ma publication" in messages[0].body

    # More files while one waits: no more e-mail (the dashboard lists them).
    with django_capture_on_commit_callbacks(execute=True):
        review.submit_for_review(file=second, user=curator)
        review.submit_for_review(file=third, user=curator)
    assert sent(len(reviewers)) == []


def test_approving_sends_nothing_and_an_empty_queue_tells_again(
    files, curator, reviewers, django_capture_on_commit_callbacks
):
    first, second, *_ = decided(files, curator)
    with django_capture_on_commit_callbacks(execute=True):
        review.submit_for_review(file=first, user=curator)
    before = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        review.approve(file=first, user=reviewers[0])
    assert sent(before) == []  # Wagtail would e-mail the submitter for every approval

    with django_capture_on_commit_callbacks(execute=True):
        review.submit_for_review(file=second, user=curator)  # the queue was empty again
    assert len(sent(before)) == len(reviewers)


def test_a_rejection_reaches_the_curator_with_the_comment(
    files, curator, reviewers, django_capture_on_commit_callbacks
):
    (first, *_) = decided(files, curator)
    with django_capture_on_commit_callbacks(execute=True):
        review.submit_for_review(file=first, user=curator)
    before = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        review.reject(file=first, user=reviewers[0], comment="The date is wrong")
    messages = sent(before)
    assert [m.to for m in messages] == [[curator.email]]
    assert "The date is wrong" in messages[0].body


def test_the_submitter_is_not_told_about_their_own_submission(
    files, reviewers, django_capture_on_commit_callbacks
):
    submitter = reviewers[0]  # a reviewer who curates
    (first, *_) = decided(files, submitter)
    with django_capture_on_commit_callbacks(execute=True):
        review.submit_for_review(file=first, user=submitter)
    assert [m.to for m in sent(0)] == [[reviewers[1].email]]


def test_a_bulk_submission_sends_one_digest(
    files, curator, reviewers, django_capture_on_commit_callbacks
):
    decided(files, curator)
    with django_capture_on_commit_callbacks(execute=True):
        result = bulk.submit(FileEntry.objects.all(), user=curator)
    assert result.changed == 4
    assert sorted(m.to[0] for m in sent(0)) == sorted(r.email for r in reviewers)
    assert {m.subject for m in sent(0)} == {"4 files are waiting for your review"}
