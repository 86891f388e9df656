"""The file on the mount: is it the catalogued one, what does ffprobe say, its encoding.

Encoding is ``pandora_client.encode`` (its ffmpeg commands for pad.ma's profile, two-pass
VP8/Vorbis for ``webm``), into the media cache, where an interrupted run finds it again.
"""

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from catalog.oshash import oshash as compute_oshash

from .client import UploadAPI, pandora_client, run_library


@dataclass
class Check:
    path: Path
    found_size: int | None = None
    found_oshash: str = ""
    problem: str = ""  # "missing" or "changed"
    message: str = ""


def check_on_mount(mount: Path, *, path: str, filename: str, size: int, oshash: str) -> Check:
    """Size first (free), then the oshash (two 64 KiB reads)."""
    location = mount / path / filename if path else mount / filename
    check = Check(path=location)
    try:
        check.found_size = location.stat().st_size
        check.found_oshash = compute_oshash(location)
    except FileNotFoundError:
        check.problem = "missing"
        check.message = f"Not found on the mount at {location}: is this the drive?"
        return check
    except OSError as error:
        check.problem = "missing"
        check.message = f"Cannot read {location}: {error.strerror or error}"
        return check
    if check.found_size != size or check.found_oshash != oshash:
        check.problem = "changed"
        check.message = (
            "Refused: the file on the drive is not the catalogued one "
            f"(catalogued {size} bytes, oshash {oshash}; "
            f"found {check.found_size} bytes, oshash {check.found_oshash}); never uploaded"
        )
    return check


def probe(location: Path) -> dict:
    """ffprobe's information, as pandora_client sends it (``utils.avinfo``, no cache)."""
    return pandora_client.utils.avinfo(str(location), cached=False)


def profile_for(info: dict, site: dict) -> str:
    """pad.ma's profile for this file, as ``pandora_client.Client.profile`` picks it: the
    smallest advertised resolution at least the video's height (else the largest), in the
    first advertised format (``480p.webm``)."""
    video = site.get("video") or {}
    resolutions = sorted(video.get("resolutions") or [480])
    height = info["video"][0].get("height") if info.get("video") else None
    resolution = resolutions[-1]
    for candidate in resolutions:
        if height and height <= candidate:
            resolution = candidate
            break
    return f"{resolution}p.{(video.get('formats') or ['webm'])[0]}"


@contextlib.contextmanager
def stderr_to(log: Path):
    """ffmpeg writes its progress to the inherited stderr: into ``log`` instead."""
    log.parent.mkdir(parents=True, exist_ok=True)
    saved = os.dup(2)
    with open(log, "ab") as target:
        os.dup2(target.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def encode(api: UploadAPI, location: Path, *, profile: str, info: dict, log: Path) -> Path | None:
    """The encoded media (cached: a second call returns at once), or None if ffmpeg failed."""
    frames = bool((api.site.get("media") or {}).get("importFrames"))
    with stderr_to(log):
        result = run_library(
            api, pandora_client.encode, str(location), api.media_cache, profile, info, frames
        )
    media = Path(result["media"]) if result else None
    return media if media is not None and media.exists() and media.stat().st_size else None


def last_lines(log: Path, count: int = 2) -> str:
    try:
        lines = [line.strip() for line in log.read_text(errors="replace").splitlines()]
    except OSError:
        return ""
    return " / ".join([line for line in lines if line][-count:])
