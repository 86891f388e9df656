#!/usr/bin/env python
"""Upload benchmark: pandora_client's encoding speed, and chunked upload throughput to the
local pan.do/ra test server.

Run from the repository root::

    .venv/bin/python bench/bench_upload.py [--seconds 30] [--size 640x360]
        [--upload-mb 100] [--chunk-mb 5] [--repeat 3] [--workdir bench/out]

1. **Encode**: ffmpeg makes a ``--seconds`` clip (``testsrc`` + a sine tone, H.264/AAC,
   ``--size``); ``pandora_client.encode`` turns it into each pad.ma profile (two-pass
   VP8 + Vorbis, ``240p.webm`` and ``480p.webm``), exactly as ``upload_padma`` does.
   Figure: seconds of media encoded per wall-clock second.
2. **Upload**: ``bench/padma_server.py`` runs the test server in its own process (no GIL
   shared with the client); ``UploadAPI.upload_chunks`` (pandora_client's, through
   ``workflow.export.upload.client``) sends ``--upload-mb`` of bytes in ``--chunk-mb``
   chunks, ``--repeat`` times. Figure: MB/s, and the server's reassembled size is checked.
   Loopback: the figure is the client's and protocol's ceiling, not pad.ma's line.

Prints a table and writes ``<workdir>/results-upload.json``.
"""

import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import git_state, provenance

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--size", default="640x360")
    parser.add_argument("--upload-mb", type=int, default=100)
    parser.add_argument("--chunk-mb", type=float, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=REPO / "bench" / "out")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    os.environ["DJANGO_SETTINGS_MODULE"] = "phs_site.settings.dev"
    sys.path.insert(0, str(REPO))
    import django

    django.setup()

    work = Path(tempfile.mkdtemp(prefix="phs-bench-upload-", dir=args.workdir))
    results = {
        "command": provenance(),
        "git": git_state(),
        "encode": encode_bench(work, args),
        "upload": upload_bench(work, args),
    }
    (args.workdir / "results-upload.json").write_text(json.dumps(results, indent=2))
    print(results["command"])
    for row in results["encode"]:
        print(
            f"encode {row['profile']:>10}: {row['media_seconds']:.0f} s of {args.size} media "
            f"in {row['wall_seconds']:.1f} s = {row['media_seconds_per_second']:.2f} s/s "
            f"({row['output_bytes'] / 1e6:.2f} MB)"
        )
    up = results["upload"]
    print(
        f"upload {up['megabytes']} MB in {up['chunk_mb']} MB chunks: "
        f"median {up['median_mb_per_second']:.1f} MB/s "
        f"(runs: {', '.join(f'{r:.1f}' for r in up['mb_per_second'])})"
    )


def encode_bench(work: Path, args) -> list[dict]:
    from workflow.export.upload import media
    from workflow.export.upload.client import pandora_client

    source = work / "source.mp4"
    duration = args.seconds
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc=size={args.size}:rate=25:duration={duration}",
            "-f", "lavfi", "-i", f"sine=frequency=440:duration={duration}",
            "-c:v", "libx264", "-c:a", "aac", "-shortest", str(source),
        ],
        check=True,
    )  # fmt: skip
    info = media.probe(source)
    rows = []
    for profile in ("240p.webm", "480p.webm"):
        cache = work / f"cache-{profile}"
        started = time.monotonic()
        log = work / f"{profile}.ffmpeg.log"
        with media.stderr_to(log), contextlib.redirect_stdout(io.StringIO()):
            result = pandora_client.encode(str(source), str(cache), profile, info, False)
        wall = time.monotonic() - started
        output = Path(result["media"])
        rows.append(
            {
                "profile": profile,
                "media_seconds": duration,
                "wall_seconds": round(wall, 2),
                "media_seconds_per_second": round(duration / wall, 3),
                "output_bytes": output.stat().st_size,
            }
        )
    return rows


def upload_bench(work: Path, args) -> dict:
    from workflow.export.upload.client import UploadClient, pandora_client, run_library

    payload = work / "payload.webm"
    payload.write_bytes(os.urandom(args.upload_mb * 1_000_000))
    env = {**os.environ, "PHS_BENCH_PASSWORD": "bench-password"}
    script = str(REPO / "bench" / "padma_server.py")
    server = subprocess.Popen(
        [sys.executable, script, "--user", "bench", "--password-env", "PHS_BENCH_PASSWORD"],
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        url = json.loads(server.stdout.readline())["url"]
        pandora_client.CHUNK_SIZE = int(args.chunk_mb * 1024 * 1024)
        client = UploadClient(url, media_cache=str(work / "cache"))
        client.connect()
        client.signin("bench", "bench-password")
        client.site()
        oshash = "0123456789abcdef"
        client.call("addMedia", {"id": oshash, "filename": "payload.mp4", "info": {}})
        rates = []
        for attempt in range(args.repeat):
            client.api._resume_file = str(work / f"resume-{attempt}.json")
            upload_url = f"{url}upload/?profile=480p.webm&id={oshash}"
            started = time.monotonic()
            ok = run_library(client.api, client.api.upload_chunks, upload_url, str(payload), {})
            wall = time.monotonic() - started
            assert ok, "the upload did not finish"
            rates.append(args.upload_mb / wall)
        state = client.api._request("benchState", {})["data"]  # not a pan.do/ra action
        received = state["streams"][f"{oshash}/480p.webm"]
        assert received == payload.stat().st_size, (received, payload.stat().st_size)
        return {
            "megabytes": args.upload_mb,
            "chunk_mb": args.chunk_mb,
            "mb_per_second": [round(rate, 1) for rate in rates],
            "median_mb_per_second": round(statistics.median(rates), 1),
            "server_received_bytes": received,
        }
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
