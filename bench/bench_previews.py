#!/usr/bin/env python
"""Offline previews (issue #20): how fast they are made and how much they weigh.

Generates real media once under ``--workdir`` (camera-sized JPEG photos with texture and
noise, PNG screenshots, ffmpeg ``testsrc2`` videos with sound, one ~1 GB high-bitrate
1080p video, WAVs, multi-page PDFs, text files), then makes their previews with the
code ``scan_folder`` runs (``catalog.previews.bundle.PreviewWriter`` on ``--workers``
threads) and reports:

- files/s per kind of file, all threads busy (the issue's target for images: >= 50/s);
- seconds per video for its poster + strip, one at a time, up to the 1 GB one (<= 1 s);
- bytes per file of thumbnail + review image (<= 40 KB on average), of strips, posters,
  waveforms, pages, projected for a 1M-file catalogue;
- what a short low-bitrate video proxy would cost (time and bytes), to decide on it.

    .venv/bin/python bench/bench_previews.py                    # defaults below
    .venv/bin/python bench/bench_previews.py --images 60 --videos 3 --no-big-video
"""

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
import wave
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import harness  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from catalog.oshash import oshash  # noqa: E402
from catalog.previews.bundle import PreviewWriter, iter_bundles  # noqa: E402
from catalog.previews.generate import make_previews  # noqa: E402

MILLION = 1_000_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=HERE / "out" / "previews")
    parser.add_argument("--images", type=int, default=120, help="12 MP camera JPEGs")
    parser.add_argument("--large-images", type=int, default=30, help="24 MP camera JPEGs")
    parser.add_argument("--pngs", type=int, default=30, help="1920x1080 PNG screenshots")
    parser.add_argument("--videos", type=int, default=6, help="60 s 1080p videos")
    parser.add_argument("--audio", type=int, default=10, help="3 min WAVs")
    parser.add_argument("--pdfs", type=int, default=20)
    parser.add_argument("--texts", type=int, default=50)
    parser.add_argument("--no-big-video", action="store_true", help="skip the ~1 GB video")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--kinds", help="comma-separated kinds to measure (default all), e.g. photo-12MP,text"
    )
    args = parser.parse_args()

    media = args.workdir / "media"
    print(f"# bench_previews  {harness.provenance()}")
    print(f"workers: {args.workers}; media in {media} (made once, reused)")
    kinds = make_media(media, args)
    results: dict = {"workers": args.workers, "kinds": {}, "provenance": harness.provenance()}

    print("\n## Throughput, all workers busy (PreviewWriter, as scan_folder runs it)")
    # CPU seconds (this process's threads and the ffmpeg/pdftoppm children) beside the wall
    # clock: on a shared machine, files per CPU second x cores is what an idle one would do.
    print(
        f"{'kind':<14}{'files':>6}{'seconds':>9}{'files/s':>9}{'cpu s/file':>11}"
        f"{'idle files/s':>13}{'bytes/file':>12}  made"
    )
    for kind, (paths, mime_type) in kinds.items():
        if args.kinds and kind not in args.kinds.split(","):
            continue
        out = args.workdir / "previews" / kind
        shutil.rmtree(out, ignore_errors=True)
        writer = PreviewWriter(str(out), workers=args.workers)
        cpu_before = cpu_seconds()
        started = time.perf_counter()
        for path in paths:
            size = path.stat().st_size
            writer.submit(str(path), oshash=oshash(path), mime_type=mime_type, size=size)
        stats = writer.close()
        seconds = time.perf_counter() - started
        cpu = (cpu_seconds() - cpu_before) / len(paths)
        idle = min(args.workers, os.cpu_count() or 1) / cpu
        sizes = bundle_sizes(out)
        per_file = sum(sizes.values()) / max(1, len(paths))
        made = ", ".join(f"{k} {sizes[k] / len(paths) / 1024:.1f} KB" for k in sorted(sizes))
        print(
            f"{kind:<14}{len(paths):>6}{seconds:>9.2f}{len(paths) / seconds:>9.1f}"
            f"{cpu:>11.3f}{idle:>13.1f}{per_file / 1024:>10.1f}KB  {made}"
        )
        if stats.placeholders:
            print(f"   ! {stats.placeholders} placeholders: {stats.placeholder_examples[:3]}")
        results["kinds"][kind] = {
            "files": len(paths),
            "seconds": round(seconds, 3),
            "files_per_second": round(len(paths) / seconds, 2),
            "cpu_seconds_per_file": round(cpu, 4),
            "idle_files_per_second": round(idle, 1),
            "bytes_per_file": {k: round(v / len(paths)) for k, v in sizes.items()},
        }

    if args.kinds:  # a partial run: the throughput table only
        return write_results(results, args.workdir)

    print("\n## Seconds per video for poster + strip, one video at a time (no other work)")
    videos = kinds["video-1080p"][0] + (
        [media / "big" / "big.mp4"] if not args.no_big_video else []
    )
    per_video = []
    per_video_cpu = []
    for path in videos:
        cpu_before = cpu_seconds()
        started = time.perf_counter()
        made = make_previews(str(path), "video/mp4")
        seconds = time.perf_counter() - started
        per_video.append(seconds)
        per_video_cpu.append(cpu_seconds() - cpu_before)
        strip = next((m for m in made if m.kind == "strip"), None)
        print(
            f"  {path.name:<18}{path.stat().st_size / 1024**2:>8.0f} MB  {seconds:5.2f} s "
            f"(CPU {per_video_cpu[-1]:4.2f} s)  "
            f"strip frames at {strip.frame_times if strip else None}"
        )
    results["video_seconds"] = {
        "p50": round(statistics.median(per_video), 3),
        "max": round(max(per_video), 3),
        "cpu_max": round(max(per_video_cpu), 3),
        "largest_file_mb": round(max(p.stat().st_size for p in videos) / 1024**2),
    }

    print("\n## Storage, projected for 1M files")
    images = [results["kinds"][k] for k in ("photo-12MP", "photo-24MP", "png-screenshot")]
    image_bytes = sum(
        (k["bytes_per_file"].get("thumb", 0) + k["bytes_per_file"].get("review", 0)) * k["files"]
        for k in images
    ) / sum(k["files"] for k in images)
    video = results["kinds"]["video-1080p"]["bytes_per_file"]
    rows = [
        ("thumb + review, images (mixed)", image_bytes),
        ("video strip (10 frames)", video.get("strip", 0)),
        ("video poster + thumb", video.get("poster", 0) + video.get("thumb", 0)),
        ("audio waveform + thumb", sum(results["kinds"]["audio-wav"]["bytes_per_file"].values())),
        ("PDF page + thumb", sum(results["kinds"]["pdf"]["bytes_per_file"].values())),
        ("text lines + thumb", sum(results["kinds"]["text"]["bytes_per_file"].values())),
    ]
    for label, per_file in rows:
        projected = per_file * MILLION / 1e9
        print(f"  {label:<34}{per_file / 1024:>8.1f} KB/file  {projected:>7.1f} GB per 1M")
    results["storage_kb_per_file"] = {label: round(b / 1024, 1) for label, b in rows}

    print("\n## A short low-bitrate proxy (not made by default): what it would cost")
    results["proxy"] = measure_proxy(kinds["video-1080p"][0][0], args.workdir)

    return write_results(results, args.workdir)


def write_results(results: dict, workdir: Path) -> int:
    out = workdir / f"results-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(results, indent=1))
    print(f"\nresults: {out}")
    return 0


def cpu_seconds() -> float:
    """User + system CPU of this process (all threads) and its finished children."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def bundle_sizes(folder: Path) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for _oshash, bundle in iter_bundles(str(folder)):
        for file in Path(bundle).iterdir():
            if file.name != "preview.json":
                kind = file.name.split(".")[0]
                sizes[kind] = sizes.get(kind, 0) + file.stat().st_size
    return sizes


def measure_proxy(video: Path, workdir: Path) -> dict:
    """The first 30 s at 360p, 300 kbit/s H.264 + 48 kbit/s AAC: a typical review proxy."""
    out = workdir / "proxy.mp4"
    command = ["ffmpeg", "-v", "error", "-y", "-t", "30", "-i", str(video), "-vf", "scale=-2:360"]
    command += ["-c:v", "libx264", "-preset", "veryfast", "-b:v", "300k", "-c:a", "aac"]
    command += ["-b:a", "48k", "-movflags", "+faststart", str(out)]
    started = time.perf_counter()
    subprocess.run(command, check=True)
    seconds = time.perf_counter() - started
    size = out.stat().st_size
    print(
        f"  30 s of {video.name}: {seconds:.1f} s to make, {size / 1024:.0f} KB "
        f"({size * MILLION / 10 / 1e12:.1f} TB if 1 file in 10 of 1M is a video)"
    )
    return {"seconds": round(seconds, 2), "bytes": size}


# --- media ------------------------------------------------------------------------------------


def make_media(media: Path, args) -> dict[str, tuple[list[Path], str]]:
    started = time.perf_counter()
    m = media
    plan = [
        ("photo-12MP", "image/jpeg", args.images, lambda n: photo(m / f"photos/IMG_{n:04}.jpg", n)),
        (
            "photo-24MP",
            "image/jpeg",
            args.large_images,
            lambda n: photo(m / f"large/D{n:04}.jpg", n, 24),
        ),
        ("png-screenshot", "image/png", args.pngs, lambda n: photo(m / f"png/s{n:03}.png", n, 2)),
        ("video-1080p", "video/mp4", args.videos, lambda n: video(m / f"video/clip_{n:02}.mp4", n)),
        ("audio-wav", "audio/x-wav", args.audio, lambda n: wav(m / f"audio/take_{n:02}.wav", n)),
        ("pdf", "application/pdf", args.pdfs, lambda n: pdf(m / f"pdf/doc_{n:02}.pdf", n)),
        ("text", "text/plain", args.texts, lambda n: text(m / f"text/notes_{n:02}.txt", n)),
    ]
    kinds = {kind: ([make(n) for n in range(count)], mime) for kind, mime, count, make in plan}
    if not args.no_big_video:
        big_video(media / "big" / "big.mp4")
    print(f"media ready in {time.perf_counter() - started:.0f} s")
    return kinds


#: Megapixels -> size; 2 MP is a 1920 x 1080 screenshot (PNG).
SIZES = {12: (4000, 3000), 24: (6000, 4000), 2: (1920, 1080)}


def photo(path: Path, seed: int, megapixels: int = 12) -> Path:
    """Shapes, gradients and sensor-like noise: compresses like a photo, not a flat card."""
    if path.exists():
        return path
    size, fmt = SIZES[megapixels], "PNG" if path.suffix == ".png" else "JPEG"
    path.parent.mkdir(parents=True, exist_ok=True)
    width, height = size
    small = (width // 4, height // 4)
    base = Image.merge(
        "RGB",
        [
            Image.linear_gradient("L").rotate(seed * 37 % 360).resize(small),
            Image.radial_gradient("L").resize(small),
            Image.effect_mandelbrot(small, (-2 + seed % 5 * 0.1, -1.2, 0.8, 1.2), 60),
        ],
    )
    draw = ImageDraw.Draw(base)
    for n in range(25):
        x, y = (seed * 97 + n * 211) % small[0], (seed * 53 + n * 157) % small[1]
        colour = ((seed * 40 + n * 60) % 256, (n * 90) % 256, (seed * 25 + n * 30) % 256)
        draw.rectangle((x, y, x + small[0] // 6, y + small[1] // 7), fill=colour)
    image = base.resize(size, Image.Resampling.BICUBIC)
    noise = Image.effect_noise(size, 40).convert("RGB")
    image = Image.blend(image, noise, 0.12)
    image.save(path, fmt, **({"quality": 92} if fmt == "JPEG" else {}))
    return path


def video(path: Path, seed: int, seconds: int = 60) -> Path:
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    command = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi"]
    command += ["-i", f"testsrc2=size=1920x1080:rate=25:duration={seconds}"]
    command += ["-f", "lavfi", "-i", f"sine=frequency={200 + seed * 50}:duration={seconds}"]
    command += ["-c:v", "libx264", "-preset", "ultrafast", "-b:v", "8M", "-g", "25"]
    command += ["-pix_fmt", "yuv420p", "-c:a", "aac", str(path)]
    subprocess.run(command, check=True)
    return path


def big_video(path: Path) -> Path:
    """~1 GB: 250 s of 1080p at ~32 Mbit/s (a camera's bitrate), key frames every 10 s.

    60 s are encoded and then repeated by stream copy (no second encoding)."""
    if path.exists() and path.stat().st_size > 900 * 1024**2:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    print("making the ~1 GB video (once; a few minutes) ...", flush=True)
    part = path.with_name("part.mp4")
    command = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi"]
    command += ["-i", "testsrc2=size=1920x1080:rate=25:duration=60"]
    command += ["-f", "lavfi", "-i", "sine=frequency=300:duration=60"]
    command += ["-c:v", "libx264", "-preset", "ultrafast", "-b:v", "40M", "-maxrate", "40M"]
    command += ["-bufsize", "80M", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", str(part)]
    subprocess.run(command, check=True)
    loop = ["ffmpeg", "-v", "error", "-y", "-stream_loop", "4", "-i", str(part), "-t", "250"]
    subprocess.run([*loop, "-c", "copy", str(path)], check=True)
    part.unlink()
    return path


def wav(path: Path, seed: int, seconds: int = 180) -> Path:
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    command = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi"]
    command += ["-i", f"sine=frequency={300 + seed * 20}:duration={seconds}:sample_rate=48000"]
    command += ["-af", "volume='0.3+0.7*abs(sin(t/4))':eval=frame", "-ac", "2"]
    command += ["-c:a", "pcm_s16le", str(path)]
    subprocess.run(command, check=True)
    with wave.open(str(path)) as check:
        assert check.getnframes() > 0
    return path


def pdf(path: Path, seed: int) -> Path:
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    pages = []
    for n in range(4):
        page = Image.new("RGB", (1240, 1754), "white")  # A4 at 150 dpi
        draw = ImageDraw.Draw(page)
        draw.rectangle((100, 100, 1140, 600), fill=((seed * 30) % 256, 90 + n * 20, 160))
        for line in range(40):
            draw.text(
                (100, 650 + line * 26),
                f"Line {line} of page {n + 1}, document {seed}",
                fill="black",
            )
        pages.append(page)
    pages[0].save(path, "PDF", save_all=True, append_images=pages[1:], resolution=150)
    return path


def text(path: Path, seed: int) -> Path:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = [
            f"{seed}.{n} रिहर्सल नोट्स — café, day {n}: who, where, what was filmed"
            for n in range(300)
        ]
        path.write_text("\n".join(lines), encoding="utf-8")
    return path


if __name__ == "__main__":
    sys.exit(main())
