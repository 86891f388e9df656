"""Development settings: mail the site would send lands in files, not in an error log."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_dev_mail_is_written_to_var_mail(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DJANGO_SETTINGS_MODULE="phs_site.settings.dev", PHS_VAR_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "manage.py", "sendtestemail", "reviewer@example.org"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    (message,) = (tmp_path / "mail").iterdir()
    text = message.read_text()
    assert "To: reviewer@example.org" in text and "Test email from" in text
