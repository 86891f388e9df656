"""``manage.py export_padma``: flags, output, and the errors an operator sees."""

import json
import logging
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse

from workflow.models import ExportBatch, ExportRequest

from .conftest import clip
from .export_support import closed_port_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(import_files, approve):
    # Where the test commits, the approval's export task runs inline: with no pad.ma user
    # set it leaves the requests pending, for the command to export.
    with override_settings(PADMA_USERNAME=""):
        files = approve(import_files([clip(f"c{i}.mp4") for i in range(4)]))
    assert set(ExportRequest.objects.values_list("state", flat=True)) == {"pending"}
    return files


def export(*args) -> str:
    out = StringIO()
    call_command("export_padma", *args, stdout=out)
    return out.getvalue()


def export_failing(*args) -> tuple[str, CommandError]:
    """Run the command expecting a non-zero exit; its output and the error (one line)."""
    out = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("export_padma", *args, stdout=out)
    return out.getvalue(), raised.value


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
    output, _error = export_failing()
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


def test_failed_files_make_the_command_exit_non_zero(padma, queued):
    padma.fail("edit", times=2, code=500, text="server error")
    output, error = export_failing()
    assert "2 exported, 2 failed, 0 skipped" in output  # the summary is still printed
    assert error.returncode == 1
    assert str(error) == (
        "2 export requests failed; Admin → pad.ma export → Export requests says why, "
        "and when each is retried"
    )


def test_skipped_files_alone_exit_zero(padma, queued):
    queued[0].__class__.objects.filter(pk=queued[0].pk).update(status="discard")
    assert "3 exported, 0 failed, 1 skipped" in export()  # returned: exit status 0


#: Serialized rollback: the roles the migrations made (the approvals check them) come back
#: after an earlier transactional test's flush.
committing_db = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def committing(transactional_db):
    """As a real run: each write commits, so saving the batch runs Wagtail's reference-
    index task inline (it tracks the models of admin viewsets, registered once the URLs
    load — the command's system checks load them). Run inside the export error's
    handler, that task logged the error's traceback, twice, before the message.
    Tests using it are marked ``committing_db``."""
    reverse("wagtailadmin_home")


def one_line_without_tracebacks(error: CommandError, caplog) -> str:
    message = str(error)
    assert error.returncode == 1 and "\n" not in message
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []
    assert "Traceback" not in caplog.text
    return message


@committing_db
def test_wrong_credentials_are_one_line_without_the_password(
    committing, padma, queued, settings, caplog
):
    settings.PADMA_PASSWORD = "nope-not-it"
    with caplog.at_level(logging.DEBUG):
        _output, error = export_failing()
    message = one_line_without_tracebacks(error, caplog)
    assert message == (
        f"Export stopped: pad.ma at {padma.url} refused the sign-in for user 'phs-exporter' "
        "(password: Incorrect password); check PADMA_USERNAME and PADMA_PASSWORD"
    )
    assert "nope-not-it" not in caplog.text


@committing_db
def test_unreachable_pad_ma_is_one_line(committing, queued, settings, caplog):
    settings.PADMA_URL = url = closed_port_url()
    settings.PADMA_USERNAME, settings.PADMA_PASSWORD = "phs-exporter", "s3cret-pass"
    with caplog.at_level(logging.DEBUG):
        _output, error = export_failing()
    message = one_line_without_tracebacks(error, caplog)
    assert message == f"Export stopped: pad.ma at {url} is unreachable: connection refused"
    assert "s3cret-pass" not in caplog.text


@committing_db
def test_missing_settings_are_one_line(committing, queued, settings, caplog):
    settings.PADMA_USERNAME, settings.PADMA_PASSWORD = "", "set"
    with caplog.at_level(logging.DEBUG):
        _output, error = export_failing()
    assert one_line_without_tracebacks(error, caplog) == "Export stopped: PADMA_USERNAME is not set"


def test_pad_ma_stopping_answering_is_a_command_error_after_the_summary(padma, queued):
    padma.fail("edit", mode="drop", when=lambda d: d["id"] == "B")
    with pytest.raises(CommandError, match=r"Export stopped: pad\.ma did not answer edit"):
        export()
    assert ExportRequest.objects.filter(state="pending").count() == 3
