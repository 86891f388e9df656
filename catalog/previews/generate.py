"""Make a file's previews: Pillow for images and text, ffmpeg/ffprobe for video and audio,
pdftoppm (poppler-utils) for PDFs.

``make_previews(path, mime_type)`` never raises for a bad file: what cannot be previewed
becomes one placeholder with a reason a person can act on. It needs no Django settings,
so the scanner can call it on a machine without the site.
"""

import codecs
import contextlib
import io
import json
import os
import re
import subprocess
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from PIL import Image, ImageDraw, ImageFont, ImageOps, ImageStat

from .kinds import (
    PAGE_SIZE,
    POSTER_SIZE,
    REVIEW_SIZE,
    STRIP_FRAME_WIDTH,
    STRIP_FRAMES,
    TEXT_CHARS,
    TEXT_CONTENT_TYPE,
    TEXT_LINES,
    THUMB_SIZE,
    WAVEFORM_SIZE,
    Kind,
)

#: Seconds an external tool may take on one file before it is given up as unreadable.
TOOL_TIMEOUT = 120
#: Files under this many bytes have their size as oshash (pan.do/ra's rule), so one
#: preview would stand for every such file of the same size: they get a placeholder.
TINY_FILE = 8
#: ffmpeg runs sharing one video's strip frames (one per core of the reference machine).
FRAME_PROCESSES = 2
#: Encoder settings. WebP is half the size of JPEG at the same look (bench/README.md:
#: 18 KB against 40 KB for a 1280 px photo); ``method`` trades encoding time for size:
#: 0 is twice as fast as 2 for 15% more bytes, worth it at 1280 px, not at 320.
WEBP_REVIEW = {"format": "WEBP", "quality": 65, "method": 0}
WEBP_THUMB = {"format": "WEBP", "quality": 70, "method": 4}
#: Pictures of text: a few greys, which PNG keeps sharp in a fraction of WebP's bytes.
PNG_TEXT = {"format": "PNG", "optimize": True}
#: Text files: media types beyond text/* whose first lines are worth showing.
TEXT_TYPES = frozenset(
    {
        "application/json",
        "application/xml",
        "application/x-subrip",
        "application/javascript",
        "application/x-sh",
        "application/x-yaml",
        "application/yaml",
        "application/sql",
        "application/x-tex",
        "message/rfc822",
    }
)
#: Image types Pillow cannot draw (vector drawings, camera raw without a Pillow plugin).
_NOT_RASTER = {"image/svg+xml": "SVG drawings are not rasterised"}
_FONT_PATHS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)
#: The colour of waveforms: the admin's teal.
WAVE_COLOUR = "#007d7e"


@dataclass
class Made:
    """One preview of a file: an encoded image (or UTF-8 text), or a placeholder."""

    kind: str
    data: bytes = b""
    extension: str = ""
    content_type: str = ""
    width: int | None = None
    height: int | None = None
    frame_times: list[float] = field(default_factory=list)
    reason: str = ""


class Unpreviewable(Exception):
    """This file gets a placeholder; the message is its reason."""


def preview_family(mime_type: str | None) -> str | None:
    """``image``, ``video``, ``audio``, ``pdf``, ``text`` or None (no previewer)."""
    if not mime_type:
        return None
    major = mime_type.split("/", 1)[0]
    if mime_type == "application/pdf":
        return "pdf"
    if major in ("image", "video", "audio"):
        return major
    if major == "text" or mime_type in TEXT_TYPES:
        return "text"
    return None


def make_previews(path: str, mime_type: str | None, size: int | None = None) -> list[Made]:
    """Every preview of the file at ``path``, or ``[placeholder]`` with the reason why not."""
    family = preview_family(mime_type)
    if size == 0:
        return [placeholder("the file is empty")]
    if size is not None and size < TINY_FILE:
        # Its oshash is its size: every file this small of that size shares it.
        return [placeholder(f"under {TINY_FILE} bytes: too small to preview")]
    if family is None:
        return [placeholder(f"no preview is made for {mime_type or 'files of unknown type'}")]
    maker = _MAKERS[family]
    try:
        return maker(path, mime_type)
    except Unpreviewable as reason:
        message = str(reason)
    except subprocess.TimeoutExpired as error:
        message = f"{error.cmd[0]} took longer than {TOOL_TIMEOUT} s; left out"
    except MemoryError:
        message = "too large to preview in memory"
    except Exception as error:  # a damaged file may fail anywhere inside Pillow
        message = f"cannot be read as {family}: {_short(error)}"
    # The reason travels with the oshash to every copy: no drive's mount point in it.
    return [placeholder(message.replace(path, os.path.basename(path)))]


def placeholder(reason: str) -> Made:
    return Made(Kind.PLACEHOLDER, reason=reason[:300])


def timed(function: Callable[[], list[Made]]) -> tuple[list[Made], float]:
    started = time.perf_counter()
    made = function()
    return made, time.perf_counter() - started


# --- images -------------------------------------------------------------------------------


def _image_previews(path: str, mime_type: str | None) -> list[Made]:
    if mime_type in _NOT_RASTER:
        raise Unpreviewable(_NOT_RASTER[mime_type])
    _register_heif()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(path)
        except Image.DecompressionBombError as error:
            raise Unpreviewable(f"too many pixels to preview ({_short(error)})") from error
        except (OSError, SyntaxError, ValueError) as error:
            raise Unpreviewable(f"Pillow cannot read this image ({_short(error)})") from error
        with image:
            # JPEG decodes at 1/2, 1/4 or 1/8 size straight from the DCT when that still
            # covers the review size: most of the time of a camera photo's preview.
            image.draft("RGB", (REVIEW_SIZE, REVIEW_SIZE))
            image = _flattened(ImageOps.exif_transpose(image))
            review = _fit(image, REVIEW_SIZE)
    thumb = _fit(review, THUMB_SIZE)
    return [_encoded(Kind.REVIEW, review, WEBP_REVIEW), _encoded(Kind.THUMB, thumb, WEBP_THUMB)]


def _flattened(image: Image.Image) -> Image.Image:
    """RGB on white: transparency, palettes, CMYK and 16-bit greys all become RGB."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, "white")
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    return image.convert("RGB") if image.mode != "RGB" else image


def _fit(image: Image.Image, side: int) -> Image.Image:
    """A copy no larger than ``side`` on its long side (never enlarged)."""
    copy = image.copy()
    # reducing_gap: a box reduction first, then the filter over the last factor of two
    # or less; bilinear there is as sharp as bicubic to the eye and a third faster.
    copy.thumbnail((side, side), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return copy


def _encoded(kind: str, image: Image.Image, options: dict) -> Made:
    out = io.BytesIO()
    image.save(out, **options)
    extension = {"WEBP": "webp", "PNG": "png", "JPEG": "jpg"}[options["format"]]
    content_type = f"image/{'jpeg' if extension == 'jpg' else extension}"
    return Made(kind, out.getvalue(), extension, content_type, image.width, image.height)


_heif_registered = False


def _register_heif() -> None:
    global _heif_registered
    if not _heif_registered:
        with contextlib.suppress(ImportError):
            from pillow_heif import register_heif_opener

            register_heif_opener()
        _heif_registered = True


# --- video ----------------------------------------------------------------------------------


def probe(path: str) -> dict:
    """ffprobe's streams and duration; Unpreviewable when ffprobe cannot read the file."""
    command = ["ffprobe", "-v", "error", "-print_format", "json"]
    command += ["-show_entries", "format=duration:stream=codec_type,width,height,duration"]
    command += ["-i", _ffmpeg_input(path)]
    done = subprocess.run(command, capture_output=True, timeout=TOOL_TIMEOUT, check=False)
    if done.returncode != 0:
        raise Unpreviewable(f"ffprobe cannot read it: {_tool_error(done.stderr)}")
    info = json.loads(done.stdout or b"{}")
    streams = info.get("streams") or []
    duration = _float(info.get("format", {}).get("duration"))
    if not duration:
        duration = max((_float(stream.get("duration")) for stream in streams), default=0.0)
    return {
        "video": any(s.get("codec_type") == "video" and s.get("width") for s in streams),
        "audio": any(s.get("codec_type") == "audio" for s in streams),
        "duration": duration,
    }


def _video_previews(path: str, mime_type: str | None) -> list[Made]:
    info = probe(path)
    if not info["video"]:
        if info["audio"]:
            return _waveform(path, info)
        raise Unpreviewable("ffprobe found neither pictures nor sound in it")
    duration = info["duration"]
    times = (
        [round(duration * (n + 0.5) / STRIP_FRAMES, 3) for n in range(STRIP_FRAMES)]
        if duration > 0
        else [0.0]
    )
    frames, times = _frames_at(path, times)
    if not frames:
        raise Unpreviewable("ffmpeg found no picture to show")
    poster = frames[_poster_index(frames)]
    made = [_encoded(Kind.POSTER, poster, WEBP_REVIEW)]
    made.append(_encoded(Kind.THUMB, _fit(poster, THUMB_SIZE), WEBP_THUMB))
    if len(frames) > 1:
        strip = _strip(frames)
        made.append(_encoded(Kind.STRIP, strip, WEBP_THUMB))
        made[-1].frame_times = times
    return made


def _frames_at(path: str, times: list[float]) -> tuple[list[Image.Image], list[float]]:
    """One frame near each time, with the time each frame really has.

    Split over ``FRAME_PROCESSES`` ffmpeg runs at once: each input costs ffmpeg ~0.1 s of
    CPU (opening the file, decoding and converting one frame), so two runs halve the wait
    on two cores (bench/README.md)."""
    groups = min(FRAME_PROCESSES, max(1, len(times) // 3))
    if groups == 1:
        return _frames_in_one_run(path, times)
    size = -(-len(times) // groups)
    parts = [times[start : start + size] for start in range(0, len(times), size)]
    with ThreadPoolExecutor(len(parts), thread_name_prefix="ffmpeg") as pool:
        results = list(pool.map(lambda part: _frames_in_one_run(path, part), parts))
    frames = [frame for part_frames, _ in results for frame in part_frames]
    actual = [time for _, part_times in results for time in part_times]
    return frames, actual


def _frames_in_one_run(path: str, times: list[float]) -> tuple[list[Image.Image], list[float]]:
    """One frame near each time, from one ffmpeg run, with the time each frame really has.

    Each time is its own input with ``-ss`` before ``-i``: ffmpeg seeks in the container to
    the key frame before it and, with ``-noaccurate_seek`` and ``-skip_frame nokey``,
    decodes only that key frame. Nothing else of the file is read, so a 1 GB video costs
    about as much as a 10 MB one. ``showinfo`` reports where each key frame really is.
    """
    box = f"w='min({POSTER_SIZE},iw*sar)':h='min({POSTER_SIZE},ih)'"
    command = ["ffmpeg", "-hide_banner", "-v", "info", "-nostdin"]
    chains = []
    for index, at in enumerate(times):
        command += ["-threads", "1", "-skip_frame", "nokey", "-noaccurate_seek", "-an", "-sn"]
        command += ["-dn", "-ss", f"{at:.3f}", "-i", _ffmpeg_input(path)]
        # One frame per input, the same size for all (concat needs it), square pixels.
        chains.append(
            f"[{index}:v:0]trim=end_frame=1,showinfo@f{index},setpts=PTS-STARTPTS,"
            f"scale={box}:force_original_aspect_ratio=decrease:force_divisible_by=2,"
            f"setsar=1,format=rgb24[f{index}]"
        )
    inputs = "".join(f"[f{index}]" for index in range(len(times)))
    graph = ";".join(chains) + f";{inputs}concat=n={len(times)}:v=1:a=0[out]"
    command += ["-filter_complex", graph, "-map", "[out]", "-an", "-sn", "-dn"]
    command += ["-fps_mode", "passthrough", "-f", "image2pipe", "-c:v", "ppm", "-"]
    done = subprocess.run(command, capture_output=True, timeout=TOOL_TIMEOUT, check=False)
    frames = _read_ppms(done.stdout)
    if not frames and done.returncode != 0:
        raise Unpreviewable(f"ffmpeg cannot decode it: {_tool_error(done.stderr)}")
    # pts_time is relative to the -ss of the frame's input.
    shown = {
        int(index): max(0.0, round(times[int(index)] + float(offset), 3))
        for index, offset in _SHOWINFO.findall(done.stderr.decode("utf-8", "replace"))
    }
    actual = [shown[index] for index in sorted(shown)]
    if len(actual) != len(frames):
        actual = times[: len(frames)]  # showinfo's lines did not match: the asked times
    return frames, actual


_SHOWINFO = re.compile(r"\[showinfo@f(\d+) @ [^\]]*\] n:\s*0 pts:\s*-?\d+ pts_time:(-?[0-9.e+-]+)")


def _read_ppms(data: bytes) -> list[Image.Image]:
    """The binary PPM images ffmpeg wrote back to back (``P6\\n<w> <h>\\n255\\n<rgb>``)."""
    frames, at = [], 0
    while at < len(data):
        parts = data[at : at + 32].split(b"\n", 3)
        if len(parts) < 4 or parts[0] != b"P6":
            break
        width, height = (int(value) for value in parts[1].split())
        start = at + len(parts[0]) + len(parts[1]) + len(parts[2]) + 3
        end = start + width * height * 3
        if end > len(data):
            break
        frames.append(Image.frombuffer("RGB", (width, height), data[start:end]))
        at = end
    return frames


def _poster_index(frames: list[Image.Image]) -> int:
    """The frame with most going on (spread of brightness) among the first two thirds,
    so a fade from black or a title card's plain first seconds is not the poster."""
    candidates = frames[: max(1, (len(frames) * 2) // 3)]
    spreads = [ImageStat.Stat(frame.convert("L").reduce(8)).stddev[0] for frame in candidates]
    return max(range(len(candidates)), key=lambda index: (spreads[index] > 8, -abs(index - 1)))


def _strip(frames: list[Image.Image]) -> Image.Image:
    small = [
        frame.resize(_scaled(frame, STRIP_FRAME_WIDTH), Image.Resampling.BICUBIC, reducing_gap=2.0)
        for frame in frames
    ]
    strip = Image.new("RGB", (sum(frame.width for frame in small), small[0].height))
    left = 0
    for frame in small:
        strip.paste(frame, (left, 0))
        left += frame.width
    return strip


def _scaled(frame: Image.Image, width: int) -> tuple[int, int]:
    return width, max(1, round(frame.height * width / frame.width))


# --- audio ----------------------------------------------------------------------------------


def _audio_previews(path: str, mime_type: str | None) -> list[Made]:
    info = probe(path)
    if not info["audio"]:
        raise Unpreviewable("ffprobe found no sound in it")
    return _waveform(path, info)


def _waveform(path: str, info: dict) -> list[Made]:
    """The whole recording's waveform; decoded once, at 8 kHz mono (enough to draw)."""
    width, height = WAVEFORM_SIZE
    graph = (
        "aformat=channel_layouts=mono,aresample=8000,"
        f"showwavespic=s={width}x{height}:colors={WAVE_COLOUR}:scale=sqrt"
    )
    command = ["ffmpeg", "-v", "error", "-nostdin", "-threads", "1"]
    command += ["-i", _ffmpeg_input(path), "-vn"]
    command += ["-filter_complex", graph, "-frames:v", "1", "-f", "image2pipe", "-c:v", "png", "-"]
    done = subprocess.run(command, capture_output=True, timeout=TOOL_TIMEOUT, check=False)
    if done.returncode != 0 or not done.stdout:
        raise Unpreviewable(f"ffmpeg cannot decode its sound: {_tool_error(done.stderr)}")
    with Image.open(io.BytesIO(done.stdout)) as picture:
        wave = _flattened(picture)
    options = {"format": "PNG", "optimize": True}
    paletted = wave.quantize(16)
    made = [_encoded(Kind.WAVEFORM, paletted, options)]
    thumb = wave.resize((THUMB_SIZE, THUMB_SIZE * height // width), Image.Resampling.BOX)
    made.append(_encoded(Kind.THUMB, thumb.quantize(16), options))
    return made


# --- PDF --------------------------------------------------------------------------------------


def _pdf_previews(path: str, mime_type: str | None) -> list[Made]:
    """The first page, rendered by poppler's pdftoppm to fit the review size."""
    command = ["pdftoppm", "-f", "1", "-l", "1", "-singlefile", "-scale-to", str(PAGE_SIZE)]
    command.append(path)
    done = subprocess.run(command, capture_output=True, timeout=TOOL_TIMEOUT, check=False)
    if done.returncode != 0 or not done.stdout:
        raise Unpreviewable(f"pdftoppm cannot render it: {_tool_error(done.stderr)}")
    pages = _read_ppms(done.stdout)
    if not pages:
        raise Unpreviewable("pdftoppm rendered no page")
    page = pages[0]
    return [
        _encoded(Kind.PAGE, page, WEBP_REVIEW),
        _encoded(Kind.THUMB, _fit(page, THUMB_SIZE), WEBP_THUMB),
    ]


# --- text -------------------------------------------------------------------------------------


def _text_previews(path: str, mime_type: str | None) -> list[Made]:
    """The first lines as UTF-8 text, and a thumbnail of them."""
    with open(path, "rb") as source:
        head = source.read(TEXT_CHARS * 4)
    if b"\x00" in head:
        raise Unpreviewable("it holds binary data, not text")
    text = _decoded(head)
    lines = text.splitlines()[:TEXT_LINES]
    text = "\n".join(lines)[:TEXT_CHARS]
    data = text.encode("utf-8")
    made = [Made(Kind.TEXT, data, "txt", TEXT_CONTENT_TYPE)]
    made.append(_encoded(Kind.THUMB, _text_picture(lines[:16]).quantize(8), PNG_TEXT))
    return made


def _decoded(head: bytes) -> str:
    """UTF-8 (a character cut off at the end is dropped), else Windows-1252, else Latin-1."""
    with contextlib.suppress(UnicodeDecodeError):
        return codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    with contextlib.suppress(UnicodeDecodeError):
        return head.decode("cp1252")
    return head.decode("latin-1")


def _text_picture(lines: list[str]) -> Image.Image:
    width, height = THUMB_SIZE, THUMB_SIZE * 3 // 4
    picture = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(picture)
    font = _font(12)
    for number, line in enumerate(lines):
        draw.text((8, 6 + number * 15), line[:60], fill=(40, 40, 40), font=font)
    return picture


_fonts: dict[int, ImageFont.FreeTypeFont | ImageFont.ImageFont] = {}


def _font(size: int):
    if size not in _fonts:
        for candidate in _FONT_PATHS:
            with contextlib.suppress(OSError):
                _fonts[size] = ImageFont.truetype(candidate, size)
                break
        else:
            _fonts[size] = ImageFont.load_default(size)
    return _fonts[size]


# --- helpers ----------------------------------------------------------------------------------

_MAKERS: dict[str, Callable[[str, str | None], list[Made]]] = {
    "image": _image_previews,
    "video": _video_previews,
    "audio": _audio_previews,
    "pdf": _pdf_previews,
    "text": _text_previews,
}


def _ffmpeg_input(path: str) -> str:
    """``file:`` first, so a name such as ``concat:a|b`` or ``http:x`` is only ever a file."""
    return f"file:{path}"


def _float(value) -> float:
    try:
        return max(float(value), 0.0)
    except (TypeError, ValueError):
        return 0.0


def _tool_error(stderr: bytes) -> str:
    text = stderr.decode("utf-8", "replace")
    lines = [line for line in text.splitlines() if line.strip() and "showinfo@" not in line]
    return _short(lines[-1] if lines else "no message")


def _short(error) -> str:
    text = str(error).strip() or type(error).__name__
    return text if len(text) <= 200 else text[:197] + "..."
