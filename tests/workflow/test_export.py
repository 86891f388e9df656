"""The pan.do/ra exporter, end to end: the real ``ox`` client against a loopback
pan.do/ra-protocol server, through the runner that the task and the command use."""

import logging
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import DuplicateGroup, FileEntry, ProjectGroup, Status
from workflow.export.base import ExportConfigError, ExportError
from workflow.export.padma import PandoraExporter
from workflow.export.requests import request_exports
from workflow.export.runner import backoff, run_export
from workflow.models import ExportBatch, ExportRequest

from .conftest import PADMA_PASSWORD, PADMA_USER, clip, make_group
from .export_support import closed_port_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def three(import_files, approve):
    files = import_files([clip(f"clip{i}.mp4", size_exif=1000 + i) for i in range(3)])
    files = approve(files, title="Rehearsal", description="Day one")
    assert set(states().values()) == {"pending"} and len(states()) == 3  # by the approval
    return files


def states():
    return dict(ExportRequest.objects.values_list("file_id", "state"))


def test_new_files_become_items_with_their_metadata_and_location(padma, three, approve):
    group = ProjectGroup.objects.create(name="Rehearsals 2019")
    # The approved revision is what counts; re-approve the first file with its project.
    approve(three[:1], project_group=group)

    result = run_export()

    assert (result.exported, result.failed, result.skipped) == (3, 0, 0)
    assert padma.count("api") == 1 and padma.count("signin") == 1
    assert padma.count("findMedia") == 1  # one lookup for the whole chunk
    assert padma.count("addMedia") == 3 and padma.count("edit") == 3
    first = FileEntry.objects.get(pk=three[0].pk)
    item = padma.item_for(first.oshash)
    assert item["title"] == "Rehearsal" and item["summary"] == "Day one"
    assert item["rightslevel"] == 0 and item["project"] == "Rehearsals 2019"
    assert item["date"] == "2021-12-23"
    assert item["modified_by"] == PADMA_USER
    assert first.padma_id == item["id"] and first.exported_at is not None
    request = ExportRequest.objects.get(file=first)
    assert request.state == "done" and request.padma_id == item["id"]
    assert request.located_at is not None and request.attempts == 1
    # One update for the drive with every exported file, paths relative to the drive.
    assert padma.count("update") == 1
    volume = padma.volume(PADMA_USER, "Expansion")
    assert {entry["path"] for entry in volume.values()} == {
        f"2019/rehearsal/clip{i}.mp4" for i in range(3)
    }
    assert ExportBatch.objects.get().exported == 3


def test_add_media_sends_the_oshash_filename_and_info(padma, three):
    run_export()
    # The runner sends in the order it reads the queue, which the test does not fix.
    added = {action["data"]["filename"]: action["data"] for action in padma.actions("addMedia")}
    assert set(added) == {"clip0.mp4", "clip1.mp4", "clip2.mp4"}
    assert added["clip0.mp4"]["id"] == three[0].oshash
    assert added["clip0.mp4"]["info"]["size"] == three[0].size


def test_a_file_pad_ma_already_knows_is_not_added_again(padma, three):
    known = padma.add_known_file(three[1].oshash, "elsewhere.mp4")

    run_export()

    added = {a["data"]["id"] for a in padma.actions("addMedia")}
    assert three[1].oshash not in added and len(added) == 2
    assert FileEntry.objects.get(pk=three[1].pk).padma_id == known
    assert padma.state.items[known]["title"] == "Rehearsal"


def test_restricted_maps_to_the_restricted_rights_level(padma, import_files, approve, settings):
    files = approve(import_files([clip("secret.mp4")]), status=Status.RESTRICTED)
    run_export()
    assert padma.item_for(files[0].oshash)["rightslevel"] == 1

    settings.PADMA_RIGHTS_LEVELS = {"upload": 0, "restricted": 2}
    approve(files, status=Status.RESTRICTED)  # approved again
    run_export()
    assert padma.item_for(files[0].oshash)["rightslevel"] == 2
    assert padma.count("addMedia") == 1  # the second run found it


def test_exported_metadata_is_the_approved_version_not_later_edits(padma, three, decide):
    decide(three[:1], title="Edited after approval")
    run_export()
    assert padma.item_for(three[0].oshash)["title"] == "Rehearsal"


def test_running_twice_creates_nothing_twice(padma, three, approve):
    run_export()
    second = run_export()
    assert (second.exported, second.failed) == (0, 0)
    approve(three)  # approved again: exported again, by findMedia
    third = run_export()
    assert third.exported == 3
    assert padma.count("addMedia") == 3 and padma.count("edit") == 6
    assert len(padma.state.items) == 3


def test_a_server_error_fails_that_file_with_the_message_and_retries_later(padma, three):
    padma.fail("edit", code=500, text="Database is busy", when=lambda d: d["id"] == "B")

    result = run_export()

    assert (result.exported, result.failed) == (2, 1)
    failed = ExportRequest.objects.get(state="pending")
    assert "Database is busy" in failed.last_error and failed.attempts == 1
    assert failed.next_attempt_at > timezone.now() + timedelta(seconds=50)
    assert result.report["failures"][0]["message"] == failed.last_error
    # Not due yet: a plain rerun leaves it; once due, it is exported.
    assert run_export().exported == 0
    ExportRequest.objects.filter(pk=failed.pk).update(next_attempt_at=timezone.now())
    assert run_export().exported == 1
    assert set(states().values()) == {"done"}
    assert padma.count("addMedia") == 3  # the failed file's item was reused


def test_pad_ma_going_away_mid_batch_stops_and_a_rerun_resumes(padma, import_files, approve):
    files = approve(import_files([clip(f"c{i:02}.mp4") for i in range(10)]))
    padma.fail("edit", mode="drop", when=lambda d: d["id"] == "D")  # the 4th file

    result = run_export()

    # Reset or closed, as the timing falls: in words either way, not urllib3's reprs.
    assert re.fullmatch(
        r"pad\.ma did not answer edit: the (connection was reset|server closed the "
        r"connection without answering); the remaining requests stay pending",
        result.error,
    )
    assert (result.exported, result.failed) == (3, 1)
    assert list(states().values()).count("pending") == 7  # nothing lost
    assert ExportBatch.objects.get().error == result.error
    resumed = run_export(retry_failed=True)
    assert resumed.exported == 7 and not resumed.error
    assert set(states().values()) == {"done"}
    added = [a["data"]["id"] for a in padma.actions("addMedia")]
    assert sorted(added) == sorted(f.oshash for f in files)  # nothing done twice
    assert len(padma.volume(PADMA_USER, "Expansion")) == 10


def test_an_html_error_page_stops_the_run_too(padma, three):
    padma.fail("addMedia", mode="html", when=lambda d: d["filename"] == "clip1.mp4")
    result = run_export()
    assert "something other than JSON" in result.error
    assert list(states().values()).count("pending") == 2


def test_a_crash_mid_chunk_leaves_its_requests_pending(padma, three, monkeypatch):
    original = PandoraExporter._export_one
    calls = []

    def crash_on_third(self, item, known):
        calls.append(item)
        if len(calls) == 3:
            raise RuntimeError("worker killed")
        return original(self, item, known)

    monkeypatch.setattr(PandoraExporter, "_export_one", crash_on_third)
    with pytest.raises(RuntimeError):
        run_export()
    assert set(states().values()) == {"pending"}  # the chunk rolled back
    assert FileEntry.objects.exclude(padma_id="").count() == 0

    monkeypatch.setattr(PandoraExporter, "_export_one", original)
    assert run_export().exported == 3
    assert padma.count("addMedia") == 3  # the two from the crashed run were found


def test_backoff_doubles_and_gives_up_after_max_attempts(padma, three, settings):
    settings.PADMA_EXPORT_MAX_ATTEMPTS = 3
    assert [backoff(n).total_seconds() for n in (1, 2, 3)] == [60, 120, 240]
    assert backoff(30) == timedelta(hours=6)
    padma.fail("edit", times=99, text="Item locked", when=lambda d: d["id"] == "A")
    for _attempt in range(3):
        ExportRequest.objects.filter(state="pending").update(next_attempt_at=None)
        run_export()
    request = ExportRequest.objects.get(file__padma_id="")
    assert request.state == "failed" and request.attempts == 3
    assert request.next_attempt_at is None and "Item locked" in request.last_error
    assert run_export().failed == 0  # given up: only --retry-failed tries again
    padma.failures.clear()
    assert run_export(retry_failed=True).exported == 1


def test_wrong_credentials_stop_before_anything_changes(padma, three, settings, caplog):
    settings.PADMA_PASSWORD = "wrong password"
    with caplog.at_level(logging.DEBUG), pytest.raises(ExportConfigError) as raised:
        run_export()
    message = str(raised.value)
    assert PADMA_USER in message and "Incorrect password" in message
    assert "PADMA_PASSWORD" in message and "wrong password" not in message
    assert set(states().values()) == {"pending"}
    assert padma.count("findMedia") == 0
    batch = ExportBatch.objects.get()
    assert batch.error == message and batch.finished_at is not None
    assert "wrong password" not in caplog.text and PADMA_PASSWORD not in caplog.text


def test_missing_credentials_are_named(padma, three, settings):
    settings.PADMA_USERNAME = ""
    with pytest.raises(ExportConfigError, match=r"^PADMA_USERNAME is not set$"):
        run_export()
    settings.PADMA_PASSWORD = ""
    with pytest.raises(ExportConfigError, match=r"^PADMA_USERNAME and PADMA_PASSWORD are not"):
        run_export()


def test_unreachable_pad_ma_is_one_sentence(three, settings):
    settings.PADMA_URL = url = closed_port_url()
    settings.PADMA_USERNAME, settings.PADMA_PASSWORD = "u", "p"
    with pytest.raises(ExportError) as raised:
        run_export()
    assert str(raised.value) == f"pad.ma at {url} is unreachable: connection refused"


def test_an_unknown_host_is_named_as_such(three, settings):
    settings.PADMA_URL = "http://padma.invalid/api/"  # .invalid never resolves (RFC 2606)
    settings.PADMA_USERNAME, settings.PADMA_PASSWORD = "u", "p"
    with pytest.raises(ExportError, match=r"is unreachable: its host name could not be resolved$"):
        run_export()


def test_one_log_line_per_action_and_never_the_password(padma, three, caplog):
    with caplog.at_level(logging.INFO, logger="workflow"):
        run_export()
    lines = [r.getMessage() for r in caplog.records if r.name == "workflow"]
    assert sum(line.startswith("padma addMedia") for line in lines) == 3
    assert sum(line.startswith("padma edit") for line in lines) == 3
    assert sum(line.startswith("padma update") for line in lines) == 1
    assert any(line.startswith("padma signin user=phs-exporter") for line in lines)
    assert PADMA_PASSWORD not in caplog.text


def test_the_volume_list_keeps_files_exported_earlier(padma, import_files, approve):
    files = import_files([clip("a.mp4"), clip("b.mp4")])
    approve(files[:1])
    run_export()
    approve(files[1:])
    run_export()
    # pan.do/ra replaces a volume's list: the second update still lists the first file.
    assert len(padma.volume(PADMA_USER, "Expansion")) == 2
    assert padma.count("update") == 2


def test_files_on_two_drives_give_one_update_per_drive(padma, import_files, approve):
    approve(import_files([clip("a.mp4")], drive="Expansion"))
    approve(import_files([clip("b.mp4", "x")], drive="PHS_copyALL"))
    assert run_export().located == 2
    assert padma.volume(PADMA_USER, "Expansion") and padma.volume(PADMA_USER, "PHS_copyALL")


def test_a_failed_location_update_is_retried_on_the_next_run(padma, three):
    padma.fail("update", text="Volume busy")
    result = run_export()
    assert result.exported == 3 and result.located == 0
    assert "Volume busy" in result.report["location_errors"][0]
    assert run_export().located == 3
    assert len(padma.volume(PADMA_USER, "Expansion")) == 3


def test_limit_handles_at_most_n(padma, import_files, approve):
    approve(import_files([clip(f"{i}.mp4") for i in range(5)]))
    assert run_export(limit=2).exported == 2
    assert list(states().values()).count("pending") == 3


def test_only_the_primary_copy_of_a_group_is_exported(padma, import_files, approve):
    same = "00000000deadbeef"
    files = import_files([clip("main.mp4", "a", oshash=same), clip("copy.mp4", "b", oshash=same)])
    files = approve(files)  # both queued: no group yet
    copy, main = files[1], files[0]
    make_group(files, primary=main)

    assert request_exports(files) == 0
    # The spare copy's request, made before the group existed, is skipped, not sent.
    result = run_export()

    assert (result.exported, result.skipped) == (1, 1)
    skipped = ExportRequest.objects.get(file=copy)
    assert skipped.state == "skipped" and "spare copy" in skipped.last_error
    assert [a["data"]["filename"] for a in padma.actions("addMedia")] == ["main.mp4"]


def test_a_conflicting_group_is_not_exported(padma, import_files, approve, decide):
    same = "00000000cafebabe"
    one, two = import_files([clip("one.mp4", "a", oshash=same), clip("two.mp4", "b", oshash=same)])
    make_group([one, two], primary=one)
    approve([one])
    decide([two], status=Status.RESTRICTED)  # queued before the copies disagreed

    assert DuplicateGroup.objects.get().has_conflict
    assert request_exports([one, two]) == 0
    result = run_export()
    assert result.skipped == 1 and padma.count("addMedia") == 0
    assert "conflicting decisions" in ExportRequest.objects.get().last_error


def test_a_decision_withdrawn_after_approval_is_skipped(padma, three, decide):
    decide(three[2:], status=Status.DISCARD)
    result = run_export()
    assert (result.exported, result.skipped) == (2, 1)
    assert "changed to 'discard'" in ExportRequest.objects.get(state="skipped").last_error


def test_queries_per_chunk_do_not_grow_with_the_files(padma, import_files, approve):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_for(count, drive):
        approve(import_files([clip(f"{i}.mp4", drive) for i in range(count)], drive))
        with CaptureQueriesContext(connection) as captured:
            assert run_export().exported == count
        return len(captured)

    assert queries_for(5, "Few") == queries_for(40, "Many")
