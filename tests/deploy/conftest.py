"""Loads the deploy/ scripts (not a package) as ``deploy_backups`` and ``deploy_browser``."""

import importlib.util
import sys
from pathlib import Path

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _load(name: str, filename: str) -> None:
    spec = importlib.util.spec_from_file_location(name, DEPLOY / filename)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)


_load("deploy_backups", "backups.py")
_load("deploy_browser", "browser_check.py")
