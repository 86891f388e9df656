"""The exporters that only report: the dry run (plan with the exact write requests) and
the manifest for pandora_client. Neither writes to pad.ma nor changes a request."""

import json

import pytest

from workflow.export.runner import run_export
from workflow.models import ExportBatch, ExportRequest

from .conftest import PADMA_USER, clip

pytestmark = pytest.mark.django_db

MANIFEST = "workflow.export.manifest.ManifestExporter"


@pytest.fixture
def queued(import_files, approve):
    files = approve(import_files([clip("new.mp4"), clip("known.mp4"), clip("r.mp4", "x")]))
    return files


def test_dry_run_plans_with_the_write_requests_and_writes_nothing(padma, queued):
    known = padma.add_known_file(queued[0].oshash)

    result = run_export(dry_run=True)

    assert padma.count("findMedia") == 1
    assert padma.count("addMedia") == padma.count("edit") == padma.count("update") == 0
    assert set(ExportRequest.objects.values_list("state", flat=True)) == {"pending"}
    report = ExportBatch.objects.get().report
    assert report == result.report and ExportBatch.objects.get().dry_run
    assert report["summary"] == {"files": 3, "new": 2, "known": 1, "skipped": 0}
    plans = {entry["location"]: entry for entry in report["files"]}
    known_plan = plans[queued[0].location]
    assert known_plan["plan"] == "update" and known_plan["padma_id"] == known
    assert [call["action"] for call in known_plan["requests"]] == ["edit"]
    assert known_plan["requests"][0]["data"]["id"] == known
    new_plan = plans[queued[2].location]
    assert [call["action"] for call in new_plan["requests"]] == ["addMedia", "edit"]
    assert new_plan["requests"][0]["data"] == {
        "id": queued[2].oshash,
        "filename": "r.mp4",
        "info": {"size": queued[2].size, "mimetype": "video/mp4"},
    }
    assert new_plan["rightslevel"] == 0
    (update,) = report["volumes"]
    assert update["action"] == "update" and update["data"]["volume"] == "Expansion"
    assert len(update["data"]["files"]) == 3
    json.dumps(report)  # the plan is plain JSON


def test_dry_run_reports_skipped_files_with_the_reason(padma, queued):
    from catalog.models import FileEntry

    FileEntry.objects.filter(pk=queued[1].pk).update(status="discard")
    report = run_export(dry_run=True).report
    skipped = [f for f in report["files"] if f["plan"] == "skip"]
    assert len(skipped) == 1 and "changed to 'discard'" in skipped[0]["reason"]
    assert skipped[0]["requests"] == []


def test_manifest_lists_per_drive_what_pandora_client_uploads(padma, queued, settings, tmp_path):
    out = tmp_path / "manifests"
    settings.PADMA_MANIFEST_DIR = out

    run_export(backends=[MANIFEST])

    assert padma.requests == []  # never contacts pad.ma
    assert set(ExportRequest.objects.values_list("state", flat=True)) == {"pending"}
    manifest = json.loads((out / "Expansion.json").read_text())
    assert manifest["drive"] == "Expansion" and manifest["count"] == 3
    paths = [f["path"] for f in manifest["files"]]
    assert paths == sorted(paths) and "x/r.mp4" in paths
    oshashes = (out / "Expansion.oshashes.txt").read_text().split()
    assert sorted(oshashes) == sorted(f.oshash for f in queued)


def test_manifest_after_the_export_carries_the_pad_ma_items(padma, queued, settings, tmp_path):
    settings.PADMA_EXPORT_BACKENDS = ["workflow.export.padma.PandoraExporter", MANIFEST]
    result = run_export()
    assert result.exported == 3 and result.report["manifests"]
    manifest = json.loads((tmp_path / "manifests" / "Expansion.json").read_text())
    assert all(f["padma_id"] for f in manifest["files"])
    assert len(padma.volume(PADMA_USER, "Expansion")) == 3
    # Regenerated whole: a rerun lists every file once.
    run_export(backends=[MANIFEST])
    manifest = json.loads((tmp_path / "manifests" / "Expansion.json").read_text())
    assert manifest["count"] == 3


def test_manifest_file_names_are_safe_for_any_drive_name():
    from workflow.export.manifest import manifest_name

    assert manifest_name("PHS copy/ALL") == "PHS_copy_ALL"
    assert manifest_name("संग्रह 2") == "संग्रह_2"
    assert manifest_name("..") == "drive"
