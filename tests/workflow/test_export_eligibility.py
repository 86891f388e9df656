"""May a file be exported: one rule (``workflow.export.eligibility``) that every path asks.

Files under 8 bytes hash to their size, so pad.ma would make one item of all files of a
size: they are never sent (no addMedia, edit or volume entry), and their requests say
why. The table test runs each path that decides — recording requests after an approval,
the runner's check before sending, the review queue's warning — over the same
situations, and asserts each path decides what the rule decides.
"""

from types import SimpleNamespace

import pytest
from django.test import RequestFactory

from catalog.models import FileEntry, ReviewState, Status
from phs_site.ui.dashboard.review import ReviewQueuePanel
from workflow.export.eligibility import (
    Blocker,
    ExportFacts,
    export_refusal,
    file_export_warning,
    oshash_is_ambiguous,
)
from workflow.export.items import approved_version, load_items
from workflow.export.requests import summarize_requests
from workflow.export.runner import run_export
from workflow.models import ExportRequest

from .conftest import PADMA_USER, clip, make_group

pytestmark = pytest.mark.django_db

EMPTY, FIVE = "0000000000000000", "0000000000000005"


def tiny(name, size, path="2019/notes"):
    return clip(name, path, size_exif=size, oshash=f"{size:016x}", file_type="text/plain")


def sent_ids(padma, action):
    return [a["data"].get("id") for a in padma.actions(action)]


def test_tiny_files_are_never_sent_and_their_requests_say_why(padma, import_files, approve):
    files = import_files(
        [
            tiny("empty-public.txt", 0),
            tiny("empty-secret.txt", 0, "private"),
            tiny("five.txt", 5),
            clip("real.mp4", size_exif=5_000_000),
        ]
    )
    by_name = {f.filename: f for f in files}
    approve([by_name["empty-public.txt"], by_name["five.txt"], by_name["real.mp4"]])
    approve([by_name["empty-secret.txt"]], status=Status.RESTRICTED)

    recorded = dict(ExportRequest.objects.values_list("file__filename", "state"))
    result = run_export()

    assert recorded == {  # by the approvals: the tiny files' requests, already skipped
        "real.mp4": "pending",
        "empty-public.txt": "skipped",
        "empty-secret.txt": "skipped",
        "five.txt": "skipped",
    }
    assert (result.exported, result.failed) == (1, 0)
    assert EMPTY not in sent_ids(padma, "addMedia") and FIVE not in sent_ids(padma, "addMedia")
    assert [a["data"]["filename"] for a in padma.actions("addMedia")] == ["real.mp4"]
    assert padma.count("edit") == 1 and padma.item_for(EMPTY) is None
    assert set(padma.volume(PADMA_USER, "Expansion")) == {by_name["real.mp4"].oshash}
    requests = {r.file.filename: r for r in ExportRequest.objects.select_related("file")}
    assert requests["real.mp4"].state == "done"
    for name, size in (("empty-public.txt", 0), ("empty-secret.txt", 0), ("five.txt", 5)):
        assert requests[name].state == "skipped", name
        assert requests[name].last_error == (
            "Not sent to pad.ma: files under 8 bytes have no unique oshash (this one is "
            f"{size} bytes), so pad.ma would merge it with every other file of that size"
        )
    # Approving again records nothing new: the reason is already on the request.
    tiny_files = [by_name[name] for name in ("empty-public.txt", "empty-secret.txt", "five.txt")]
    assert summarize_requests(tiny_files).refused == 0
    assert ExportRequest.objects.count() == 4


def test_a_tiny_file_queued_before_the_rule_is_skipped_by_the_runner(padma, import_files, approve):
    approve(import_files([tiny("a.txt", 0), tiny("b.txt", 0, "other")]))
    # As request_exports queued them before it knew: pending, with no reason.
    ExportRequest.objects.update(state="pending", last_error="")

    result = run_export()

    assert (result.exported, result.skipped) == (0, 2)
    assert padma.count("addMedia") == padma.count("edit") == padma.count("update") == 0
    for request in ExportRequest.objects.all():
        assert "files under 8 bytes have no unique oshash" in request.last_error
    # The dry run plans no write for them either.
    ExportRequest.objects.update(state="pending")
    plan = run_export(dry_run=True).report
    assert {entry["plan"] for entry in plan["files"]} == {"skip"}
    assert plan["volumes"] == []


def test_a_tiny_file_exported_before_the_rule_leaves_the_volume_list(padma, import_files, approve):
    files = approve(import_files([tiny("old.txt", 3), clip("real.mp4")]))
    old, real = files
    # Exported by an earlier version of the site: it holds the item every 3-byte file names.
    FileEntry.objects.filter(pk=old.pk).update(padma_id="A")

    run_export()

    assert set(padma.volume(PADMA_USER, "Expansion")) == {real.oshash}
    (update,) = padma.actions("update")
    assert [f["path"] for f in update["data"]["files"]] == ["2019/rehearsal/real.mp4"]


@pytest.mark.parametrize(
    ("size", "oshash", "ambiguous"),
    [
        (0, EMPTY, True),
        (1, "0000000000000001", True),
        (7, "0000000000000007", True),
        (8, "a1b2c3d4e5f60718", False),
        (None, FIVE, True),
        (None, "a1b2c3d4e5f60718", False),
        (None, None, False),
    ],
)
def test_oshash_is_ambiguous_under_eight_bytes(size, oshash, ambiguous):
    assert oshash_is_ambiguous(size, oshash) is ambiguous


# -- one rule, every path ---------------------------------------------------------------


def _decided_after_approval(status):
    """Approved (upload), then the curator saved another decision: the live version stays."""

    def change(files, act):
        act.decide(files[:1], status=status)

    return change


def _published_by_an_administrator(status):
    """Decided ``status``, which needs no review, and published from the file editor by an
    administrator: live, though no reviewer approved it."""

    def change(files, act):
        (file,) = act.decide(files, status=status)
        file.get_latest_revision().publish(user=act.admin)

    return change


def _not_sent_any_more(status):
    """Approved ``status``, then the operator took it out of ``PADMA_RIGHTS_LEVELS``."""

    def change(files, act):
        act.settings.PADMA_RIGHTS_LEVELS = {
            name: level
            for name, level in act.settings.PADMA_RIGHTS_LEVELS.items()
            if name != status
        }

    return change


def _grouped(files, act):
    make_group(files, primary=files[0])


def _grouped_then_disagreeing(copy):
    """Grouped, then the curator decides ``files[copy]`` restricted: the copies disagree."""

    def change(files, act):
        make_group(files, primary=files[0])
        act.decide([files[copy]], status=Status.RESTRICTED)

    return change


#: name: (manifest entries, decision approved (None: decided upload, not approved),
#:        change afterwards, the file under test,
#:        refusal when an approval queues it, refusal when the runner sends it)
SITUATIONS = {
    "approved upload": ([clip("a.mp4")], Status.UPLOAD, None, 0, None, None),
    "approved restricted": ([clip("a.mp4")], Status.RESTRICTED, None, 0, None, None),
    "approved restricted, no longer sent": (
        [clip("a.mp4")],
        Status.RESTRICTED,
        _not_sent_any_more(Status.RESTRICTED),
        0,
        Blocker.DECISION_NOT_EXPORTED,
        Blocker.DECISION_NOT_EXPORTED,
    ),
    "keep offline, published by an administrator": (
        [clip("a.mp4")],
        None,
        _published_by_an_administrator(Status.KEEP_OFFLINE),
        0,
        Blocker.NOT_APPROVED,
        Blocker.DECISION_NOT_EXPORTED,
    ),
    "decided, never approved": (
        [clip("a.mp4")],
        None,
        None,
        0,
        Blocker.NOT_APPROVED,
        Blocker.NOT_APPROVED,
    ),
    "approved, then discarded": (
        [clip("a.mp4")],
        Status.UPLOAD,
        _decided_after_approval(Status.DISCARD),
        0,
        Blocker.NOT_APPROVED,
        Blocker.DECISION_CHANGED,
    ),
    "approved, then edited and waiting for re-approval": (
        [clip("a.mp4")],
        Status.UPLOAD,
        _decided_after_approval(Status.RESTRICTED),
        0,
        Blocker.NOT_APPROVED,
        None,  # the approved version is exported; the edit waits
    ),
    "primary copy": (
        [
            clip("a.mp4", "a", oshash="1111111111111111"),
            clip("b.mp4", "b", oshash="1111111111111111"),
        ],
        Status.UPLOAD,
        _grouped,
        0,
        None,
        None,
    ),
    "spare copy": (
        [
            clip("a.mp4", "a", oshash="1111111111111111"),
            clip("b.mp4", "b", oshash="1111111111111111"),
        ],
        Status.UPLOAD,
        _grouped,
        1,
        Blocker.SPARE_COPY,
        Blocker.SPARE_COPY,
    ),
    "primary of a conflicting group": (
        [
            clip("a.mp4", "a", oshash="1111111111111111"),
            clip("b.mp4", "b", oshash="1111111111111111"),
        ],
        Status.UPLOAD,
        _grouped_then_disagreeing(1),
        0,
        Blocker.CONFLICT,
        Blocker.CONFLICT,
    ),
    "spare copy of a conflicting group": (
        [
            clip("a.mp4", "a", oshash="1111111111111111"),
            clip("b.mp4", "b", oshash="1111111111111111"),
        ],
        Status.UPLOAD,
        _grouped_then_disagreeing(0),
        1,
        Blocker.CONFLICT,
        Blocker.CONFLICT,
    ),
    "no oshash": (
        [clip("a.mp4", oshash=None)],
        Status.UPLOAD,
        None,
        0,
        Blocker.NO_OSHASH,
        Blocker.NO_OSHASH,
    ),
    "0 bytes": (
        [tiny("a.txt", 0)],
        Status.UPLOAD,
        None,
        0,
        Blocker.AMBIGUOUS_OSHASH,
        Blocker.AMBIGUOUS_OSHASH,
    ),
    "7 bytes, restricted": (
        [tiny("a.txt", 7)],
        Status.RESTRICTED,
        None,
        0,
        Blocker.AMBIGUOUS_OSHASH,
        Blocker.AMBIGUOUS_OSHASH,
    ),
    "8 bytes": ([tiny("a.txt", 8)], Status.UPLOAD, None, 0, None, None),
}


def _blocker(refusal):
    return refusal.blocker if refusal else None


@pytest.mark.parametrize("name", SITUATIONS)
def test_every_path_decides_what_the_rule_decides(
    name, import_files, approve, decide, reviewer, admin_user, settings
):
    entries, decision, change, index, at_approval, at_export = SITUATIONS[name]
    files = import_files(entries)
    if decision is None:
        decide(files)
    else:
        approve(files, status=decision)
    if change:
        change(files, SimpleNamespace(decide=decide, admin=admin_user, settings=settings))
    file = FileEntry.objects.select_related("duplicate_group").get(pk=files[index].pk)

    # The rule, on the facts each path gathers.
    row = FileEntry.objects.filter(pk=file.pk).values(
        "status", "review_state", "live_revision_id", "oshash", "size", "duplicate_group_id"
    )[0]
    group = file.duplicate_group
    rule_at_approval = export_refusal(
        ExportFacts.at_approval(
            status=row["status"],
            review_state=row["review_state"],
            has_live_revision=row["live_revision_id"] is not None,
            oshash=row["oshash"],
            size=row["size"],
            group_id=row["duplicate_group_id"],
            group_primary_id=group.primary_id if group else None,
            group_has_conflict=group.has_conflict if group else None,
            file_id=file.pk,
        )
    )
    rule_at_export = export_refusal(ExportFacts.at_export(file, approved_version(file)))
    assert (_blocker(rule_at_approval), _blocker(rule_at_export)) == (at_approval, at_export)

    # Path 1: an approval records requests — asked again on the situation as it is now,
    # so what the fixture's approval queued before the change is cleared first.
    ExportRequest.objects.all().delete()
    summary = summarize_requests([file.pk])
    recorded = list(ExportRequest.objects.filter(file=file).values_list("state", "last_error"))
    if rule_at_approval is None:
        assert (summary.created, recorded) == (1, [("pending", "")])
    elif rule_at_approval.blocker.permanent:
        assert (summary.refused, recorded) == (1, [("skipped", rule_at_approval.message)])
    else:
        counted = {
            Blocker.CONFLICT: summary.conflicting,
            Blocker.SPARE_COPY: summary.spare_copies,
        }.get(rule_at_approval.blocker, summary.not_exportable)
        assert (counted, recorded) == (1, [])

    # Path 2: the runner, before it sends a queued request.
    ExportRequest.objects.filter(file=file).delete()
    queued = ExportRequest.objects.create(file=file, revision_id=file.live_revision_id)
    (item,) = load_items([queued.pk])
    assert item.skip_reason == (rule_at_export.message if rule_at_export else "")

    # Path 3: the review queue's warning, for what no approval can change.
    FileEntry.objects.filter(pk=file.pk).update(review_state=ReviewState.IN_REVIEW)
    request = RequestFactory().get("/admin/")
    request.user = reviewer
    panel = ReviewQueuePanel(FileEntry.objects.filter(pk=file.pk), "")
    (shown,) = panel.get_context_data({"request": request})["files"]
    permanent = rule_at_export if rule_at_export and rule_at_export.blocker.permanent else None
    assert shown.export_warning == (permanent.message if permanent else None)
    assert file_export_warning(file) == shown.export_warning
