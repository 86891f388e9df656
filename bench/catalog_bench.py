#!/usr/bin/env python
"""Catalog benchmark: a synthetic million-file archive, imported and browsed.

Run from the repository root::

    .venv/bin/python bench/catalog_bench.py [--files 1000000] [--drives 10]
        [--database sqlite|postgres] [--workdir bench/out]
        [--steps generate,import,reimport,duplicates,folders,listing,snippet,oshash]

Steps (in this order, whichever are asked for):

generate    seeded manifests, one per drive (``Drive03_2026-01-24.json``), cached in
            ``<workdir>/manifests/<params>/``; skipped when already there.
import      fresh database (SQLite file under ``<workdir>/var-sqlite`` or the PostgreSQL
            database ``phs_bench``), ``migrate``, then each manifest imported by a child
            ``manage.py import_json`` under ``/usr/bin/time -v`` (rate and peak RSS).
reimport    the same manifests again, unchanged; then again with ``--update``.
duplicates  ``update_duplicates()``: first run, ``reset=True``, then incremental.
folders     ``catalog.selectors.folder_listing`` at drive roots and at leaves.
listing     ~20% of files get a curator status, then a filtered, ordered page + count.
snippet     the Wagtail FileEntry snippet listing through ``django.test.Client``.
oshash      runs ``bench/bench_oshash.py`` (owned elsewhere) if present.

``folders`` and ``listing`` are measured twice: with the planner statistics as the
import left them ("as imported") and after an explicit ``ANALYZE``.

Results: a table on stdout and ``<workdir>/results-<database>.json``; each figure
names the command line that produced it.
"""

import argparse
import contextlib
import json
import math
import os
import random
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
#: The code under test: this repository, or a frozen copy of it (``--app-dir``).
APP = REPO
SETTINGS = "phs_site.settings.dev"
PG_DSN = "postgres://postgres@127.0.0.1:5432/{db}"
PG_DB = "phs_bench"
MANIFEST_DAY = "2026-01-24"
GENERATOR_VERSION = 4
ALL_STEPS = [
    "generate",
    "import",
    "reimport",
    "duplicates",
    "folders",
    "listing",
    "snippet",
    "oshash",
]
STATUSES = ["unreviewed", "upload", "restricted", "keep_offline", "discard", "needs_attention"]
SNIPPET_URL = "/admin/snippets/catalog/fileentry/"

TARGETS = {
    "import_rate": (">=", 40_000, "rows/s"),
    "import_memory": ("<", 100, "MB"),
    "duplicates_reset": ("<=", 3.0, "s"),
    "folder_listing_p95": ("<=", 5.0, "ms"),
    "filtered_listing_p95": ("<=", 25.0, "ms"),
    "snippet_p95": ("<=", 150.0, "ms"),
}


# --- the synthetic archive ------------------------------------------------------------

TOP_FOLDERS = {
    "PHS-Videos": "video",
    "Photos": "photo",
    "Projects": "mixed",
    "Audio Recordings": "audio",
    "Documents": "document",
    "Camera Dumps": "photo",
    "Edits": "video",
    "Press": "document",
    "Backup MacBook": "mixed",
    "Archive 2008-2014": "mixed",
    "नाटक संग्रह": "mixed",
    "Street Theatre": "video",
}
PROJECTS = [
    "Nukkad Natak Mumbai",
    "Rehearsals",
    "Street Theatre",
    "Prithvi Festival",
    "Workshops",
    "Oral Histories",
    "Kala Ghoda",
    "Dharavi Stories",
    "Women in Theatre",
    "School Tour",
    "Café Readings",
    "Monsoon Plays",
]
EVENTS = [
    "Rehearsal",
    "Workshop",
    "Performance Prithvi",
    "Interview",
    "Street Show Dadar",
    "Press Meet",
    "Festival Day 1",
    "Festival Day 2",
    "Tech Run",
    "Opening Night",
    "Audition",
    "Readthrough",
    "Performance Shivaji Park",
    "Site Visit",
    "Masterclass",
]
LEVEL4 = ["Camera A", "Camera B", "Card 01", "Card 02", "DCIM", "Stills", "Audio", "Phone"]
LEVEL5 = ["100CANON", "101CANON", "RAW", "JPG", "Selects", "Proxies", "PRIVATE", "CLIP"]
LEVEL6 = ["Export", "v2", "old", "Final", "AVCHD", "BDMV", "Thumbs"]
#: How likely a walk reuses an existing child at each depth (narrow at the top).
REUSE = [0.985, 0.9, 0.72, 0.55, 0.45, 0.35]

CAMERAS = [
    "DC-S1 (Panasonic)",
    "DC-GH5 (Panasonic)",
    "DMC-GH4 (Panasonic)",
    "DMC-FZ1000 (Panasonic)",
    "Canon EOS 5D Mark IV (Canon)",
    "Canon EOS 5D Mark III (Canon)",
    "Canon EOS 7D (Canon)",
    "Canon EOS 600D (Canon)",
    "Canon EOS R6 (Canon)",
    "Canon PowerShot G7 X (Canon)",
    "NIKON D750 (NIKON CORPORATION)",
    "NIKON D7200 (NIKON CORPORATION)",
    "NIKON D5300 (NIKON CORPORATION)",
    "ILCE-7M3 (SONY)",
    "ILCE-7SM2 (SONY)",
    "ILCE-6400 (SONY)",
    "HDR-CX405 (SONY)",
    "PXW-Z150 (SONY)",
    "DSC-RX100M5 (SONY)",
    "iPhone 12 (Apple)",
    "iPhone 13 Pro (Apple)",
    "iPhone 8 (Apple)",
    "iPhone XR (Apple)",
    "iPhone 6s (Apple)",
    "SM-G975F (samsung)",
    "SM-A515F (samsung)",
    "Pixel 6 (Google)",
    "Redmi Note 8 (Xiaomi)",
    "ONEPLUS A6000 (OnePlus)",
    "HERO9 Black (GoPro)",
    "HERO5 Black (GoPro)",
    "FC7303 (DJI)",
    "X-T3 (FUJIFILM)",
    "X100F (FUJIFILM)",
    "E-M10MarkII (OLYMPUS CORPORATION)",
    "ZOOM H6 (Zoom)",
]

# mime type, extension, filename prefixes, median size (bytes), has exif, media kind
MEDIA = {
    "jpeg": ("image/jpeg", "JPG", ["IMG_", "DSC_", "P10", "DSCF", "_MG_"], 3_500_000, "image"),
    "cr2": ("image/x-canon-cr2", "CR2", ["IMG_", "_MG_"], 25_000_000, "image"),
    "nef": ("image/x-nikon-nef", "NEF", ["DSC_"], 24_000_000, "image"),
    "png": ("image/png", "png", ["Screenshot ", "poster_", "scan_"], 900_000, "image"),
    "heic": ("image/heic", "HEIC", ["IMG_"], 2_200_000, "image"),
    "tiff": ("image/tiff", "tif", ["scan_", "Scan "], 40_000_000, "image"),
    "mp4": ("video/mp4", "MP4", ["C", "MVI_", "GH01", "VID_"], 350_000_000, "video"),
    "mov": ("video/quicktime", "MOV", ["P10", "IMG_", "MVI_"], 500_000_000, "video"),
    "mts": ("video/mp2t", "MTS", ["000"], 800_000_000, "video"),
    "avi": ("video/x-msvideo", "AVI", ["MVI_", "clip"], 120_000_000, "video"),
    "wav": ("audio/x-wav", "WAV", ["ZOOM", "TR", "Interview_"], 60_000_000, "audio"),
    "mp3": ("audio/mpeg", "mp3", ["Track ", "Interview_", "rec_"], 6_000_000, "audio"),
    "pdf": ("application/pdf", "pdf", ["Press release ", "Script ", "Invoice "], 600_000, "doc"),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docx",
        ["Script draft ", "Notes ", "Grant proposal "],
        80_000,
        "doc",
    ),
    "doc": ("application/msword", "doc", ["Script ", "Letter "], 60_000, "doc"),
    "txt": ("text/plain", "txt", ["notes", "README", "log"], 4_000, "doc"),
    "xml": ("application/xml", "XML", ["C", "M0"], 3_000, "other"),
    "zip": ("application/zip", "zip", ["Archive ", "Backup "], 150_000_000, "other"),
    "bin": ("application/octet-stream", "bin", ["data", "index"], 200_000, "other"),
}
PROFILES = {
    "photo": {"jpeg": 70, "cr2": 12, "nef": 6, "heic": 5, "png": 3, "mp4": 2, "xml": 2},
    "video": {"mp4": 45, "mov": 20, "mts": 12, "avi": 3, "xml": 12, "jpeg": 6, "wav": 2},
    "audio": {"wav": 60, "mp3": 35, "txt": 5},
    "document": {"pdf": 40, "docx": 25, "doc": 10, "txt": 10, "jpeg": 8, "png": 5, "zip": 2},
    "mixed": {"jpeg": 40, "mp4": 15, "mov": 8, "pdf": 8, "docx": 5, "wav": 5, "mp3": 4,
              "png": 5, "cr2": 4, "zip": 2, "bin": 2, "txt": 2},
}  # fmt: skip
RESOLUTIONS = {
    "image": ["6000 x 4000", "5472 x 3648", "4032 x 3024", "3024 x 4032", "4608 x 3456"],
    "video": ["1920 x 1080", "3840 x 2160", "1280 x 720", "1440 x 1080", "720 x 576"],
}

#: Share of files that are copies of a file listed earlier (here or on another drive).
FOLDER_COPY_RATE = 0.13  # whole folders backed up elsewhere
FILE_COPY_RATE = 0.05  # single files copied around
POOL_FILES = 60_000
POOL_FOLDERS = 1_500


def format_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1024
        if round(value, 1) < 1024 or unit == "TB":
            return f"{value:.1f} {unit}"
    return f"{value:.1f} TB"


def format_timecode(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


class ArchiveGenerator:
    """Seeded, streaming: one drive's folders in memory at a time, files written as made."""

    def __init__(self, files: int, drives: int, folders: int, seed: int):
        self.files, self.drives, self.folders, self.seed = files, drives, folders, seed
        self.rng = random.Random(seed)
        #: Scanner facts of earlier files (a bounded reservoir) for single-file copies.
        self.file_pool: list[tuple] = []
        self.pool_seen = 0
        #: Earlier leaf folders' files, for whole-folder copies.
        self.folder_pool: list[list[tuple]] = []
        self.stats = {"entries": 0, "copies": 0, "folders": 0, "tiny": 0, "no_hash": 0}

    # folders ---------------------------------------------------------------------------

    def folder_tree(self) -> dict[str, dict]:
        """path -> {"depth", "children", "kind", "year"}; leaves sit at depth 3-6."""
        rng = self.rng
        budget = max(1, self.folders // self.drives)
        tree: dict[str, dict] = {"": {"depth": 0, "children": [], "kind": "mixed", "year": None}}
        while len(tree) < budget:
            target_depth = rng.choice((3, 4, 4, 5, 5, 6))
            path = ""
            for depth in range(1, target_depth + 1):
                node = tree[path]
                if node["children"] and rng.random() < REUSE[depth - 1]:
                    path = rng.choice(node["children"])
                    continue
                name = self._folder_name(depth, node, rng)
                taken = {child.rsplit("/", 1)[-1] for child in node["children"]}
                base, n = name, 2
                while name in taken:
                    name, n = f"{base} {n}", n + 1
                child = f"{path}/{name}" if path else name
                kind = TOP_FOLDERS.get(name, node["kind"]) if depth == 1 else node["kind"]
                year = node["year"]
                if year is None and name[:4].isdigit():
                    year = int(name[:4])
                tree[child] = {"depth": depth, "children": [], "kind": kind, "year": year}
                node["children"].append(child)
                path = child
        return tree

    @staticmethod
    def _folder_name(depth: int, parent: dict, rng: random.Random) -> str:
        if depth == 1:
            return rng.choice(list(TOP_FOLDERS))
        if depth == 2:
            return str(rng.randint(2008, 2025)) if rng.random() < 0.6 else rng.choice(PROJECTS)
        if depth == 3:
            year = parent["year"] or rng.randint(2008, 2025)
            return f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} {rng.choice(EVENTS)}"
        if depth == 4:
            return rng.choice(LEVEL4)
        if depth == 5:
            return rng.choice(LEVEL5)
        return rng.choice(LEVEL6)

    # files -----------------------------------------------------------------------------

    def file_counts(self, tree: dict[str, dict], total: int) -> dict[str, int]:
        """Spread ``total`` over the folders: leaves get most, lognormally."""
        rng = self.rng
        weights = {}
        for path, node in tree.items():
            leaf = not node["children"]
            if path == "":
                weights[path] = 0.3
            elif leaf:
                weights[path] = rng.lognormvariate(0, 1.1)
            else:
                weights[path] = rng.lognormvariate(0, 1.1) * 0.08
        scale = total / sum(weights.values())
        counts = {path: int(w * scale) for path, w in weights.items()}
        leaves = [p for p, n in tree.items() if not n["children"]]
        for _ in range(total - sum(counts.values())):
            counts[rng.choice(leaves)] += 1
        return counts

    def original(self, kind: str, year: int | None, used: set[str], seq: list[int]) -> tuple:
        """A new file's scanner facts: (filename, mime, size, oshash, date, dur, res, camera)."""
        rng = self.rng
        key = rng.choices(*zip(*PROFILES[kind].items(), strict=True))[0]
        mime, ext, prefixes, median, media = MEDIA[key]
        prefix = rng.choice(prefixes)
        while True:
            seq[0] += rng.randint(1, 3)
            if media in ("image", "video") or prefix.endswith("_") or prefix.isalnum():
                name = f"{prefix}{seq[0]:04d}.{ext}"
            else:
                name = f"{prefix}{seq[0]}.{ext}"
            if name not in used:
                break
        roll = rng.random()
        if roll < 0.002:
            size = 0
        elif roll < 0.004:
            size = rng.randint(1, 7)
        else:
            size = max(8, int(rng.lognormvariate(math.log(median), 0.8)))
        if size == 0:
            oshash = "0000000000000000"
        elif size < 8:
            oshash = f"{size:016x}"
        elif rng.random() < 0.0005:
            oshash = "IOError"
        else:
            oshash = f"{rng.getrandbits(64):016x}"
        date = duration = resolution = camera = None
        if media in ("image", "video"):
            d = rng.random()
            if d < 0.03:
                date = "0000:00:00 00:00:00"
            elif d < 0.85:
                y = year or rng.randint(2008, 2025)
                date = (
                    f"{y}:{rng.randint(1, 12):02d}:{rng.randint(1, 28):02d} "
                    f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
                )
                if rng.random() < 0.2:
                    date += "+05:30"
            if rng.random() < 0.8:
                camera = rng.choice(CAMERAS)
            resolution = rng.choice(RESOLUTIONS[media])
        if media in ("video", "audio") and size:
            duration = round(rng.lognormvariate(math.log(90), 1.0), 3)
        return (name, mime, size, oshash, date, duration, resolution, camera)

    def drive_entries(self, drive_index: int, total: int) -> Iterator[dict]:
        rng = self.rng
        tree = self.folder_tree()
        self.stats["folders"] += len(tree)
        counts = self.file_counts(tree, total)
        for path, node in tree.items():
            count = counts[path]
            if not count:
                continue
            used: set[str] = set()
            seq = [rng.randint(0, 8000)]
            facts: list[tuple] = []
            copy_from: list[tuple] = []
            if node["depth"] >= 3 and self.folder_pool and rng.random() < FOLDER_COPY_RATE:
                copy_from = rng.choice(self.folder_pool)
            for i in range(count):
                if i < len(copy_from):
                    fact, copied = copy_from[i], True
                elif self.file_pool and rng.random() < FILE_COPY_RATE:
                    fact, copied = rng.choice(self.file_pool), True
                else:
                    fact, copied = self.original(node["kind"], node["year"], used, seq), False
                name = fact[0]
                if name in used:  # a copy landing next to a namesake: "IMG_0001 (1).JPG"
                    stem, dot, ext = name.rpartition(".")
                    n = 1
                    while name in used:
                        name = f"{stem} ({n}).{ext}" if dot else f"{name} ({n})"
                        n += 1
                used.add(name)
                facts.append(fact)
                self.stats["copies"] += copied
                yield self.entry(path, name, fact)
                self._remember(fact)
            if node["depth"] >= 3 and not node["children"] and not copy_from:
                if len(self.folder_pool) < POOL_FOLDERS:
                    self.folder_pool.append(facts)
                elif rng.random() < 0.05:
                    self.folder_pool[rng.randrange(POOL_FOLDERS)] = facts

    def _remember(self, fact: tuple) -> None:
        self.pool_seen += 1
        if len(self.file_pool) < POOL_FILES:
            self.file_pool.append(fact)
        else:
            slot = self.rng.randrange(self.pool_seen)
            if slot < POOL_FILES:
                self.file_pool[slot] = fact

    def entry(self, path: str, filename: str, fact: tuple) -> dict:
        _, mime, size, oshash, date, duration, resolution, camera = fact
        self.stats["entries"] += 1
        self.stats["tiny"] += size < 8
        self.stats["no_hash"] += oshash == "IOError"
        return {
            "path": path,
            "filename": filename,
            "file_type": mime,
            "oshash": oshash,
            "size_exif": size,
            "size_pretty": format_size(size),
            "date_exif": date,
            "duration": duration,
            "duration_tc": format_timecode(duration) if duration is not None else None,
            "resolution": resolution,
            "camera": camera,
        }


def manifest_dir(args) -> Path:
    name = f"f{args.files}-d{args.drives}-F{args.folders}-s{args.seed}-v{GENERATOR_VERSION}"
    return args.workdir / "manifests" / name


def manifest_paths(args) -> list[Path]:
    return [
        manifest_dir(args) / f"Drive{i + 1:02d}_{MANIFEST_DAY}.json" for i in range(args.drives)
    ]


def step_generate(args, results: "Results") -> None:
    out = manifest_dir(args)
    params = {
        "files": args.files,
        "drives": args.drives,
        "folders": args.folders,
        "seed": args.seed,
        "version": GENERATOR_VERSION,
    }
    done = out / "params.json"
    if done.exists() and json.loads(done.read_text()).get("params") == params:
        stats = json.loads(done.read_text())["stats"]
        print(f"generate: cached manifests in {out} ({stats['entries']:,} entries)")
    else:
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        gen = ArchiveGenerator(args.files, args.drives, args.folders, args.seed)
        started = time.perf_counter()
        per_drive = [args.files // args.drives] * args.drives
        for i in range(args.files % args.drives):
            per_drive[i] += 1
        for i, (path, count) in enumerate(zip(manifest_paths(args), per_drive, strict=True)):
            tmp = path.with_suffix(".json.tmp")
            with tmp.open("w", encoding="utf-8", newline="\n") as fh:
                fh.write("[")
                for n, entry in enumerate(gen.drive_entries(i, count)):
                    fh.write(",\n" if n else "\n")
                    fh.write(json.dumps(entry, ensure_ascii=False))
                fh.write("\n]\n")
            tmp.replace(path)
            print(f"generate: {path.name} ({count:,} entries)", flush=True)
        stats = dict(gen.stats, seconds=round(time.perf_counter() - started, 1))
        stats["copy_rate"] = round(stats["copies"] / max(1, stats["entries"]), 4)
        done.write_text(json.dumps({"params": params, "stats": stats}, indent=2))
        print(f"generate: {stats}")
    size = sum(p.stat().st_size for p in manifest_paths(args))
    results.info["manifests"] = {
        "dir": str(out),
        "bytes": size,
        "generator": stats,
    }


# --- measurement helpers --------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def capture_queries():
    """CaptureQueriesContext on an emptied log: with DEBUG on, the log is a 9,000-entry
    deque, and once it is full the context's before/after indexes count nothing."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    reset_queries()
    return CaptureQueriesContext(connection)


#: This process's CPU time of every ``timed`` call, in ms. On SQLite all the work is in
#: this process, so CPU time shows the cost even when a busy machine stretches wall time.
CPU_MS: list[float] = []


def timed(fn: Callable[[], object]) -> float:
    """Wall milliseconds of one call (its CPU milliseconds go to ``CPU_MS``)."""
    cpu, started = time.process_time(), time.perf_counter()
    fn()
    wall = (time.perf_counter() - started) * 1000
    CPU_MS.append((time.process_time() - cpu) * 1000)
    return wall


def cpu_note(since: int) -> str:
    """ "CPU p50/p95" of the ``timed`` calls since index ``since`` (client side only on PG)."""
    cpu = CPU_MS[since:]
    return f"CPU p50/p95 {percentile(cpu, 50):.2f}/{percentile(cpu, 95):.2f} ms"


class Results:
    def __init__(self, args, bench_cmd: str):
        self.args = args
        self.bench_cmd = bench_cmd
        self.figures: list[dict] = []
        self.commands: list[str] = []
        self.info: dict = {}
        self.notes: list[str] = []
        self.explains: dict[str, str] = {}

    def cmd_ref(self, cmd: str | None) -> int:
        cmd = cmd or self.bench_cmd
        if cmd not in self.commands:
            self.commands.append(cmd)
        return self.commands.index(cmd) + 1

    def add(self, name, value, unit, *, target=None, cmd=None, detail=None) -> dict:
        figure = {"name": name, "value": value, "unit": unit, "cmd": self.cmd_ref(cmd)}
        # The machine may be shared: keep the load next to every figure.
        figure["loadavg_1m"] = round(os.getloadavg()[0], 2)
        if target:
            op, limit, _ = TARGETS[target]
            ok = {">=": value >= limit, "<": value < limit, "<=": value <= limit}[op]
            figure.update(target=f"{op} {limit:g} {TARGETS[target][2]}", ok=ok)
        if detail:
            figure["detail"] = detail
        self.figures.append(figure)
        mark = "" if "ok" not in figure else ("  OK" if figure["ok"] else "  MISSED")
        print(f"  {name}: {fmt(value)} {unit}{mark}", flush=True)
        return figure

    def note(self, text: str) -> None:
        print(f"NOTE: {text}", flush=True)
        self.notes.append(text)

    def write(self) -> Path:
        path = self.args.workdir / f"results-{self.args.database}.json"
        payload = {
            "database": self.args.database,
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "bench_command": self.bench_cmd,
            "figures": self.figures,
            "commands": {str(i + 1): c for i, c in enumerate(self.commands)},
            "info": self.info,
            "notes": self.notes,
            "explain": self.explains,
        }
        path.write_text(json.dumps(payload, indent=2, default=str))
        return path

    def table(self) -> str:
        rows = [("figure", "value", "target", "", "cmd")]
        for f in self.figures:
            rows.append(
                (
                    f["name"],
                    f"{fmt(f['value'])} {f['unit']}",
                    f.get("target", ""),
                    "" if "ok" not in f else ("ok" if f["ok"] else "MISSED"),
                    f"[{f['cmd']}]",
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        lines = []
        for n, row in enumerate(rows):
            lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
            if n == 0:
                lines.append("  ".join("-" * w for w in widths))
        lines.append("")
        lines.extend(f"[{i + 1}] {c}" for i, c in enumerate(self.commands))
        return "\n".join(lines)


def fmt(value) -> str:
    if isinstance(value, float):
        if value >= 1000:
            return f"{value:,.0f}"
        return f"{value:.3g}" if value < 10 else f"{value:.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


# --- database -------------------------------------------------------------------------


def configure_environment(args) -> dict[str, str]:
    """Point this process (before django.setup) and its children at the bench database."""
    env = {"DJANGO_SETTINGS_MODULE": SETTINGS}
    if args.database == "sqlite":
        env["PHS_VAR_DIR"] = str(args.workdir.resolve() / "var-sqlite")
        os.environ.pop("DATABASE_URL", None)
    else:
        env["DATABASE_URL"] = PG_DSN.format(db=PG_DB)
    os.environ.update(env)
    return env


def env_prefix(env: dict[str, str]) -> str:
    return " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())


def recreate_database(args) -> None:
    from django.db import connections

    connections.close_all()
    if args.database == "sqlite":
        var = Path(os.environ["PHS_VAR_DIR"])
        var.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                (var / f"phs.sqlite3{suffix}").unlink()
    else:
        import psycopg

        with psycopg.connect(PG_DSN.format(db="postgres"), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {PG_DB}")


def db_stats_state(args) -> dict:
    """Has the planner got statistics for the file table?"""
    from django.db import connection

    with connection.cursor() as cursor:
        if args.database == "postgres":
            cursor.execute(
                "SELECT last_analyze, last_autoanalyze, n_mod_since_analyze, "
                "last_vacuum, last_autovacuum, n_live_tup FROM pg_stat_user_tables "
                "WHERE relname = 'catalog_fileentry'"
            )
            row = cursor.fetchone()
            cols = ["last_analyze", "last_autoanalyze", "n_mod_since_analyze"]
            cols += ["last_vacuum", "last_autovacuum", "n_live_tup"]
            return dict(zip(cols, row, strict=True)) if row else {}
        cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if not cursor.fetchone():
            return {"sqlite_stat1": False}
        cursor.execute("SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = 'catalog_fileentry'")
        return {"sqlite_stat1": True, "fileentry_stat_rows": cursor.fetchone()[0]}


def run_analyze(args, results: Results) -> None:
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    results.add(f"ANALYZE (whole database, {args.database})", time.perf_counter() - started, "s")


def run_vacuum(args, results: Results) -> None:
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE catalog_fileentry")
    results.add("VACUUM ANALYZE catalog_fileentry", time.perf_counter() - started, "s")


# --- child processes ------------------------------------------------------------------

TIME_RSS_RE = re.compile(r"Maximum resident set size \(kbytes\): (\d+)")
TIME_CPU_RE = re.compile(r"(?:User|System) time \(seconds\): ([\d.]+)")
IMPORT_RE = re.compile(
    r"drive (?P<drive>\S+)(?: \(new\))?: (?P<entries>[\d,]+) entries, (?P<created>[\d,]+) "
    r"created, (?P<updated>[\d,]+) updated, (?P<unchanged>[\d,]+) unchanged, "
    r"(?P<skipped>[\d,]+) skipped; (?P<folders>[\d,]+) folders; (?P<secs>[\d.]+)s "
    r"\((?P<rate>[\d,]+) entries/s\)"
)


def run_child(argv: list[str], env: dict[str, str], *, allow_fail: bool = False) -> dict:
    """Run ``manage.py …`` under /usr/bin/time -v; return wall time, peak RSS, output."""
    timer = ["/usr/bin/time", "-v"] if Path("/usr/bin/time").exists() else []
    frozen = ["-c", FROZEN_MANAGE] if APP != REPO else []
    full = [*timer, PYTHON, *frozen, str(APP / "manage.py"), *argv]
    rel = [*timer, _python_for(APP), *frozen, "manage.py", *argv]
    before = _children_maxrss()
    started = time.perf_counter()
    proc = subprocess.run(
        full, cwd=APP, env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    if proc.returncode and allow_fail:
        return {"returncode": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr}
    if proc.returncode:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"child failed ({proc.returncode}): {shlex.join(full)}")
    match = TIME_RSS_RE.search(proc.stderr)
    # Without /usr/bin/time: the children's high-water mark, if this child raised it.
    peak_kb = int(match.group(1)) if match else max(_children_maxrss(), before)
    cpu = sum(float(v) for v in TIME_CPU_RE.findall(proc.stderr)) or None
    return {
        "returncode": 0,
        "cmd": f"cd {APP} && {env_prefix(env)} {shlex.join(rel)}",
        "wall": wall,
        "cpu": cpu,
        "peak_mb": peak_kb / 1024,
        "stdout": proc.stdout,
        "stderr": proc.stderr,
    }


#: ``python -c FROZEN_MANAGE manage.py …``: manage.py without the venv's editable-install
#: finder, which would otherwise serve modules missing from a frozen copy from this tree.
FROZEN_MANAGE = (
    "import runpy, sys; "
    "sys.meta_path[:] = [f for f in sys.meta_path if '__editable__' not in "
    "getattr(f, '__module__', '')]; "
    "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
)


def strip_editable_finders() -> None:
    """In this process: import the project only from ``APP``, never from the editable
    install's mapping to this working tree (a frozen copy lacks newer modules)."""
    sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in _module_of(f)]
    sys.path_hooks[:] = [h for h in sys.path_hooks if "__editable__" not in _module_of(h)]
    sys.path_importer_cache.clear()


def _module_of(obj) -> str:
    return getattr(obj, "__module__", "") or ""


def _python_for(cwd: Path) -> str:
    """The interpreter as a command line run from ``cwd`` would name it."""
    return os.path.relpath(PYTHON, cwd) if Path(PYTHON).is_relative_to(cwd) else PYTHON


def _children_maxrss() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def import_all(args, results: Results, env: dict, label: str, extra: list[str]) -> None:
    from django.db import connections

    connections.close_all()  # the children write; hold no connection meanwhile
    if system_checks_fail(args, results, env):
        extra = [*extra, "--skip-checks"]
    per_drive = []
    for path in manifest_paths(args):
        rel = str(path.resolve())
        if path.resolve().is_relative_to(APP):
            rel = os.path.relpath(path.resolve(), APP)
        child = run_child(["import_json", rel, *extra], env)
        match = IMPORT_RE.search(child["stdout"])
        if not match:
            sys.stderr.write(child["stdout"] + child["stderr"])
            raise SystemExit(f"cannot read the import summary of {rel}")
        got = {
            k: int(v.replace(",", ""))
            for k, v in match.groupdict().items()
            if k not in ("drive", "secs")
        }
        # The command prints its rate from the unrounded elapsed time: recover that.
        secs = got["entries"] / got["rate"] if got["rate"] else float(match["secs"])
        row = {
            "drive": match["drive"],
            "entries": got["entries"],
            "created": got["created"],
            "updated": got["updated"],
            "unchanged": got["unchanged"],
            "import_s": secs,
            "wall_s": child["wall"],
            "child_cpu_s": child["cpu"],
            "peak_mb": child["peak_mb"],
            "cmd": child["cmd"],
        }
        per_drive.append(row)
        print(
            f"  {label} {row['drive']}: {row['entries']:,} entries "
            f"({row['created']:,} created, {row['updated']:,} updated) in {secs:.2f}s "
            f"= {row['entries'] / secs:,.0f} rows/s; wall {child['wall']:.2f}s; "
            f"peak RSS {child['peak_mb']:.0f} MB",
            flush=True,
        )
    entries = sum(r["entries"] for r in per_drive)
    secs = sum(r["import_s"] for r in per_drive)
    wall = sum(r["wall_s"] for r in per_drive)
    rates = [r["entries"] / r["import_s"] for r in per_drive]
    cmd = per_drive[0]["cmd"].replace(os.path.basename(manifest_paths(args)[0]), "DriveNN_*.json")
    cmd += f"   (once per manifest, {len(per_drive)} runs)"
    results.add(
        f"{label} rate, total ({entries:,} rows, {secs:.1f}s in import_manifest)",
        entries / secs,
        "rows/s",
        target="import_rate",
        cmd=cmd,
        detail={"per_drive": per_drive},
    )
    results.add(
        f"{label} rate per drive, min / median / max",
        f"{min(rates):,.0f} / {statistics.median(rates):,.0f} / {max(rates):,.0f}",
        "rows/s",
        cmd=cmd,
    )
    results.add(
        f"{label} rate incl. process start-up (wall {wall:.1f}s)", entries / wall, "rows/s", cmd=cmd
    )
    cpu = [r["child_cpu_s"] for r in per_drive]
    if all(cpu):
        # Robust to a busy machine; on PostgreSQL it leaves out the server's own CPU.
        results.add(
            f"{label} rows per CPU-second of the child (user+sys {sum(cpu):.1f}s, incl. start-up)",
            entries / sum(cpu),
            "rows/s",
            cmd=cmd,
        )
    baseline = results.info.get("baseline_rss_mb")
    peak = max(r["peak_mb"] for r in per_drive)
    if baseline is not None:
        results.add(
            f"{label} peak RSS above baseline (peak {peak:.0f} MB, baseline {baseline:.0f} MB)",
            peak - baseline,
            "MB",
            target="import_memory",
            cmd=cmd,
        )
    else:
        results.add(f"{label} peak RSS (no baseline measured)", peak, "MB", cmd=cmd)
    results.info[f"{label}_per_drive"] = per_drive


# --- steps ----------------------------------------------------------------------------


def system_checks_fail(args, results: Results, env: dict) -> bool:
    """Does ``manage.py check`` fail with these settings? Then the import children need
    ``--skip-checks`` (every command but a few runs the checks first) and say so."""
    if not hasattr(args, "checks_fail"):
        child = run_child(["check"], env, allow_fail=True)
        args.checks_fail = child["returncode"] != 0
        if args.checks_fail:
            errors = [line for line in child["stderr"].splitlines() if ": (" in line]
            results.note(
                f"`manage.py check` fails on {args.database} with {SETTINGS}, so "
                "`import_json` refuses to run; the import children get --skip-checks and the "
                "baseline is `manage.py shell -c pass`. Errors: " + "; ".join(errors[:6])
            )
    return args.checks_fail


def step_import(args, results: Results, env: dict) -> None:
    from django.core.management import call_command

    recreate_database(args)
    call_command("migrate", verbosity=0)
    where = (
        os.environ["PHS_VAR_DIR"] + "/phs.sqlite3"
        if args.database == "sqlite"
        else PG_DSN.format(db=PG_DB)
    )
    print(f"import: fresh database {where}, migrated", flush=True)
    baseline = ["shell", "-c", "pass"] if system_checks_fail(args, results, env) else ["check"]
    base = run_child(baseline, env)
    results.info["baseline_rss_mb"] = base["peak_mb"]
    results.add(
        f"baseline child peak RSS (manage.py {' '.join(baseline)})",
        base["peak_mb"],
        "MB",
        cmd=base["cmd"],
    )
    import_all(args, results, env, "fresh import", [])
    results.info["stats_after_import"] = db_stats_state(args)


def step_reimport(args, results: Results, env: dict) -> None:
    import_all(args, results, env, "re-import (unchanged)", [])
    import_all(args, results, env, "re-import --update (unchanged)", ["--update"])
    updated = sum(r["updated"] for r in results.info["re-import --update (unchanged)_per_drive"])
    if updated:
        results.note(
            f"import_json --update of unchanged manifests reported {updated:,} updated rows "
            "(expected 0)"
        )


def step_duplicates(args, results: Results) -> None:
    from catalog.models import DuplicateGroup, FileEntry
    from catalog.services.duplicates import update_duplicates

    cmd_base = results.bench_cmd
    for label, kwargs in (
        ("update_duplicates() first run", {}),
        ("update_duplicates(reset=True)", {"reset": True}),
        ("update_duplicates() incremental, no changes", {}),
    ):
        with capture_queries() as ctx:
            started = time.perf_counter()
            result = update_duplicates(**kwargs)
            secs = time.perf_counter() - started
        # Where the time goes: the slowest statements of this run.
        slow = sorted(ctx.captured_queries, key=lambda q: -float(q["time"]))[:6]
        results.explains[f"{label}: slowest statements"] = "\n".join(
            f"{float(q['time']):7.2f} s  {' '.join(q['sql'].split())[:400]}" for q in slow
        )
        results.add(
            f"{label} ({result.groups:,} groups, {result.files:,} files)",
            secs,
            "s",
            target="duplicates_reset" if kwargs.get("reset") else None,
            cmd=cmd_base,
        )
    total = FileEntry.objects.count()
    grouped = FileEntry.objects.filter(duplicate_group__isnull=False).count()
    results.info["duplicates"] = {
        "files": total,
        "files_in_groups": grouped,
        "share_in_groups": round(grouped / max(1, total), 4),
        "groups": DuplicateGroup.objects.count(),
    }
    print(f"  duplicates: {results.info['duplicates']}")


def _phases(args, results: Results, measure: Callable[[str], None]) -> None:
    """Measure with statistics as they are, ANALYZE, measure again."""
    state = db_stats_state(args)
    results.info.setdefault("stats_state", []).append(state)
    measure("as imported")
    run_analyze(args, results)
    measure("after ANALYZE")


def step_folders(args, results: Results) -> None:
    from catalog.models import Drive, Folder
    from catalog.selectors import folder_listing

    rng = random.Random(args.seed + 1)
    drives = list(Drive.objects.values_list("id", flat=True))
    leaves = list(
        Folder.objects.filter(children__isnull=True, depth__gte=3).values_list("drive_id", "path")
    )
    root_calls = [(rng.choice(drives), "") for _ in range(args.samples)]
    leaf_calls = rng.sample(leaves, min(args.samples, len(leaves)))

    def measure(phase: str) -> None:
        for label, calls in (("drive root", root_calls), ("leaf folder", leaf_calls)):
            for drive_id, path in calls:  # warm
                folder_listing(drive_id, path)
            mark = len(CPU_MS)
            times = [timed(lambda d=d, p=p: folder_listing(d, p)) for d, p in calls]
            cpu = cpu_note(mark)
            with capture_queries() as ctx:
                listing = folder_listing(*calls[0])
            detail = {
                "p50_ms": percentile(times, 50),
                "max_ms": max(times),
                "calls": len(times),
                "queries_per_call": len(ctx.captured_queries),
                "example": {"files": len(listing.files), "subfolders": len(listing.subfolders)},
            }
            results.add(
                f"folder_listing p95, {label} ({phase}; p50 {detail['p50_ms']:.2f} ms, {cpu}, "
                f"{len(ctx.captured_queries)} queries/call, {len(times)} folders)",
                percentile(times, 95),
                "ms",
                target="folder_listing_p95",
                detail=detail,
            )
        if phase == "after ANALYZE":
            drive_id, path = leaf_calls[0]
            from catalog.models import FileEntry

            qs = FileEntry.objects.filter(drive_id=drive_id, path=path).order_by("filename")[:200]
            results.explains["folder_listing files page (leaf)"] = explain(args, qs)

    _phases(args, results, measure)


def explain(args, qs) -> str:
    if args.database == "postgres":
        return qs.explain(analyze=True, buffers=True)
    return qs.explain()


def set_statuses(args, results: Results) -> None:
    """~20% of files get a curator status (deterministic by id), then the folder counts."""
    from django.db import connection

    from catalog.models import Drive
    from catalog.services.folders import recount_folders

    bucket = "((id * 2654435761) % 1000)"
    case = (
        f"CASE WHEN {bucket} < 80 THEN 'upload' WHEN {bucket} < 130 THEN 'discard' "
        f"WHEN {bucket} < 160 THEN 'keep_offline' WHEN {bucket} < 180 THEN 'restricted' "
        "ELSE 'needs_attention' END"
    )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE catalog_fileentry SET status = {case} "
            f"WHERE {bucket} < 200 AND status = 'unreviewed'"
        )
        changed = cursor.rowcount
    results.add(f"set-based status UPDATE ({changed:,} rows)", time.perf_counter() - started, "s")
    started = time.perf_counter()
    for drive in Drive.objects.all():
        recount_folders(drive)
    results.add("recount_folders, all drives", time.perf_counter() - started, "s")


def step_listing(args, results: Results) -> None:
    from catalog.models import Drive, FileEntry

    set_statuses(args, results)
    rng = random.Random(args.seed + 2)
    drives = list(Drive.objects.values_list("id", flat=True))
    counts = {
        (d, s): FileEntry.objects.filter(drive_id=d, status=s).count()
        for d in drives
        for s in STATUSES
    }
    samples = []
    for i in range(args.samples):
        drive_id, status = rng.choice(drives), rng.choice(STATUSES)
        total = counts[(drive_id, status)]
        kind = ("first", "shallow", "deep")[i % 3]
        offset = {
            "first": 0,
            "shallow": rng.randrange(0, 10) * 50,
            "deep": (total // 2) // 50 * 50,
        }[kind]
        samples.append((drive_id, status, offset, kind))

    from catalog.selectors import IdFirstPaginator, root_folder_count

    def paginator(drive_id, status):
        """As the file listing pages: the total from the drive's root folder counters
        (``FileViewSet.count_from_folders``), then a page's ids first from the ordering
        index and their rows by primary key (``IdFirstPaginator``)."""
        qs = FileEntry.objects.filter(drive=drive_id, status=status).order_by("path", "filename")
        pages = IdFirstPaginator(qs, 50)
        pages.__dict__["count"] = root_folder_count(drive=Drive(pk=drive_id), statuses=[status])
        return pages

    def page(drive_id, status, offset):
        pages = paginator(drive_id, status)
        return list(pages.page(offset // 50 + 1)), pages.count

    def plain_page(drive_id, status, offset):
        """The naive reads, for reference: full rows at an OFFSET and a COUNT(*)."""
        qs = FileEntry.objects.filter(drive=drive_id, status=status)
        rows = list(qs.order_by("path", "filename")[offset : offset + 50])
        return rows, qs.count()

    def measure(phase: str) -> None:
        for s in samples:  # warm
            page(*s[:3])
        times = {"first": [], "shallow": [], "deep": []}
        mark = len(CPU_MS)
        for drive_id, status, offset, kind in samples:
            times[kind].append(timed(lambda d=drive_id, s=status, o=offset: page(d, s, o)))
        every = [t for ts in times.values() for t in ts]
        with capture_queries() as ctx:
            page(*samples[0][:3])
        per_kind = {k: round(percentile(v, 95), 2) for k, v in times.items()}
        results.add(
            f"filtered page+count p95 ({phase}; p50 {percentile(every, 50):.2f} ms, "
            f"{cpu_note(mark)}, {len(ctx.captured_queries)} queries, {len(every)} pages)",
            percentile(every, 95),
            "ms",
            target="filtered_listing_p95",
            detail={"p95_by_kind_ms": per_kind},
        )
        results.add(
            f"filtered page+count p95, deep pages only ({phase}; offset ~50%)",
            percentile(times["deep"], 95),
            "ms",
            target="filtered_listing_p95",
        )
        plain = [timed(lambda d=d, s=st, o=o: plain_page(d, s, o)) for d, st, o, _ in samples]
        results.add(
            f"  for reference: full rows at OFFSET + COUNT(*) p95 ({phase}; p50 "
            f"{percentile(plain, 50):.2f} ms)",
            percentile(plain, 95),
            "ms",
        )
        # Which half is slow: the page or the count?
        deep = [s for s in samples if s[3] == "deep"]
        pagers = [(paginator(d, st), o) for d, st, o, _ in deep]  # counts read here
        page_t = [timed(lambda p=p, o=o: list(p.page(o // 50 + 1))) for p, o in pagers]
        count_t = [
            timed(lambda d=d, s=st: root_folder_count(drive=Drive(pk=d), statuses=[s]))
            for d, st, _, _ in deep
        ]
        results.add(f"  of which deep page alone p95 ({phase})", percentile(page_t, 95), "ms")
        results.add(
            f"  of which count alone p95 ({phase}, deep samples)", percentile(count_t, 95), "ms"
        )
        # The slowest sample's plan.
        worst = max(deep, key=lambda s: counts[(s[0], s[1])])
        qs = FileEntry.objects.filter(drive=worst[0], status=worst[1])
        key = f"{phase}: deep page drive={worst[0]} status={worst[1]} offset={worst[2]}"
        results.explains[key] = explain(
            args, qs.order_by("path", "filename")[worst[2] : worst[2] + 50]
        )
        results.explains[f"{phase}: count drive={worst[0]} status={worst[1]}"] = _explain_count(
            args, qs
        )

    _phases(args, results, measure)
    if args.database == "postgres":
        # 20% of the rows just changed: until autovacuum has been through (the file table
        # is vacuumed after 2% of its rows change, catalog.0009), index-only reads check
        # the heap. Measure the state it leaves too.
        run_vacuum(args, results)
        measure("after VACUUM ANALYZE")


def _explain_count(args, qs) -> str:
    from django.db import connection

    sql, params = qs.values("id").query.sql_with_params()
    prefix = "EXPLAIN (ANALYZE, BUFFERS)" if args.database == "postgres" else "EXPLAIN QUERY PLAN"
    with connection.cursor() as cursor:
        cursor.execute(f"{prefix} SELECT COUNT(*) FROM ({sql}) q", params)
        return "\n".join(" ".join(str(c) for c in row) for row in cursor.fetchall())


def step_snippet(args, results: Results) -> None:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from catalog.models import Drive, FileEntry

    user_model = get_user_model()
    user = user_model.objects.filter(username="bench").first()
    if user is None:
        user = user_model.objects.create_superuser("bench", "bench@example.com", "bench")
    client = Client(SERVER_NAME="localhost")
    client.force_login(user)
    first = client.get(SNIPPET_URL)
    if first.status_code == 404:
        results.note(f"snippet step skipped: GET {SNIPPET_URL} returned 404 (no viewset yet)")
        return
    if first.status_code != 200:
        results.note(f"snippet step skipped: GET {SNIPPET_URL} returned {first.status_code}")
        return
    drive = Drive.objects.order_by("name").first()
    per_page = _per_page()
    deep_page = max(1, FileEntry.objects.count() // per_page // 2)
    rng = random.Random(args.seed + 3)
    drive_ids = list(Drive.objects.values_list("id", flat=True))
    variants = {
        "default": [SNIPPET_URL] * args.requests,
        "drive+status=upload": [
            f"{SNIPPET_URL}?drive={rng.choice(drive_ids)}&status=upload"
            for _ in range(args.requests)
        ],
        f"deep page ?p={deep_page}": [f"{SNIPPET_URL}?p={deep_page}"] * args.requests,
        # Not in the brief: the curators' everyday "unreviewed only", across all drives.
        "status=unreviewed (all drives)": [f"{SNIPPET_URL}?status=unreviewed"] * args.requests,
    }
    results.info["snippet"] = {"per_page": per_page, "deep_page": deep_page, "drive": drive.id}
    for label, urls in variants.items():
        response = client.get(urls[0])
        if response.status_code != 200:
            results.note(f"snippet {label}: GET {urls[0]} returned {response.status_code}")
            continue
        times = []
        mark = len(CPU_MS)
        for url in urls:
            holder = {}
            times.append(timed(lambda u=url, h=holder: h.setdefault("r", client.get(u))))
            assert holder["r"].status_code == 200, (url, holder["r"].status_code)
        with capture_queries() as ctx:
            client.get(urls[0])
        slow = sorted(ctx.captured_queries, key=lambda q: -float(q["time"]))[:3]
        results.explains[f"snippet {label}: slowest queries"] = "\n".join(
            f"{float(q['time']) * 1000:.1f} ms  {q['sql'][:600]}" for q in slow
        )
        results.add(
            f"snippet listing p95, {label} (p50 {percentile(times, 50):.0f} ms, "
            f"{cpu_note(mark)}, {len(ctx.captured_queries)} queries)",
            percentile(times, 95),
            "ms",
            target="snippet_p95",
            detail={"urls": urls[:3], "slowest_queries": slow},
        )


def _per_page() -> int:
    """The snippet viewset's page size (Wagtail's ``list_per_page``, 20 by default)."""
    from catalog.models import FileEntry

    viewset = getattr(FileEntry, "snippet_viewset", None)
    return int(getattr(viewset, "list_per_page", 0) or 20)


def step_oshash(args, results: Results) -> None:
    script = REPO / "bench" / "bench_oshash.py"
    if not script.exists():
        results.note("bench/bench_oshash.py does not exist; no oshash figures")
        return
    cmd = [PYTHON, str(script)]
    rel = f"cd {REPO} && {os.path.relpath(PYTHON, REPO)} bench/bench_oshash.py"
    started = time.perf_counter()
    proc = subprocess.run(
        cmd, cwd=REPO, capture_output=True, text=True, check=False, timeout=args.oshash_timeout
    )
    results.info["oshash"] = {
        "cmd": rel,
        "returncode": proc.returncode,
        "seconds": round(time.perf_counter() - started, 1),
        "stdout": proc.stdout,
        "stderr": proc.stderr[-4000:],
    }
    results.cmd_ref(rel)
    print(f"oshash ({rel}) exited {proc.returncode}:\n{proc.stdout}{proc.stderr[-2000:]}")


# --- main -----------------------------------------------------------------------------


def git_state() -> dict:
    """Which code was measured: HEAD plus the files changed in the working tree (read-only)."""

    def git(*argv: str) -> str:
        proc = subprocess.run(["git", *argv], cwd=REPO, capture_output=True, text=True)
        return proc.stdout.strip()

    state = {"head": git("rev-parse", "HEAD"), "dirty": git("status", "--short").splitlines()}
    if APP != REPO:
        note = APP / "SNAPSHOT.txt"
        state["app_dir"] = str(APP)
        state["app_snapshot"] = note.read_text() if note.exists() else "(no SNAPSHOT.txt)"
    return state


def parse_args(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=1_000_000)
    parser.add_argument("--drives", type=int, default=10)
    parser.add_argument(
        "--folders", type=int, default=None, help="Total folders (default: files / 20)."
    )
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--workdir", type=Path, default=Path("bench/out"))
    parser.add_argument("--steps", default=",".join(ALL_STEPS))
    parser.add_argument("--seed", type=int, default=20260124)
    parser.add_argument("--samples", type=int, default=200, help="Calls per listing measurement.")
    parser.add_argument("--requests", type=int, default=30, help="Requests per snippet URL.")
    parser.add_argument("--oshash-timeout", type=int, default=900)
    parser.add_argument(
        "--app-dir",
        type=Path,
        default=None,
        help="Measure a frozen copy of the project (e.g. from `git archive`) instead of this "
        "working tree, which others may be editing; the venv and bench/ stay these.",
    )
    args = parser.parse_args(argv)
    args.folders = args.folders or max(args.drives, args.files // 20)
    args.steps = [s.strip() for s in args.steps.split(",") if s.strip()]
    unknown = set(args.steps) - set(ALL_STEPS)
    if unknown:
        parser.error(f"unknown steps: {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> None:
    global APP
    args = parse_args(argv)
    os.chdir(REPO)
    if args.app_dir:
        APP = args.app_dir.resolve()
    args.workdir.mkdir(parents=True, exist_ok=True)
    bench_cmd = f"cd {REPO} && {os.path.relpath(PYTHON, REPO)} bench/catalog_bench.py " + (
        shlex.join(sys.argv[1:] if argv is None else argv)
    )
    results = Results(args, bench_cmd.rstrip())
    results.info["args"] = {k: str(v) for k, v in vars(args).items()}
    results.info["git"] = git_state()
    env = configure_environment(args)
    print(f"bench: {results.bench_cmd}\n  database env: {env_prefix(env)}", flush=True)

    if "generate" in args.steps or any(s in args.steps for s in ("import", "reimport")):
        step_generate(args, results)

    import django

    sys.path.insert(0, str(APP))
    if APP != REPO:
        strip_editable_finders()
    django.setup()

    steps: dict[str, Callable[[], None]] = {
        "import": lambda: step_import(args, results, env),
        "reimport": lambda: step_reimport(args, results, env),
        "duplicates": lambda: step_duplicates(args, results),
        "folders": lambda: step_folders(args, results),
        "listing": lambda: step_listing(args, results),
        "snippet": lambda: step_snippet(args, results),
        "oshash": lambda: step_oshash(args, results),
    }
    for name in ALL_STEPS[1:]:
        if name in args.steps:
            print(f"\n== {name} ==", flush=True)
            started = time.perf_counter()
            steps[name]()
            results.info.setdefault("step_seconds", {})[name] = round(
                time.perf_counter() - started, 1
            )
            results.write()

    if not results.figures:
        return
    path = results.write()
    print(f"\n== results ({args.database}, {args.files:,} files, {args.drives} drives) ==")
    print(results.table())
    for title, plan in results.explains.items():
        print(f"\n-- plan: {title}\n{plan}")
    if results.notes:
        print("\nnotes:\n" + "\n".join(f"- {n}" for n in results.notes))
    if "oshash" in results.info:
        print(f"\n-- bench_oshash.py output ({results.info['oshash']['cmd']}):")
        print(results.info["oshash"]["stdout"])
    print(f"\nwritten: {path}")


if __name__ == "__main__":
    main()
