"""What waits for upload, per drive: the selectors behind ``--plan``, the dashboard panel
and the run itself.

A file's media can go to pad.ma once it is on pad.ma's list for its drive: exported
(``FileEntry.padma_id``) with an oshash of its own (8 bytes or more — the export's own
rule, ``eligibility.UNIQUE_OSHASH_MIN_SIZE``). Video and audio are encoded and uploaded;
images, documents and other files are kept out (``kept_out_reason``).
"""

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Q, Sum

from catalog.models import Category, Drive, FileEntry
from workflow.models import MediaUpload, UploadState

from ..eligibility import UNIQUE_OSHASH_MIN_SIZE

#: pad.ma items play video and audio; only these are encoded and uploaded.
MEDIA_CATEGORIES = (Category.VIDEO, Category.AUDIO)
#: Subtitles pad.ma takes as they are (its ``update`` lists them under ``file``).
SUBTITLE_SUFFIXES = (".srt", ".vtt")


def uploadable() -> Q:
    """Files whose media go to pad.ma: video and audio, and subtitles as they are."""
    subtitles = Q()
    for suffix in SUBTITLE_SUFFIXES:
        subtitles |= Q(filename__iendswith=suffix)
    return Q(category__in=MEDIA_CATEGORIES) | subtitles


#: Without a measured upload yet, the estimate assumes this many source bytes a second,
#: encoding and upload together (``PADMA_UPLOAD_BYTES_PER_SECOND`` overrides it). Encoding
#: dominates: pandora_client's two-pass VP8 ran at 0.2–0.6 s of media per second on the
#: 2-core test machine (bench/README.md, bench_upload), and camera video is ~2 MB/s.
DEFAULT_BYTES_PER_SECOND = 500_000


def kept_out_reason(category: str) -> str:
    """Why an approved image, document or other file gets no media upload."""
    kind = {Category.IMAGE: "an image", Category.DOCUMENT: "a document"}.get(category, "a file")
    return (
        f"Not uploaded: {kind} has no video or audio for a pad.ma item to play; its item "
        "keeps the metadata (pan.do/ra documents take only jpg, png and pdf and need the "
        "item they illustrate, which the catalogue does not record)"
    )


def on_padma(drive: Drive | None = None):
    """Files pad.ma has on a volume: exported, with an oshash of their own."""
    files = FileEntry.objects.exclude(padma_id="").filter(
        oshash__isnull=False, size__gte=UNIQUE_OSHASH_MIN_SIZE
    )
    return files.filter(drive=drive) if drive is not None else files


@dataclass
class DrivePlan:
    drive: str
    waiting: int
    waiting_bytes: int
    kept_out: int
    done: int
    failed: int
    refused: int
    estimate_seconds: float

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def bytes_per_second() -> float:
    """Source bytes handled per second by the uploads so far (encode + send), or the
    default. One aggregate over the done uploads."""
    done = MediaUpload.objects.filter(state=UploadState.DONE, seconds__gt=0).aggregate(
        size=Sum("file__size"), seconds=Sum("seconds")
    )
    if done["size"] and done["seconds"]:
        return done["size"] / done["seconds"]
    return getattr(settings, "PADMA_UPLOAD_BYTES_PER_SECOND", DEFAULT_BYTES_PER_SECOND)


def upload_plan(drive: Drive | None = None) -> list[DrivePlan]:
    """Per drive: approved media waiting for it (count, size, estimated time), files kept
    out, uploaded, failed and refused. One grouped query (plus the rate)."""
    media = uploadable()
    not_done = Q(media_upload__isnull=True) | ~Q(media_upload__state=UploadState.DONE)
    rows = (
        on_padma(drive)
        .values("drive__name")
        .annotate(
            waiting=Count("pk", filter=media & not_done),
            waiting_bytes=Sum("size", filter=media & not_done),
            kept_out=Count("pk", filter=~media),
            done=Count("pk", filter=Q(media_upload__state=UploadState.DONE)),
            failed=Count("pk", filter=Q(media_upload__state=UploadState.FAILED)),
            refused=Count("pk", filter=Q(media_upload__state=UploadState.MISMATCH)),
        )
        .order_by("drive__name")
    )
    rate = bytes_per_second()
    return [
        DrivePlan(
            drive=row["drive__name"],
            waiting=row["waiting"],
            waiting_bytes=row["waiting_bytes"] or 0,
            kept_out=row["kept_out"],
            done=row["done"],
            failed=row["failed"],
            refused=row["refused"],
            estimate_seconds=(row["waiting_bytes"] or 0) / rate,
        )
        for row in rows
    ]


def format_duration(seconds: float) -> str:
    """3 h 20 min, 12 min, 40 s."""
    seconds = round(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    if seconds >= 60:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def format_bytes(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(size) < 1000:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.2f} TB"
