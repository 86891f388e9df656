#!/usr/bin/env python3
"""Push-to-deploy: verify the git host's HMAC signature, then run deploy/redeploy.

Standard library only, so it runs under the system Python. The request decides
nothing but *whether* to deploy: the script is fixed (``redeploy`` next to this file),
gets no arguments from the payload, and one deploy runs at a time. Configure the git
host's webhook with content type JSON, the secret in DEPLOY_WEBHOOK_SECRET, and
events "push"; GitHub, Gitea and Forgejo all send ``X-Hub-Signature-256``.
"""

import argparse
import hashlib
import hmac
import json
import logging
import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REDEPLOY_SCRIPT = Path(__file__).resolve().parent / "redeploy"
MAX_BODY_BYTES = 1024 * 1024
logger = logging.getLogger("phs.webhook")
_deploying = threading.Lock()


def valid_signature(secret: bytes, body: bytes, header: str | None) -> bool:
    """True when ``header`` is ``sha256=<hex HMAC-SHA256 of body>`` under ``secret``."""
    if not secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256="))


def pushed_branch(body: bytes) -> str | None:
    try:
        ref = json.loads(body).get("ref", "")
    except (ValueError, AttributeError):
        return None
    return ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else None


class WebhookHandler(BaseHTTPRequestHandler):
    secret: bytes = b""
    branch: str = "main"

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if self.path != "/deploy/hook" or not 0 < length <= MAX_BODY_BYTES:
            return self._answer(404 if self.path != "/deploy/hook" else 413, "no")
        body = self.rfile.read(length)
        if not valid_signature(self.secret, body, self.headers.get("X-Hub-Signature-256")):
            logger.warning("rejected: bad or missing signature")
            return self._answer(401, "bad signature")
        if pushed_branch(body) != self.branch:
            return self._answer(202, f"ignored: not a push to {self.branch}")
        if not _deploying.acquire(blocking=False):
            return self._answer(409, "a deploy is already running")
        threading.Thread(target=_redeploy, daemon=True).start()
        return self._answer(202, "deploying")

    def _answer(self, status: int, text: str) -> None:
        payload = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format, *args):  # http.server's signature
        logger.info("%s %s", self.address_string(), format % args)


def _redeploy() -> None:
    try:
        result = subprocess.run([str(REDEPLOY_SCRIPT)], check=False)
        logger.info("redeploy finished with exit status %s", result.returncode)
    finally:
        _deploying.release()


def main() -> None:
    parser = argparse.ArgumentParser(description="Push-to-deploy webhook")
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9010)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    secret = os.environ.get("DEPLOY_WEBHOOK_SECRET", "")
    if len(secret) < 20:
        raise SystemExit("DEPLOY_WEBHOOK_SECRET must be set (20+ characters)")
    WebhookHandler.secret = secret.encode()
    WebhookHandler.branch = os.environ.get("DEPLOY_BRANCH", "main")
    ThreadingHTTPServer((args.bind, args.port), WebhookHandler).serve_forever()


if __name__ == "__main__":
    main()
