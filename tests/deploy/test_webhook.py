"""The push-to-deploy webhook runs its fixed script only for a correctly signed push."""

import hashlib
import hmac
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET = "a-webhook-secret-of-some-length"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def webhook(tmp_path):
    """The real webhook.py, copied beside a stand-in redeploy that leaves a marker file."""
    shutil.copy(ROOT / "deploy" / "webhook.py", tmp_path / "webhook.py")
    marker = tmp_path / "deployed"
    redeploy = tmp_path / "redeploy"
    redeploy.write_text(f'#!/bin/sh\necho "$@" >> {marker}\n')
    redeploy.chmod(0o755)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(tmp_path / "webhook.py"), "--port", str(port)],
        env={"DEPLOY_WEBHOOK_SECRET": SECRET, "DEPLOY_BRANCH": "main", "PATH": "/usr/bin:/bin"},
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/deploy/hook"
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.1)
    yield url, marker
    server.terminate()
    server.wait(timeout=10)


def post(url, body: bytes, signature: str | None) -> tuple[int, str]:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    # http://127.0.0.1 only: the fixture's own server.
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def wait_for(path: Path, seconds: float = 5) -> bool:
    """Until the stand-in script has written its line (the file exists before it does)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().endswith("\n"):
            return True
        time.sleep(0.05)
    return False


PUSH = json.dumps({"ref": "refs/heads/main", "after": "abc123"}).encode()


def test_signed_push_runs_the_fixed_script_without_arguments(webhook):
    url, marker = webhook
    assert post(url, PUSH, sign(PUSH)) == (202, "deploying\n")
    assert wait_for(marker)
    assert marker.read_text() == "\n"  # nothing from the payload reaches the script


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "sha256=",
        "sha256=" + "0" * 64,
        sign(PUSH, secret="another-secret-entirely-wrong"),
        sign(PUSH).removeprefix("sha256="),  # missing the algorithm prefix
        sign(PUSH).replace("sha256=", "sha1="),
    ],
)
def test_unsigned_or_wrongly_signed_requests_are_refused(webhook, signature):
    url, marker = webhook
    assert post(url, PUSH, signature) == (401, "bad signature\n")
    assert not wait_for(marker, seconds=0.5)


def test_signature_over_a_different_body_is_refused(webhook):
    url, marker = webhook
    tampered = PUSH.replace(b"abc123", b"evil99")
    assert post(url, tampered, sign(PUSH))[0] == 401
    assert not wait_for(marker, seconds=0.5)


def test_signed_push_to_another_branch_is_ignored(webhook):
    url, marker = webhook
    body = json.dumps({"ref": "refs/heads/experiment"}).encode()
    assert post(url, body, sign(body)) == (202, "ignored: not a push to main\n")
    assert not wait_for(marker, seconds=0.5)


def test_refuses_to_start_without_a_secret(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "webhook.py"), "--port", str(free_port())],
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert result.returncode != 0
    assert "DEPLOY_WEBHOOK_SECRET must be set" in result.stderr
