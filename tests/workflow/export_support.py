"""Helpers shared by the export tests (fixtures stay in conftest.py)."""

import socket


def closed_port_url() -> str:
    """A loopback pan.do/ra URL whose port nothing listens on: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/"
