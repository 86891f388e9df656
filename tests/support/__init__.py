"""Test doubles shared by ``tests/`` and ``bench/``: never imported by the site itself.

The repository root is on ``sys.path`` (the editable install), so a benchmark imports
them as ``from tests.support.pandora_server import PandoraTestServer``.
"""
