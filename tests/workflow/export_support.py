"""Helpers shared by the export tests (fixtures stay in conftest.py)."""

import socket


def closed_port_url() -> str:
    """A loopback pan.do/ra URL whose port nothing listens on: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/"


def make_media(directory, name: str, *, seconds: float = 2, tone: int = 440, video=True):
    """A small real media file made by ffmpeg: ``testsrc`` (160x120) and a sine tone, or
    the tone alone (``video=False``). Different ``tone``s give different files."""
    import subprocess

    target = directory / name
    target.parent.mkdir(parents=True, exist_ok=True)
    inputs = ["-f", "lavfi", "-i", f"sine=frequency={tone}:duration={seconds}"]
    if video:
        source = f"testsrc=size=160x120:rate=25:duration={seconds}"
        inputs = ["-f", "lavfi", "-i", source, *inputs, "-c:v", "libx264", "-shortest"]
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", *inputs, str(target)], check=True, capture_output=True
    )
    return target
