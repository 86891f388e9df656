"""The exporter interface: what a backend receives, what it returns, how it fails.

A backend is named by a dotted path in ``PADMA_EXPORT_BACKENDS`` (like Django's email
backends). The runner (``workflow.export.runner``) hands it chunks of ``ExportItem`` —
the approved version of each file — and records the ``ItemResult`` it returns.
"""

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.utils.module_loading import import_string


class ExportError(Exception):
    """Stops a run; the message is for the operator and never holds a credential."""


class ExportConfigError(ExportError):
    """The export cannot start: missing settings, or pad.ma refused the sign-in."""


class PadmaUnavailable(ExportError):
    """pad.ma did not answer (network, timeout, an HTML error page): stop, retry later."""


class Outcome(StrEnum):
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass
class ExportItem:
    """One file's approved version, as the exporters see it."""

    request_id: int
    file_id: int
    revision_id: int | None
    drive_id: int
    drive: str
    path: str
    filename: str
    oshash: str | None
    size: int | None
    duration: float | None
    mime_type: str
    status: str
    title: str
    description: str
    date: dt.date | None
    project: str
    #: The pad.ma item id from an earlier export of this file, if any.
    padma_id: str = ""
    #: Set when the file must not be exported (the runner records it as skipped).
    skip_reason: str = ""

    @property
    def relative_path(self) -> str:
        return f"{self.path}/{self.filename}" if self.path else self.filename

    @property
    def location(self) -> str:
        return f"{self.drive}:/{self.relative_path}"

    @property
    def rightslevel(self) -> int | None:
        return settings.PADMA_RIGHTS_LEVELS.get(self.status)

    def add_media_data(self) -> dict:
        """``addMedia``: register the file by its oshash (pan.do/ra creates the item)."""
        info = {"size": self.size}
        if self.duration is not None:
            info["duration"] = self.duration
        if self.mime_type:
            info["mimetype"] = self.mime_type
        return {"id": self.oshash, "filename": self.filename, "info": info}

    def edit_data(self, item_id: str) -> dict:
        """``edit``: the item's metadata from the approved version."""
        data = {
            "id": item_id,
            "title": self.title or self.filename.rsplit(".", 1)[0],
            "summary": self.description,
            "rightslevel": self.rightslevel,
        }
        if self.date:
            data["date"] = self.date.isoformat()
        if self.project:
            data["project"] = self.project
        return data

    def volume_file(self) -> dict:
        """One entry of ``update``'s ``files``: where the file sits on its drive."""
        return {"oshash": self.oshash, "path": self.relative_path, "size": self.size}


@dataclass
class ItemResult:
    request_id: int
    outcome: Outcome
    padma_id: str = ""
    message: str = ""


class BaseExporter:
    """Subclass and set ``writes``; override ``open``, ``export``, ``finish``, ``close``."""

    #: True for backends whose results mark requests exported or failed; False for those
    #: that only report (dry run, manifest) and leave every request as it was.
    writes = False

    def __init__(self, *, progress=None, **options):
        #: Called with one line per action, for the command's progress output.
        self.progress = progress
        self.options = options

    @classmethod
    def dotted_path(cls) -> str:
        return f"{cls.__module__}.{cls.__qualname__}"

    def not_configured(self) -> str:
        """Why this backend cannot run with the current settings ("" when it can)."""
        return ""

    def open(self) -> None:
        """Connect and sign in; raise ``ExportConfigError`` / ``PadmaUnavailable``."""

    def export(self, items: list[ExportItem]) -> list[ItemResult]:
        """Export (or plan) ``items``; writers return one result per item."""
        raise NotImplementedError

    def finish(self) -> dict:
        """After the last chunk: final calls, and the report kept on the batch."""
        return {}

    def close(self) -> None:
        """Release connections; called even when the run failed."""

    def say(self, message: str) -> None:
        if self.progress:
            self.progress(message)


def load_backends(paths: list[str] | None = None, **kwargs) -> list[BaseExporter]:
    """Instantiate the backends named by ``paths`` or ``PADMA_EXPORT_BACKENDS``."""
    paths = paths or settings.PADMA_EXPORT_BACKENDS
    backends = []
    for path in paths:
        try:
            backend_class = import_string(path)
        except ImportError as error:
            raise ExportConfigError(f"unknown export backend {path!r}: {error}") from error
        if not (isinstance(backend_class, type) and issubclass(backend_class, BaseExporter)):
            raise ExportConfigError(f"{path!r} is not an export backend")
        backends.append(backend_class(**kwargs))
    return backends
