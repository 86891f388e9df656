"""The kinds of preview, their sizes and limits: one table the maker, the importer, the
upload endpoint and the docs agree on."""

from django.db import models


class Kind(models.TextChoices):
    THUMB = "thumb", "thumbnail"
    REVIEW = "review", "review image"
    POSTER = "poster", "video poster frame"
    STRIP = "strip", "video frame strip"
    WAVEFORM = "waveform", "audio waveform"
    PAGE = "page", "first page"
    TEXT = "text", "first lines"
    PLACEHOLDER = "placeholder", "no preview"


class Source(models.TextChoices):
    SCAN = "scan", "made from the drive by scan_folder or make_previews"
    BROWSER = "browser", "made in a curator's browser from a mounted drive"


#: Long side in pixels of the images made from a file.
THUMB_SIZE = 320
REVIEW_SIZE = 1280
POSTER_SIZE = 1280
PAGE_SIZE = 1280
#: Frames in a video's strip, each this wide (height follows the aspect ratio).
STRIP_FRAMES = 10
STRIP_FRAME_WIDTH = 240
#: A waveform's size (wide and flat, like a timeline) and its thumbnail's.
WAVEFORM_SIZE = (1280, 160)
#: Lines and characters kept of a text file.
TEXT_LINES = 40
TEXT_CHARS = 4000

#: Image kinds a browser may upload, with the largest file and the largest long side
#: accepted for each. A scan-made preview of the same kind always wins.
BROWSER_KINDS = {
    Kind.THUMB: {"max_bytes": 512 * 1024, "max_side": 640},
    Kind.REVIEW: {"max_bytes": 2 * 1024 * 1024, "max_side": 2048},
    Kind.POSTER: {"max_bytes": 2 * 1024 * 1024, "max_side": 2048},
    Kind.STRIP: {"max_bytes": 2 * 1024 * 1024, "max_side": 8192},
}
#: Largest preview file the importer takes in, any kind (a strip of 10 frames at
#: 240 px wide is ~60 KB; a review image rarely passes 300 KB).
MAX_IMPORT_BYTES = 4 * 1024 * 1024
#: Longest side the importer takes (a strip of 60 frames at 240 px).
MAX_IMPORT_SIDE = 16384
MAX_STRIP_FRAMES = 60

#: Pillow format name -> (content type, file extension).
IMAGE_FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
TEXT_CONTENT_TYPE = "text/plain; charset=utf-8"
