"""``make run HOST=…``: the ready banner links where the site is served, a busy port is
reported with the fix, and ``make`` says what it is doing while pip installs."""

import io
import re
import socket
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from catalog import demo
from catalog.management.commands.setup_demo import port_in_use

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_the_banner_names_the_port_asked_for_and_says_when_it_is_busy(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out, err = io.StringIO(), io.StringIO()
        call_command(
            "setup_demo",
            "--media-dir",
            str(tmp_path),
            "--host",
            f"127.0.0.1:{port}",
            stdout=out,
            stderr=err,
        )
    assert f"Open http://127.0.0.1:{port}/admin/" in out.getvalue()
    assert ":8000" not in out.getvalue()
    assert f"Port {port} is already in use" in err.getvalue()
    assert f"make run HOST=127.0.0.1:{port + 1}" in err.getvalue()


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("8001", "http://127.0.0.1:8001/admin/"),
        ("0.0.0.0:8002", "http://127.0.0.1:8002/admin/"),
        ("localhost:8003", "http://localhost:8003/admin/"),
        ("[::1]:8004", "http://[::1]:8004/admin/"),
    ],
)
def test_admin_url_from_runservers_addrport(host, url):
    assert demo.admin_url(host) == url


def test_a_free_port_is_not_reported():
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    assert port_in_use(f"127.0.0.1:{port}") is None


def test_a_host_that_is_no_address_is_refused_in_words(tmp_path):
    with pytest.raises(CommandError, match="--host: 'localhost' is no address:port"):
        call_command("setup_demo", "--media-dir", str(tmp_path), "--host", "localhost")


def test_make_passes_host_to_the_banner_and_the_readme_says_so():
    makefile = (ROOT / "Makefile").read_text()
    assert "setup_demo --host $(HOST)" in makefile
    assert "runserver $(HOST)" in makefile
    readme = (ROOT / "README.md").read_text()
    assert re.search(r"make run HOST=127\.0\.0\.1:8001", readme)


def test_make_says_it_is_installing_instead_of_a_silent_minute():
    recipe = (ROOT / "Makefile").read_text().split("$(STAMP): pyproject.toml", 1)[1]
    recipe = recipe.split("\n\n", 1)[0]
    assert "Installing dependencies" in recipe and "Dependencies installed." in recipe
    install = next(line for line in recipe.splitlines() if "'.[dev]'" in line)
    assert "--quiet" not in install and "--progress-bar off" in install
