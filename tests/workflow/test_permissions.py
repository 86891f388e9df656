"""One rule for who may do what: ``permissions_for`` (one file) and ``may_in_bulk`` (a
queryset) agree on every situation, and the services refuse what they say no to."""

import pytest
from django.core.exceptions import PermissionDenied

from catalog.models import FileEntry, Status
from tests.workflow.conftest import clip
from workflow.services import bulk, review
from workflow.services.permissions import ACTIONS, may_in_bulk, permissions_for

pytestmark = pytest.mark.django_db

SITUATIONS = ("unreviewed", "decided", "in review", "in review, locked", "rejected", "approved")


@pytest.fixture
def people(curator, reviewer, operator, admin_user, make_user):
    return {
        "submitter": curator,
        "other curator": make_user("other", "Curators"),
        "reviewer": reviewer,
        "operator": operator,
        "admin": admin_user,
        "nobody": make_user("nobody"),
    }


@pytest.fixture
def situations(import_files, people):
    files = dict(
        zip(SITUATIONS, import_files([clip(f"{name}.mp4") for name in SITUATIONS]), strict=True)
    )
    curator, reviewer = people["submitter"], people["reviewer"]
    for name in SITUATIONS[1:]:
        review.save_decision(file=files[name], user=curator, changes={"status": Status.UPLOAD})
    for name in ("in review", "in review, locked", "rejected", "approved"):
        review.submit_for_review(file=files[name], user=curator)
    review.reject(file=files["rejected"], user=reviewer, comment="Wrong date")
    review.approve(file=files["approved"], user=reviewer)
    FileEntry.objects.filter(pk=files["in review, locked"].pk).update(
        locked=True, locked_by=people["other curator"]
    )
    return {name: FileEntry.objects.get(pk=file.pk) for name, file in files.items()}


def test_one_file_and_a_queryset_get_the_same_answer(situations, people):
    for who, user in people.items():
        for situation, file in situations.items():
            single = permissions_for(file, user)
            for action in ACTIONS:
                in_bulk = may_in_bulk(FileEntry.objects.filter(pk=file.pk), user, action).exists()
                assert getattr(single, action) == in_bulk, (who, situation, action)


@pytest.mark.parametrize(
    ("who", "situation", "expected"),
    [
        ("submitter", "decided", {"edit", "submit"}),
        ("submitter", "in review", {"edit", "cancel"}),
        ("other curator", "in review", {"edit"}),
        ("reviewer", "in review", {"edit", "approve", "reject"}),
        ("reviewer", "in review, locked", set()),
        ("operator", "in review", {"edit"}),
        ("admin", "in review", {"edit", "approve", "reject", "cancel"}),
        ("nobody", "decided", set()),
        ("submitter", "rejected", {"edit"}),
    ],
)
def test_what_each_person_may_do(situations, people, who, situation, expected):
    allowed = permissions_for(situations[situation], people[who]).as_dict()
    assert {action for action, yes in allowed.items() if yes} == expected


def test_the_services_refuse_what_the_rule_refuses(situations, people):
    file = situations["in review"]
    with pytest.raises(PermissionDenied, match="Only the person who submitted"):
        review.cancel_review(file=file, user=people["other curator"])
    with pytest.raises(PermissionDenied, match="permission to change files"):
        review.save_decision(file=situations["decided"], user=people["nobody"], changes={})
    with pytest.raises(PermissionDenied, match="permission to change files"):
        bulk.set_status(FileEntry.objects.all(), status=Status.DISCARD, user=people["nobody"])
    with pytest.raises(PermissionDenied, match="Only reviewers"):
        bulk.approve(FileEntry.objects.all(), user=people["other curator"])
    with pytest.raises(review.FileLocked):
        review.save_decision(
            file=situations["in review, locked"], user=people["reviewer"], changes={}
        )
    result = bulk.approve(FileEntry.objects.all(), user=people["reviewer"])
    assert result.changed == 1  # "in review"; the locked one is skipped with its reason
    assert result.skipped["locked by someone else"] == 1
