"""The pan.do/ra exporters: the real one and the dry run, both through ``ox.API``.

pan.do/ra speaks JSON over POST: ``action`` plus JSON ``data``; every reply is
``{"status": {"code", "text"}, "data": …}``. ``ox.API(url)`` first calls the ``api``
action to learn the server's actions and adds one method per action.

Per chunk of files: one ``findMedia`` for all their oshashes; for each file pad.ma does
not know, ``addMedia`` (``id`` = oshash, ``filename``, ``info``: pan.do/ra creates the
item); then ``edit`` of the item's metadata. After the last chunk, one ``update`` per
drive (``volume`` = drive name, ``files`` = every exported file on it): pan.do/ra
replaces a volume's list with what ``update`` sends, so it always gets the whole list.
The order, the data and the reasons are in docs/export.md.
"""

import http.client
import logging
import socket
import ssl

import ox
import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

from .base import (
    BaseExporter,
    ExportConfigError,
    ExportError,
    ExportItem,
    ItemResult,
    Outcome,
    PadmaUnavailable,
)

logger = logging.getLogger("workflow")


class PadmaActionError(Exception):
    """pad.ma answered an action with an error status: the file fails, the run goes on."""

    def __init__(self, action: str, code, text: str):
        super().__init__(f"{action}: {text or 'error'} (status {code})")
        self.action, self.code, self.text = action, code, text


class _TimeoutAdapter(HTTPAdapter):
    def __init__(self, timeout: float, **kwargs):
        self.timeout = timeout
        super().__init__(**kwargs)

    def send(self, request, **kwargs):
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


class PadmaAPI(ox.API):
    """``ox.API`` with a timeout on every request (ox itself waits forever)."""

    def __init__(self, url: str, *, timeout: float, cj=None):
        self._timeout = timeout
        super().__init__(url, cj)

    def _json_request(self, url, data, files=None):
        with_timeout(self._requests_session, url, self._timeout)
        return super()._json_request(url, data, files)


def with_timeout(session: requests.Session, url: str, timeout: float) -> None:
    """Give ``session`` a timeout on every request, once (ox's clients have none)."""
    if not isinstance(session.get_adapter(url), _TimeoutAdapter):
        adapter = _TimeoutAdapter(timeout)
        session.mount("http://", adapter)
        session.mount("https://", adapter)


class PadmaClient:
    """The calls the exporters make, with pan.do/ra's errors turned into ours.

    Credentials go to ``signin`` only; they are never logged, and no message built here
    contains them.
    """

    def __init__(self, url: str, *, timeout: float | None = None):
        self.url = url
        self.timeout = timeout or settings.PADMA_TIMEOUT_SECONDS
        self.api: PadmaAPI | None = None
        #: Requests sent, by action (for the summary and the benchmark).
        self.calls: dict[str, int] = {}

    def _open_api(self) -> ox.API:
        return PadmaAPI(self.url, timeout=self.timeout)

    def connect(self) -> None:
        try:
            self.api = self._open_api()
        except requests.ConnectionError as error:
            raise PadmaUnavailable(
                f"pad.ma at {self.url} is unreachable: {network_reason(error, self.timeout)}"
            ) from error
        except (requests.RequestException, ValueError, KeyError, TypeError) as error:
            raise PadmaUnavailable(
                f"pad.ma at {self.url} did not answer the api call: "
                f"{network_reason(error, self.timeout)}"
            ) from error
        self._count("api")

    def signin(self, username: str, password: str) -> dict:
        data = self.call("signin", {"username": username, "password": password})
        errors = data.get("errors")
        if errors:
            detail = "; ".join(f"{key}: {value}" for key, value in sorted(errors.items()))
            raise ExportConfigError(
                f"pad.ma at {self.url} refused the sign-in for user {username!r} ({detail}); "
                "check PADMA_USERNAME and PADMA_PASSWORD"
            )
        return data.get("user") or {}

    def find_items(self, oshashes: list[str]) -> dict[str, str]:
        """``findMedia``: the pad.ma item of each oshash pad.ma already has."""
        if not oshashes:
            return {}
        data = self.call("findMedia", find_media_data(oshashes))
        return {
            entry["id"]: entry["item"]
            for entry in data.get("items") or []
            if entry.get("id") and entry.get("item")
        }

    def call(self, action: str, data: dict) -> dict:
        if self.api is None:
            self.connect()
        method = getattr(self.api, action, None)
        if method is None:
            raise ExportConfigError(f"pad.ma at {self.url} does not offer the {action} action")
        try:
            response = method(data)
        except requests.JSONDecodeError as error:
            raise PadmaUnavailable(
                f"pad.ma answered {action} with something other than JSON "
                f"(a server error page?): {_short(error)}"
            ) from error
        except (requests.RequestException, ValueError) as error:
            raise PadmaUnavailable(
                f"pad.ma did not answer {action}: {network_reason(error, self.timeout)}"
            ) from error
        finally:
            self._count(action)
        status = (response or {}).get("status") or {}
        if status.get("code") != 200:
            raise PadmaActionError(action, status.get("code"), status.get("text", ""))
        return response.get("data") or {}

    def close(self) -> None:
        if self.api is not None:
            self.api._requests_session.close()

    def _count(self, action: str) -> None:
        self.calls[action] = self.calls.get(action, 0) + 1


def find_media_data(oshashes: list[str]) -> dict:
    conditions = [{"key": "oshash", "operator": "==", "value": oshash} for oshash in oshashes]
    return {
        "query": {"conditions": conditions, "operator": "|"},
        "keys": ["id", "item"],
        "range": [0, len(oshashes)],
    }


def update_data(volume: str, files: list[dict]) -> dict:
    """``update``: the drive (a pan.do/ra volume) and every exported file on it."""
    return {
        "volume": volume,
        "files": [{key: f[key] for key in ("oshash", "path", "size", "mtime")} for f in files],
    }


def network_reason(error: BaseException, timeout: float) -> str:
    """What went wrong on the network, in words: the innermost cause (requests wraps
    urllib3's error, which wraps the socket's) instead of three nested reprs."""
    causes = []
    while error is not None and error not in causes:
        causes.append(error)
        error = error.__cause__ or error.__context__
    for cause in reversed(causes):
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "its host name could not be resolved"
        if isinstance(cause, (TimeoutError, requests.Timeout)):
            return f"no answer within {timeout:g} s"
        if isinstance(cause, ConnectionResetError):
            return "the connection was reset"
        if isinstance(cause, http.client.RemoteDisconnected):
            return "the server closed the connection without answering"
        if isinstance(cause, ssl.SSLError):
            return f"TLS failed: {cause.reason or cause}"
    return _short(causes[0])


def _short(error: Exception) -> str:
    text = str(error) or error.__class__.__name__
    return text if len(text) <= 300 else text[:297] + "..."


class _PadmaBackend(BaseExporter):
    def __init__(self, *, url=None, username=None, password=None, **options):
        super().__init__(**options)
        self.url = url or settings.PADMA_URL
        self.username = settings.PADMA_USERNAME if username is None else username
        self._password = settings.PADMA_PASSWORD if password is None else password
        self.client = PadmaClient(self.url)

    def not_configured(self) -> str:
        if not self.url:
            return "PADMA_URL is not set"
        missing = [
            name
            for name, value in (
                ("PADMA_USERNAME", self.username),
                ("PADMA_PASSWORD", self._password),
            )
            if not value
        ]
        if missing:
            return f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set"
        return ""

    def open(self) -> None:
        problem = self.not_configured()
        if problem:
            raise ExportConfigError(problem)
        self.client.connect()
        self.client.signin(self.username, self._password)
        logger.info("padma signin user=%s url=%s", self.username, self.url)
        self.say(f"Signed in to {self.url} as {self.username}")

    def close(self) -> None:
        self.client.close()

    def report(self) -> dict:
        return {"requests": dict(self.client.calls)}


class PandoraExporter(_PadmaBackend):
    """Creates or updates each file's item on pad.ma and records where the file lives."""

    writes = True

    def __init__(self, **options):
        super().__init__(**options)
        #: Set when pad.ma stopped answering mid-chunk; the runner ends the run.
        self.interrupted: PadmaUnavailable | None = None

    def export(self, items: list[ExportItem]) -> list[ItemResult]:
        results = [
            ItemResult(item.request_id, Outcome.SKIPPED, message=item.skip_reason)
            for item in items
            if item.skip_reason
        ]
        todo = [item for item in items if not item.skip_reason]
        try:
            known = self.client.find_items(sorted({item.oshash for item in todo}))
        except PadmaActionError as error:
            return results + [
                ItemResult(item.request_id, Outcome.FAILED, message=str(error)) for item in todo
            ]
        except PadmaUnavailable as error:
            self.interrupted = error
            return results
        for item in todo:
            try:
                results.append(self._export_one(item, known))
            except PadmaActionError as error:
                logger.warning("padma %s failed file=%s: %s", error.action, item.file_id, error)
                results.append(ItemResult(item.request_id, Outcome.FAILED, message=str(error)))
            except PadmaUnavailable as error:
                logger.warning("padma unavailable file=%s: %s", item.file_id, error)
                results.append(ItemResult(item.request_id, Outcome.FAILED, message=str(error)))
                self.interrupted = error
                break
        return results

    def _export_one(self, item: ExportItem, known: dict[str, str]) -> ItemResult:
        item_id = known.get(item.oshash)
        if item_id is None:
            data = self.client.call("addMedia", item.add_media_data())
            item_id = data.get("item")
            if not item_id:
                raise PadmaActionError("addMedia", 200, "the reply names no item")
            known[item.oshash] = item_id
            logger.info(
                "padma addMedia file=%s oshash=%s item=%s", item.file_id, item.oshash, item_id
            )
        else:
            logger.info(
                "padma findMedia file=%s oshash=%s item=%s (known)",
                item.file_id,
                item.oshash,
                item_id,
            )
        self.client.call("edit", item.edit_data(item_id))
        logger.info(
            "padma edit file=%s item=%s rightslevel=%s", item.file_id, item_id, item.rightslevel
        )
        self.say(f"  {item.location} -> {item_id}")
        return ItemResult(item.request_id, Outcome.DONE, padma_id=item_id)

    def locate(self, volume: str, files: list[dict]) -> None:
        """``update``: record every exported file of the drive ``volume`` on pad.ma."""
        self.client.call("update", update_data(volume, files))
        logger.info("padma update volume=%s files=%d", volume, len(files))
        self.say(f"Recorded {len(files)} file locations on drive {volume}")

    def finish(self) -> dict:
        return self.report()


class DryRunExporter(_PadmaBackend):
    """Asks pad.ma only ``findMedia`` and reports the plan with the exact write requests.

    It signs in (pan.do/ra shows media to signed-in users only) and writes nothing: no
    item, no metadata, no file location, and every request stays as it was.
    """

    writes = False

    def __init__(self, **options):
        super().__init__(**options)
        self.files: list[dict] = []
        self.volumes: list[dict] = []

    def export(self, items: list[ExportItem]) -> list[ItemResult]:
        todo = [item for item in items if not item.skip_reason]
        try:
            known = self.client.find_items(sorted({item.oshash for item in todo}))
        except PadmaActionError as error:
            raise ExportError(f"pad.ma refused the lookup: {error}") from error
        for item in items:
            self.files.append(self._plan(item, known))
        return []

    def _plan(self, item: ExportItem, known: dict[str, str]) -> dict:
        entry = {
            "request": item.request_id,
            "file": item.file_id,
            "location": item.location,
            "oshash": item.oshash,
            "status": item.status,
            "rightslevel": item.rightslevel,
        }
        if item.skip_reason:
            return entry | {"plan": "skip", "reason": item.skip_reason, "requests": []}
        item_id = known.get(item.oshash)
        calls = []
        if item_id is None:
            calls.append({"action": "addMedia", "data": item.add_media_data()})
        edit = item.edit_data(item_id or "<item id from addMedia>")
        calls.append({"action": "edit", "data": edit})
        self.say(f"  {item.location}: {'known as ' + item_id if item_id else 'new'}")
        return entry | {
            "plan": "update" if item_id else "new",
            "padma_id": item_id or "",
            "requests": calls,
        }

    def locate(self, volume: str, files: list[dict]) -> None:
        self.volumes.append({"action": "update", "data": update_data(volume, files)})

    def finish(self) -> dict:
        plans = [entry["plan"] for entry in self.files]
        return {
            "padma_url": self.url,
            "summary": {
                "files": len(plans),
                "new": plans.count("new"),
                "known": plans.count("update"),
                "skipped": plans.count("skip"),
            },
            "files": self.files,
            "volumes": self.volumes,
            **self.report(),
        }
