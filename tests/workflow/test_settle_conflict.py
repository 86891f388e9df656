"""A reviewer settles a duplicate group's conflicting decisions in one step; the
dashboard's conflict count leads to the conflicting groups."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from catalog.models import DuplicateGroup, FileEntry, ReviewState, SelectionReason, Status
from catalog.services.duplicates import update_duplicates
from workflow.models import ExportRequest
from workflow.services import bulk
from workflow.services.duplicates import SettleError, settle_conflict

from .conftest import clip, make_group

pytestmark = pytest.mark.django_db

SAME = "00000000deadbeef"


@pytest.fixture
def conflicting(import_files, approve, decide):
    """The issue's group: its primary decided *discard*, both spares approved *upload*."""
    one, two, three = import_files(
        [
            clip(f"{name}.mp4", path, oshash=SAME)
            for name, path in (("one", "a"), ("two", "b"), ("three", "c"))
        ]
    )
    group = make_group([one, two, three], primary=one)
    approve([two, three])
    decide([one], status=Status.DISCARD)
    group.refresh_from_db()
    assert group.has_conflict and group.primary_id == one.pk
    assert not ExportRequest.objects.exists()  # spare copies and a conflict: held back
    return group


def file(name) -> FileEntry:
    return FileEntry.objects.get(filename=name)


def test_keeping_a_spares_decision_makes_it_primary_and_releases_its_export(conflicting, reviewer):
    settled = settle_conflict(group=conflicting, keep=file("two.mp4"), user=reviewer)

    group = DuplicateGroup.objects.get()
    assert not group.has_conflict and group.primary_id == file("two.mp4").pk
    assert group.selection_reason == SelectionReason.MANUAL and group.selected_by == reviewer
    assert file("one.mp4").status == Status.UPLOAD  # the old primary takes the decision
    assert file("one.mp4").review_state == ReviewState.DECIDED  # a spare: no review needed
    assert file("three.mp4").status == Status.UPLOAD
    # The held-back primary goes to the export, through the effects path.
    assert list(ExportRequest.objects.values_list("file__filename", "state")) == [
        ("two.mp4", "pending")
    ]
    assert str(settled) == (
        f"{file('two.mp4').location} is now the primary copy; 1 other copy now Upload."
    )
    assert not settled.still_conflicting


def test_keeping_the_primarys_decision_gives_it_to_the_spares(conflicting, reviewer):
    settled = settle_conflict(group=conflicting, keep=file("one.mp4"), user=reviewer)
    assert not settled.made_primary and settled.applied.changed == 2
    assert set(FileEntry.objects.values_list("status", flat=True)) == {Status.DISCARD}
    assert not DuplicateGroup.objects.get().has_conflict
    assert not ExportRequest.objects.exists()  # nothing of it is exported
    assert str(settled) == "2 other copies now Discard."


def test_a_copy_in_review_is_skipped_and_the_group_stays_flagged(
    conflicting, reviewer, curator, decide
):
    decide([file("one.mp4")], status=Status.RESTRICTED)
    assert bulk.submit(FileEntry.objects.filter(filename="one.mp4"), user=curator).changed == 1
    settled = settle_conflict(group=conflicting, keep=file("two.mp4"), user=reviewer)
    assert settled.still_conflicting and DuplicateGroup.objects.get().has_conflict
    assert "1 skipped (in review" in str(settled)
    assert str(settled).endswith("The group still has conflicting decisions.")


def test_refusals(conflicting, import_files, curator, reviewer):
    with pytest.raises(PermissionDenied, match="Only reviewers"):
        settle_conflict(group=conflicting, keep=file("two.mp4"), user=curator)
    (other,) = import_files([clip("elsewhere.mp4", "z")], drive="Other")
    with pytest.raises(SettleError, match="not a copy in this duplicate group"):
        settle_conflict(group=conflicting, keep=other, user=reviewer)
    FileEntry.objects.filter(filename="three.mp4").update(status=Status.UNREVIEWED)
    with pytest.raises(SettleError, match="has no decision yet"):
        settle_conflict(group=conflicting, keep=file("three.mp4"), user=reviewer)
    assert DuplicateGroup.objects.get().primary_id == file("one.mp4").pk  # nothing changed


# ------------------------------------------------------------------ the admin pages


def test_dashboard_links_the_conflict_count_to_the_filtered_listing(
    client, conflicting, import_files, reviewer
):
    same = "00000000feedface"
    import_files([clip(n, p, oshash=same) for n, p in (("x.mp4", "x"), ("y.mp4", "y"))], "Agree")
    update_duplicates(only_hashes=[same])  # an automatic choice
    client.force_login(reviewer)
    listing = reverse("wagtailsnippets_catalog_duplicategroup:list")
    dashboard = client.get(reverse("wagtailadmin_home")).content.decode()
    assert f'href="{listing}?conflict=yes"' in dashboard
    assert "1 with conflicting decisions" in dashboard

    page = client.get(listing, {"conflict": "yes"}).content.decode()
    assert SAME in page and same not in page and "Conflicting" in page
    page = client.get(listing, {"conflict": "no"}).content.decode()
    assert same in page and SAME not in page
    page = client.get(listing).content.decode()
    assert same in page and SAME in page
    assert "Automatic: same size and drive, first by folder path" in page  # x/ before y/


def test_group_view_settles_in_one_post(client, conflicting, reviewer, curator):
    inspect = reverse("wagtailsnippets_catalog_duplicategroup:inspect", args=[conflicting.pk])
    settle = reverse(
        "wagtailsnippets_catalog_duplicategroup:settle",
        args=[conflicting.pk, file("two.mp4").pk],
    )
    client.force_login(curator)
    page = client.get(inspect).content.decode()
    assert "Conflicting decisions." in page and settle not in page  # curators only see it
    refused = client.post(settle)  # Wagtail answers PermissionDenied with its dashboard
    assert (refused.status_code, refused["Location"]) == (302, reverse("wagtailadmin_home"))
    assert DuplicateGroup.objects.get().has_conflict

    client.force_login(reviewer)
    page = client.get(inspect).content.decode()
    assert "Why this primary:" in page and "Chosen by" in page
    assert settle in page and "Make primary, apply “Upload” to all copies" in page
    assert "Apply “Discard” to all copies" in page
    response = client.post(settle, follow=True)
    assert response.redirect_chain[-1][0] == inspect
    page = response.content.decode()
    assert "is now the primary copy; 1 other copy now Upload." in page
    assert "Conflicting decisions." not in page
    assert not DuplicateGroup.objects.get().has_conflict
    assert client.get(settle).status_code == 405  # a POST only


def test_settling_needs_a_sign_in(client, conflicting):
    settle = reverse(
        "wagtailsnippets_catalog_duplicategroup:settle",
        args=[conflicting.pk, file("two.mp4").pk],
    )
    response = client.post(settle)
    assert response.status_code == 302 and "login" in response["Location"]
    assert DuplicateGroup.objects.get().has_conflict
