#!/usr/bin/env python
"""The in-repo pan.do/ra test server (``tests.support.pandora_server``) as its own process.

``bench/load_bench.py`` starts it so the exporter in ``manage.py db_worker`` talks HTTP
over loopback to a server that shares no interpreter (and no GIL) with the load
generator. Run from the repository root::

    .venv/bin/python bench/padma_server.py --user NAME --password-env VAR [--latency-ms 20]

Prints ``{"url": …}`` as one JSON line on stdout once it listens, then serves until
SIGTERM/SIGINT. ``--latency-ms`` delays every reply (outside the server's lock), like
the round trip to pad.ma over the internet; the default keeps an export slow enough
to be killed mid-chunk.

One extra action, ``benchState`` (not recorded, not part of pan.do/ra), answers what
the benchmark checks afterwards: requests by action, items, media files, the oshashes
``addMedia`` was sent for more than once, and each oshash's item.
"""

import argparse
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

# The code under test: load_bench.py's --snapshot / --app-dir copy, or this tree.
sys.path.insert(0, os.environ.get("PHS_BENCH_APP") or str(Path(__file__).resolve().parent.parent))

from tests.support.pandora_server import PandoraTestServer, _reply


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--user", required=True)
    parser.add_argument("--password-env", required=True, help="environment variable to read")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    password = os.environ[args.password_env]
    server = PandoraTestServer(users={args.user: password})
    original = server.handle
    latency = args.latency_ms / 1000

    def handle(action: str, data: dict, session: str | None):
        if action == "benchState":
            return 200, _reply(200, "ok", state(server)), None, False
        if latency:
            time.sleep(latency)
        return original(action, data, session)

    server.handle = handle
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server.start()
    print(json.dumps({"url": server.url, "pid": os.getpid()}), flush=True)
    try:
        stop.wait()
    finally:
        server.stop()


def state(server: PandoraTestServer) -> dict:
    with server._lock:
        by_action: dict[str, int] = {}
        add_media: dict[str, int] = {}
        for request in server.requests:
            by_action[request["action"]] = by_action.get(request["action"], 0) + 1
            if request["action"] == "addMedia":
                oshash = request["data"].get("id", "")
                add_media[oshash] = add_media.get(oshash, 0) + 1
        return {
            "requests": len(server.requests),
            "by_action": by_action,
            "items": len(server.state.items),
            "files": len(server.state.files),
            "add_media_repeated": {h: n for h, n in add_media.items() if n > 1},
            "item_of": {h: f["item"] for h, f in server.state.files.items()},
            # Chunked uploads reassembled so far: bytes per oshash/profile (bench_upload).
            "streams": {f"{h}/{p}": len(data) for (h, p), data in server.state.streams.items()},
            "volumes": {
                f"{owner}/{name}": len(files)
                for (owner, name), files in server.state.volumes.items()
            },
        }


if __name__ == "__main__":
    main()
