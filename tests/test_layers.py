"""The import contracts in pyproject.toml hold, and each one breaks when a forbidden
import is added (so `make lint` would catch it, not a reviewer)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("catalog", "search", "workflow", "phs_site", "tests")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter not installed")


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [LINT_IMPORTS, "--config", root / "pyproject.toml", "--no-cache"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def copy_of_the_code(tmp_path):
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            tmp_path / package,
            ignore=lambda _dir, names: [n for n in names if not n.endswith(".py") and "." in n],
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def test_the_contracts_hold():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "forbidden", "reported"),
    [
        ("catalog/models.py", "import workflow.states", "catalog.models -> workflow.states"),
        ("search/finder.py", "import workflow.services.bulk", "search.finder -> workflow.services"),
        ("workflow/states.py", "import phs_site.ui.curate.api", "workflow.states -> phs_site.ui"),
        ("workflow/services/review.py", "import tests.conftest", "review -> tests.conftest"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(copy_of_the_code, module, forbidden, reported):
    path = copy_of_the_code / module
    path.write_text(path.read_text() + f"\n{forbidden}  # noqa\n")
    result = lint_imports(copy_of_the_code)
    assert result.returncode != 0
    assert "1 broken" in result.stdout
    assert reported in result.stdout
