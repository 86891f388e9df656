"""The manifest exporter: per drive, what a pandora_client operator uploads from it.

For every drive it is given, it writes into ``PADMA_MANIFEST_DIR`` (or ``directory=``):

- ``<drive>.json`` — the drive's exported files: oshash, path on the drive, size, pad.ma
  item, rights level, title; regenerated whole each time, so reruns never duplicate;
- ``<drive>.oshashes.txt`` — one oshash per line, for ``pandora_client upload``.

It never contacts pad.ma and never changes a request: run it alone
(``export_padma --backend workflow.export.manifest.ManifestExporter``) for the files
queued so far, or after ``PandoraExporter`` in ``PADMA_EXPORT_BACKENDS`` to keep the
lists in step with each export. See docs/export.md for the upload steps.
"""

import json
import logging
import re
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from .base import BaseExporter, ExportItem, ItemResult

logger = logging.getLogger("workflow")

#: Path separators, spaces and characters some file systems refuse; letters and marks stay.
_UNSAFE = re.compile(r'[\s/\\:*?"<>|\x00-\x1f]+')


def manifest_name(drive: str) -> str:
    """A file name for a drive name (drive names may hold spaces, slashes, Devanagari)."""
    return _UNSAFE.sub("_", drive).strip("._") or "drive"


class ManifestExporter(BaseExporter):
    writes = False

    def __init__(self, *, directory=None, **options):
        super().__init__(**options)
        self.directory = Path(directory or settings.PADMA_MANIFEST_DIR)
        self.written: list[str] = []

    def export(self, items: list[ExportItem]) -> list[ItemResult]:
        return []

    def locate(self, volume: str, files: list[dict]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = manifest_name(volume)
        json_path = self.directory / f"{name}.json"
        oshashes_path = self.directory / f"{name}.oshashes.txt"
        manifest = {
            "drive": volume,
            "generated_at": timezone.now().isoformat(),
            "count": len(files),
            "files": [
                {
                    "oshash": f["oshash"],
                    "path": f["path"],
                    "size": f["size"],
                    "padma_id": f.get("padma_id", ""),
                    "rightslevel": f.get("rightslevel"),
                    "title": f.get("title", ""),
                }
                for f in files
            ],
        }
        _write(json_path, json.dumps(manifest, ensure_ascii=False, indent=1))
        _write(oshashes_path, "".join(f"{f['oshash']}\n" for f in files))
        self.written.append(str(json_path))
        logger.info("manifest written drive=%s files=%d path=%s", volume, len(files), json_path)
        self.say(f"Wrote {json_path} ({len(files)} files)")

    def finish(self) -> dict:
        return {"manifests": self.written}


def _write(path: Path, text: str) -> None:
    """Atomically: an operator may be reading the previous list."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
