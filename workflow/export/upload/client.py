"""pan.do/ra's own client, ``pandora_client.API``, held to what an unattended run needs.

``pandora_client`` speaks the upload protocol (``upload/?profile=…&id=…``, chunks with
``offset`` and ``done``, ``uploadData``) and keeps a resume file after every chunk; we use
it as it is, and change only what its command line assumes:

- every request has a timeout (``ox`` waits forever);
- a request that fails on the network is retried ``PADMA_UPLOAD_RETRIES`` times, then the
  run stops: ``upload_chunks`` itself would retry every 5 s for ever. It lets only
  ``KeyboardInterrupt`` out (as ``sys.exit(1)``), so the stop is a ``ConnectionLost``,
  a ``KeyboardInterrupt``; ``run_library`` turns the exit back into our exception;
- a chunk pad.ma refuses (an error status) is retried as often, then the file fails
  with pad.ma's message (the client would resend it for ever);
- its prints go to the ``workflow`` logger (debug), not the operator's terminal;
- every chunk pad.ma takes is reported to ``on_chunk`` (bytes sent, for the progress and
  the ``MediaUpload`` row).
"""

import contextlib
import io
import logging
import time
import warnings
from collections.abc import Callable

import requests
from django.conf import settings

from ..base import ExportConfigError, PadmaUnavailable
from ..padma import PadmaActionError, PadmaClient, network_reason, with_timeout

with warnings.catch_warnings():
    # pandora_client imports pkg_resources, which warns that it is deprecated.
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", UserWarning)
    import pandora_client

logger = logging.getLogger("workflow")


class ConnectionLost(KeyboardInterrupt):
    """pad.ma stopped answering: the only exception ``upload_chunks`` lets through."""


class ChunkRefused(KeyboardInterrupt):
    """pad.ma kept refusing a chunk: the file fails with pad.ma's message."""


class UploadStopped(Exception):
    """The run stops: one line for the operator, never a credential."""


class UploadAPI(pandora_client.API):
    def __init__(self, url: str, *, timeout: float, media_cache: str):
        self._timeout = timeout
        self.retries = getattr(settings, "PADMA_UPLOAD_RETRIES", 5)
        self.retry_seconds = getattr(settings, "PADMA_UPLOAD_RETRY_SECONDS", 5)
        self.on_chunk: Callable[[int], None] | None = None
        #: Why the last request gave up (network), or pad.ma's last refusal.
        self.lost: str = ""
        self.refused: str = ""
        super().__init__(url, media_cache=media_cache)
        self._resume_file = None  # set per file by the service

    def _json_request(self, url, data, files=None):
        with_timeout(self._requests_session, url, self._timeout)
        chunk = _chunk_of(files)
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.retry_seconds)
                for _name, (_filename, content, *_rest) in files or ():
                    if hasattr(content, "seek"):  # uploadData's open file: from the start
                        content.seek(0)
            try:
                reply = super()._json_request(url, data, files)
            except requests.JSONDecodeError as error:
                failure = f"pad.ma answered with something other than JSON: {error}"
            except (requests.RequestException, OSError, ValueError) as error:
                failure = network_reason(error, self._timeout)
            else:
                status = reply.get("status") if isinstance(reply, dict) else None
                if status and status.get("code") != 200:
                    self.refused = f"{status.get('text') or 'error'} (status {status.get('code')})"
                if chunk is None or not status or status.get("code") == 200:
                    if chunk is not None and reply.get("result") == 1 and self.on_chunk:
                        self.on_chunk(int(reply.get("offset", 0)))
                    return reply
                logger.warning("padma upload chunk refused: %s", self.refused)
                if attempt == self.retries:
                    raise ChunkRefused(self.refused)
                continue
            logger.warning("padma upload request failed (attempt %d): %s", attempt + 1, failure)
        self.lost = failure
        raise ConnectionLost(failure)


def _chunk_of(files):
    """The bytes a chunk POST sends (``files=[("chunk", (name, bytes, type))]``), or None."""
    for name, value in files or ():
        if name == "chunk":
            return value[1]
    return None


class UploadClient(PadmaClient):
    """``PadmaClient``'s calls and error messages, over ``UploadAPI``."""

    def __init__(self, url: str, *, media_cache: str, timeout: float | None = None):
        super().__init__(url, timeout=timeout)
        self.media_cache = media_cache

    def _open_api(self) -> UploadAPI:
        try:
            return UploadAPI(self.url, timeout=self.timeout, media_cache=self.media_cache)
        except ConnectionLost as lost:
            raise PadmaUnavailable(f"pad.ma at {self.url} is unreachable: {lost}") from None

    def call(self, action, data):
        try:
            return super().call(action, data)
        except ConnectionLost as lost:
            raise PadmaUnavailable(f"pad.ma did not answer {action}: {lost}") from None

    def site(self) -> dict:
        """``init``: pad.ma's ``site`` (the video profile and the media settings)."""
        site = self.call("init", {}).get("site") or {}
        if not (site.get("video") or {}).get("resolutions"):
            raise ExportConfigError(f"pad.ma at {self.url} sent no video profile in init")
        self.api.site = site
        return site


def run_library(api: UploadAPI, function, *args):
    """Call into ``pandora_client`` with its prints logged and its exits turned back into
    our exceptions: ``ConnectionLost`` (stop the run), ``ChunkRefused`` (fail the file)."""
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            return function(*args)
    except SystemExit as exit_:
        cause = exit_.__context__
        if isinstance(cause, (ConnectionLost, ChunkRefused)):
            raise cause from None
        raise ConnectionLost("interrupted") from None
    finally:
        printed = out.getvalue().replace("\r", "\n").strip()
        if printed:
            logger.debug("pandora_client: %s", printed[-2000:])


__all__ = [
    "ChunkRefused",
    "ConnectionLost",
    "ExportConfigError",
    "PadmaActionError",
    "PadmaUnavailable",
    "UploadAPI",
    "UploadClient",
    "UploadStopped",
    "pandora_client",
    "run_library",
]
