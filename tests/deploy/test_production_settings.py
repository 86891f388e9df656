"""Production settings: refuse to start without the environment; `check --deploy` is clean."""

import os
import secrets
import socketserver
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL")


def production_env(tmp_path, **overrides) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in REQUIRED}
    env.update(
        DJANGO_SETTINGS_MODULE="phs_site.settings.production",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="archive.example.org",
        DATABASE_URL=f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        PHS_VAR_DIR=str(tmp_path),
    )
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def manage(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_start_up_stops_naming_every_missing_variable(tmp_path):
    env = production_env(tmp_path, SECRET_KEY=None, ALLOWED_HOSTS=None, DATABASE_URL=None)
    result = manage(env, "check")
    assert result.returncode != 0
    assert (
        "Missing required environment variables: SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL"
        in result.stderr
    )


@pytest.mark.parametrize("missing", REQUIRED)
def test_each_required_variable_is_named_alone(tmp_path, missing):
    result = manage(production_env(tmp_path, **{missing: ""}), "check")
    assert result.returncode != 0
    assert f"Missing required environment variables: {missing} (" in result.stderr


def env_example_secret_key() -> str:
    """SECRET_KEY's value in deploy/env.example, as a shell reading the file sees it."""
    for line in (ROOT / "deploy" / "env.example").read_text().splitlines():
        if line.startswith("SECRET_KEY="):
            return line.removeprefix("SECRET_KEY=").split(" #", 1)[0].strip()
    raise AssertionError("deploy/env.example sets no SECRET_KEY")


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        (env_example_secret_key(), "is still the placeholder from deploy/env.example"),
        # As systemd's EnvironmentFile= would read it with a comment after it: 50+ long.
        (
            env_example_secret_key()
            + '   # python -c "import secrets; print(secrets.token_urlsafe(50))"',
            "is still the placeholder from deploy/env.example",
        ),
        (secrets.token_urlsafe(50)[:49], "is 49 characters long; it needs 50 or more"),
        ("short", "is 5 characters long; it needs 50 or more"),
        ("ab" * 30, "is not random"),
        ("django-insecure-" + secrets.token_urlsafe(50), "is not random"),
    ],
    ids=[
        "placeholder",
        "placeholder-with-comment",
        "49-chars",
        "5-chars",
        "repetitive",
        "django-insecure",
    ],
)
def test_start_up_refuses_a_weak_secret_key(tmp_path, key, problem):
    result = manage(production_env(tmp_path, SECRET_KEY=key), "check")
    assert result.returncode != 0
    assert f"ImproperlyConfigured: SECRET_KEY {problem}" in result.stderr
    assert "secrets.token_urlsafe(50)" in result.stderr.splitlines()[-1]  # how to make one
    assert key not in result.stderr.splitlines()[-1]  # the message never repeats the key


def test_a_fifty_character_random_key_is_accepted(tmp_path):
    key = secrets.token_urlsafe(50)[:50]
    assert manage(production_env(tmp_path, SECRET_KEY=key), "check").returncode == 0


def test_wsgi_application_refuses_to_load_without_environment(tmp_path):
    env = production_env(tmp_path, SECRET_KEY=None)
    env.pop("DJANGO_SETTINGS_MODULE")  # wsgi.py defaults to production
    result = subprocess.run(
        [sys.executable, "-c", "import phs_site.wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "Missing required environment variables: SECRET_KEY" in result.stderr


def test_check_deploy_reports_nothing(tmp_path):
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "DEBUG")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."


def test_production_settings_values(tmp_path):
    code = (
        "from django.conf import settings as s; "
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, "
        "s.X_FRAME_OPTIONS, s.SECURE_REFERRER_POLICY, s.ALLOWED_HOSTS, s.CSRF_TRUSTED_ORIGINS, "
        "s.PADMA_USERNAME, s.LOGGING['handlers']['console']['formatter'])"
    )
    env = production_env(
        tmp_path,
        ALLOWED_HOSTS="archive.example.org, www.example.org",
        CSRF_TRUSTED_ORIGINS="https://archive.example.org",
        PADMA_USERNAME="phs-bot",
    )
    result = manage(env, "shell", "--no-imports", "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "False",
        "True",
        "True",
        "31536000",
        "DENY",
        "same-origin",
        "['archive.example.org',",
        "'www.example.org']",
        "['https://archive.example.org']",
        "phs-bot",
        "json",
    ]


class _SmtpSink(socketserver.StreamRequestHandler):
    """Just enough SMTP to take one message: what a relay on loopback would see."""

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self):
        self.reply("220 sink ready")
        while line := self.rfile.readline():
            command = line.decode().strip()
            verb = command.split(" ", 1)[0].upper()
            if verb in {"EHLO", "HELO"}:
                self.reply("250 sink")
            elif verb == "DATA":
                self.reply("354 go on")
                body = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    body += chunk
                self.server.messages.append(body.decode())
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:  # MAIL FROM, RCPT TO, RSET, NOOP
                self.reply("250 ok")


def test_mail_goes_to_the_configured_relay(tmp_path):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpSink)
    server.messages = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        env = production_env(
            tmp_path,
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(server.server_address[1]),
            EMAIL_USE_TLS="false",
            DEFAULT_FROM_EMAIL="Archive <archive@example.org>",
        )
        result = manage(env, "sendtestemail", "curator@example.org")
        assert result.returncode == 0, result.stderr
    finally:
        server.shutdown()
        server.server_close()
    (message,) = server.messages
    assert "From: Archive <archive@example.org>" in message
    assert "To: curator@example.org" in message


def test_without_a_relay_nothing_is_sent_and_nothing_fails(tmp_path):
    result = manage(production_env(tmp_path, EMAIL_HOST=None), "sendtestemail", "a@example.org")
    assert result.returncode == 0, result.stderr
    probe = "from django.conf import settings; print(settings.EMAIL_BACKEND)"
    shown = manage(production_env(tmp_path, EMAIL_HOST=None), "shell", "-c", probe)
    assert shown.stdout.strip().endswith("dummy.EmailBackend")


def test_sign_in_throttle_limits_come_from_the_environment(tmp_path):
    code = "from django.conf import settings as s; print(s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME)"
    env = production_env(tmp_path, PHS_LOGIN_FAILURE_LIMIT="3", PHS_LOGIN_COOLOFF_MINUTES="60")
    result = manage(env, "shell", "--no-imports", "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["3", "1:00:00"]
