"""``manage.py export_padma``: flags, output, and the errors an operator sees."""

import json
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from workflow.export.requests import request_exports
from workflow.models import ExportBatch, ExportRequest

from .conftest import clip

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(import_files, approve):
    files = approve(import_files([clip(f"c{i}.mp4") for i in range(4)]))
    request_exports(files)
    return files


def export(*args) -> str:
    out = StringIO()
    call_command("export_padma", *args, stdout=out)
    return out.getvalue()


def test_exports_and_summarises(padma, queued):
    output = export()
    assert "4 export requests pending, 0 failed." in output
    batch = ExportBatch.objects.get()
    assert (
        f"Batch {batch.pk}: 4 exported, 0 failed, 0 skipped; 4 file locations recorded." in output
    )
    assert set(ExportRequest.objects.values_list("state", flat=True)) == {"done"}


def test_verbose_lists_each_file(padma, queued):
    out = StringIO()
    call_command("export_padma", verbosity=2, stdout=out)
    # pad.ma item ids are handed out in the order the server sees the files.
    text = out.getvalue()
    for i in range(4):
        assert re.search(rf"Expansion:/2019/rehearsal/c{i}\.mp4 -> [A-Z]+\b", text), text


def test_dry_run_prints_the_plan_as_json(padma, queued):
    output = export("--dry-run")
    plan = json.loads(output[output.index("{") : output.rindex("}") + 1])
    assert plan["summary"]["new"] == 4
    assert plan["files"][0]["requests"][0]["action"] == "addMedia"
    assert "(nothing changed): 4 files planned" in output
    assert padma.count("addMedia") == 0 and ExportBatch.objects.get().dry_run


def test_limit(padma, queued):
    assert "2 exported" in export("--limit", "2")
    with pytest.raises(CommandError, match="--limit must be a positive number"):
        export("--limit", "0")


def test_retry_failed(padma, queued, settings):
    settings.PADMA_EXPORT_MAX_ATTEMPTS = 1
    padma.fail("edit", text="Item locked")
    output = export()
    assert "3 exported, 1 failed" in output and "Item locked" in output
    assert ExportRequest.objects.filter(state="failed").count() == 1
    assert "0 exported" in export()
    assert "1 exported" in export("--retry-failed")


def test_backend_option(padma, queued, tmp_path, settings):
    output = export("--backend", "workflow.export.manifest.ManifestExporter")
    assert "Wrote" in output and (settings.PADMA_MANIFEST_DIR / "Expansion.json").exists()
    with pytest.raises(CommandError, match=r"unknown export backend 'no\.such\.Backend'"):
        export("--backend", "no.such.Backend")
    with pytest.raises(CommandError, match="leave out --backend"):
        export("--dry-run", "--backend", "workflow.export.manifest.ManifestExporter")


def test_wrong_credentials_name_the_problem(padma, queued, settings):
    settings.PADMA_PASSWORD = "nope"
    with pytest.raises(CommandError) as raised:
        export()
    message = str(raised.value)
    assert "refused the sign-in for user 'phs-exporter'" in message
    assert "check PADMA_USERNAME and PADMA_PASSWORD" in message and "nope" not in message


def test_pad_ma_stopping_answering_is_a_command_error_after_the_summary(padma, queued):
    padma.fail("edit", mode="drop", when=lambda d: d["id"] == "B")
    with pytest.raises(CommandError, match=r"Export stopped: pad\.ma did not answer edit"):
        export()
    assert ExportRequest.objects.filter(state="pending").count() == 3
