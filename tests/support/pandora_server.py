"""A small pan.do/ra-protocol server on 127.0.0.1, for the tests and the benchmarks.

It speaks what ``ox.API`` speaks — POST ``action`` + JSON ``data``, replies
``{"status": {"code", "text"}, "data": …}`` — and keeps real state: users and sessions,
items, media files by oshash, and volumes per user whose file lists ``update`` replaces,
as pan.do/ra does. Every request is recorded; failures can be injected per action.
Not for production: no HTTPS, no persistence, passwords in memory.

It also speaks the upload protocol of ``pandora_client`` (pan.do/ra's
``archive/views.py`` ``firefogg_upload`` and ``upload``):

- ``init`` returns the site's ``video`` profile (resolutions, formats) and ``media``;
- ``update`` takes ``info`` (ffprobe's, per oshash) and answers which files pad.ma wants:
  ``info`` (not probed yet), ``data`` (media to encode and upload), ``file`` (as they are);
- ``POST upload/?profile=480p.webm&id=<oshash>`` starts a chunked upload (the stream is
  emptied, as pan.do/ra does) and answers ``uploadUrl``; each chunk is a multipart POST
  to it with ``offset`` (or ``chunkId``) and, on the last, ``done``. A chunk at the
  stream's end is appended; one already received (a retry) is acknowledged, not stored
  twice; the reply's ``offset`` is the stream's length, which the client follows;
- ``action=upload`` with a ``file`` part (``uploadData``) takes a whole file.

Streams are reassembled in ``streams[(oshash, profile)]``; ``chunks`` records every
chunk received (``fail("chunk", mode="drop")`` closes the connection half-way through
one); a finished upload makes the file available, so ``update`` stops asking for it.

    with PandoraTestServer(users={"exporter": "secret"}) as server:
        api = ox.API(server.url)
"""

import json
import secrets
import threading
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

RIGHTS_LEVELS = ("Public", "Restricted", "Private")
EDITABLE_KEYS = ("title", "summary", "date", "project", "rightslevel", "director", "source")
ACTIONS = {
    "api": "Describe the API: {docs: true} returns every action with its doc.",
    "signin": "Sign in: {username, password}; returns {user} or {errors}.",
    "signout": "Sign out.",
    "findMedia": "Find media files: {query: {conditions, operator}, keys, range}.",
    "addMedia": "Register a media file: {id: oshash, filename, info}; returns {item}.",
    "edit": "Edit an item's metadata: {id, key: value, ...}.",
    "update": "Send a volume's files: {volume, files: [{oshash, path, mtime, ...}]}.",
    "get": "Get an item: {id, keys}.",
    "init": "The site's configuration (video profile, media) and the user.",
    "upload": "Upload a whole file (multipart: id, file) or frames.",
}
#: The ``video`` and ``media`` parts of ``init``'s ``site``, as pan.do/ra's config.jsonc.
SITE_VIDEO = {"resolutions": [240, 480], "formats": ["webm"], "previewRatio": 1.3333}
SITE_MEDIA = {"importFrames": False}


@dataclass
class Failure:
    action: str
    times: int
    code: int
    text: str
    mode: str  # "status": a pan.do/ra error reply; "html": an HTML 500; "drop": no reply
    when: object = None  # a function of the request data, or None for any


@dataclass
class PandoraState:
    users: dict[str, str]
    sessions: dict[str, str] = field(default_factory=dict)
    items: dict[str, dict] = field(default_factory=dict)
    files: dict[str, dict] = field(default_factory=dict)
    #: (username, volume name) -> {oshash: {path, size, mtime}}
    volumes: dict[tuple[str, str], dict[str, dict]] = field(default_factory=dict)
    next_item: int = 0
    #: (oshash, profile) -> the bytes received so far (a chunked upload, reassembled).
    streams: dict[tuple[str, str], bytearray] = field(default_factory=dict)
    #: oshash -> the whole file sent with ``uploadData``.
    originals: dict[str, bytes] = field(default_factory=dict)


class PandoraTestServer:
    def __init__(self, users: dict[str, str] | None = None):
        self.state = PandoraState(users=dict(users or {"exporter": "secret"}))
        #: Every request: {"action", "data", "user"} (passwords replaced by "***").
        self.requests: list[dict] = []
        self.failures: list[Failure] = []
        #: Every chunk received: {"id", "profile", "offset", "size", "done", "stored"}.
        self.chunks: list[dict] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # -- running -----------------------------------------------------------------------

    def start(self) -> "PandoraTestServer":
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/api/"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- for tests ---------------------------------------------------------------------

    def fail(self, action, *, times=1, code=500, text="Internal error", mode="status", when=None):
        """Make the next ``times`` ``action`` requests (matching ``when``) fail."""
        with self._lock:
            self.failures.append(Failure(action, times, code, text, mode, when))

    def actions(self, name: str | None = None) -> list[dict]:
        with self._lock:
            return [r for r in self.requests if name is None or r["action"] == name]

    def count(self, name: str) -> int:
        return len(self.actions(name))

    def item_for(self, oshash: str) -> dict | None:
        file = self.state.files.get(oshash)
        return self.state.items.get(file["item"]) if file else None

    def volume(self, user: str, name: str) -> dict[str, dict]:
        return self.state.volumes.get((user, name), {})

    def add_known_file(self, oshash: str, filename: str = "known.mp4", **item) -> str:
        """Pretend pad.ma already has this file (uploaded earlier by someone else)."""
        with self._lock:
            item_id = self._new_item(filename, user="someone-else")
            self.state.items[item_id].update(item)
            self.state.files[oshash] = {"item": item_id, "filename": filename, "info": {}}
            return item_id

    def stream(self, oshash: str, profile: str) -> bytes | None:
        data = self.state.streams.get((oshash, profile))
        return bytes(data) if data is not None else None

    def available(self, oshash: str) -> bool:
        return bool(self.state.files.get(oshash, {}).get("available"))

    # -- the protocol --------------------------------------------------------------------

    def handle(self, action: str, data: dict, session: str | None):
        """Returns (http status, reply dict or raw bytes, cookie to set, close)."""
        with self._lock:
            user = self.state.sessions.get(session or "")
            logged = dict(data)
            if "password" in logged:
                logged["password"] = "***"
            self.requests.append({"action": action, "data": logged, "user": user})
            failure = self._take_failure(action, data)
            if failure is not None:
                if failure.mode == "drop":
                    return 0, b"", None, True
                if failure.mode == "html":
                    return failure.code, b"<h1>Server Error (500)</h1>", None, False
                return 200, _reply(failure.code, failure.text), None, False
            method = getattr(self, f"_do_{action}", None)
            if method is None:
                return 200, _reply(404, f"Unknown action {action}"), None, False
            return method(data, user, session)

    def _take_failure(self, action, data, modes=("status", "html", "drop")):
        for failure in self.failures:
            if failure.action != action or failure.times <= 0 or failure.mode not in modes:
                continue
            if failure.when is None or failure.when(data):
                failure.times -= 1
                return failure
        return None

    def _do_api(self, data, user, session):
        actions = {name: {"doc": doc, "cache": False} for name, doc in ACTIONS.items()}
        return 200, _reply(200, "ok", {"actions": actions}), None, False

    def _do_signin(self, data, user, session):
        username, password = data.get("username", ""), data.get("password", "")
        if username not in self.state.users:
            return 200, _reply(200, "ok", {"errors": {"username": "Unknown Username"}}), None, False
        if not secrets.compare_digest(self.state.users[username], password):
            return (
                200,
                _reply(200, "ok", {"errors": {"password": "Incorrect password"}}),
                None,
                False,
            )
        new_session = secrets.token_hex(16)
        self.state.sessions[new_session] = username
        user_data = {"username": username, "level": "member"}
        return 200, _reply(200, "ok", {"user": user_data}), new_session, False

    def _do_signout(self, data, user, session):
        self.state.sessions.pop(session or "", None)
        return 200, _reply(200, "ok"), None, False

    def _do_findMedia(self, data, user, session):
        query = data.get("query") or {}
        conditions = query.get("conditions") or []
        wanted = [c.get("value") for c in conditions if c.get("key", "oshash") == "oshash"]
        matches = [oshash for oshash in wanted if oshash in self.state.files]
        if "keys" not in data:
            return 200, _reply(200, "ok", {"items": len(matches)}), None, False
        start, stop = (data.get("range") or [0, 100])[:2]
        items = []
        for oshash in matches[start:stop]:
            entry = {"id": oshash, "item": self.state.files[oshash]["item"]}
            entry |= {"path": self.state.files[oshash]["filename"]}
            items.append({key: entry.get(key) for key in data["keys"]})
        return 200, _reply(200, "ok", {"items": items}), None, False

    def _do_addMedia(self, data, user, session):
        if user is None:
            return 200, _reply(401, "login required"), None, False
        oshash = data.get("id")
        if not oshash:
            return 200, _reply(400, "id required"), None, False
        if oshash in self.state.files:
            item_id = self.state.files[oshash]["item"]
            return 200, _reply(200, "file exists", {"item": item_id}), None, False
        item_id = self._new_item(data.get("filename", "Untitled"), user=user)
        self.state.files[oshash] = {
            "item": item_id,
            "filename": data.get("filename", "Untitled"),
            "info": data.get("info") or {},
            "available": False,
        }
        return 200, _reply(200, "ok", {"item": item_id, "itemUrl": f"/{item_id}"}), None, False

    def _do_edit(self, data, user, session):
        if user is None:
            return 200, _reply(401, "login required"), None, False
        item = self.state.items.get(data.get("id", ""))
        if item is None:
            return 200, _reply(404, "item not found"), None, False
        level = data.get("rightslevel")
        if level is not None and not (isinstance(level, int) and 0 <= level < len(RIGHTS_LEVELS)):
            return 200, _reply(400, f"invalid rightslevel {level!r}"), None, False
        for key in EDITABLE_KEYS:
            if key in data:
                item[key] = data[key]
        item["modified_by"] = user
        return 200, _reply(200, "ok", dict(item)), None, False

    def _do_update(self, data, user, session):
        if user is None:
            return 200, _reply(401, "login required"), None, False
        if "files" in data:
            volume = {}
            for entry in data["files"]:
                missing = [key for key in ("oshash", "path", "mtime") if key not in entry]
                if missing:
                    return 200, _reply(500, f"file entry without {', '.join(missing)}"), None, False
                volume[entry["oshash"]] = {k: v for k, v in entry.items() if k != "oshash"}
            # pan.do/ra replaces the volume's list: files not sent are removed from it.
            self.state.volumes[(user, data["volume"])] = volume
        mine = {
            oshash
            for (owner, _name), files in self.state.volumes.items()
            if owner == user
            for oshash in files
        }
        for oshash, info in (data.get("info") or {}).items():
            if oshash in self.state.files and isinstance(info, dict):
                self.state.files[oshash]["info"] = info
                self.state.files[oshash]["probed"] = True
        # What pad.ma still wants from this user's volumes: ffprobe's info for files not
        # probed yet, the media of files not available; subtitles ("file") as they are.
        wanted = sorted(h for h in mine if h in self.state.files and not self.available(h))
        no_info = sorted(h for h in mine if not self.state.files.get(h, {}).get("probed"))
        as_is = [h for h in wanted if _is_subtitle(self.state.files[h].get("filename", ""))]
        media = [h for h in wanted if h not in as_is]
        return 200, _reply(200, "ok", {"info": no_info, "data": media, "file": as_is}), None, False

    def _do_init(self, data, user, session):
        site = {"video": SITE_VIDEO, "media": SITE_MEDIA, "site": {"folderdepth": 4}}
        return 200, _reply(200, "ok", {"site": site, "user": {"username": user}}), None, False

    def handle_upload(self, query: dict, fields: dict, files: dict, session: str | None):
        """``upload/?profile=…&id=…``: start a chunked upload, or receive one chunk."""
        with self._lock:
            user = self.state.sessions.get(session or "")
            oshash, profile = query.get("id", ""), query.get("profile", "")
            action = "upload/chunk" if "chunk" in files else "upload/"
            record = {"action": action, "data": {"id": oshash, "profile": profile}}
            self.requests.append(record | {"user": user})
            if user is None:
                return 200, _reply(401, "login required"), None, False
            file = self.state.files.get(oshash)
            if file is None:
                return 200, _reply(404, "file not found"), None, False
            if profile.split(".")[-1] not in SITE_VIDEO["formats"]:
                return 200, _reply(500, "invalid profile"), None, False
            key = (oshash, profile)
            if "chunk" not in files:
                # pan.do/ra starts over: the streams of this file are deleted.
                self.state.streams[key] = bytearray()
                file["uploading"] = True
                upload_url = f"/api/upload/?id={oshash}&profile={profile}"
                reply = {"uploadUrl": upload_url, "url": f"/{file['item']}", "result": 1}
                return 200, reply, None, False
            chunk = files["chunk"]
            failure = self._take_failure("chunk", {"id": oshash}, modes=("status",))
            if failure is not None:
                self.chunks.append({"id": oshash, "failed": failure.text})
                return 200, _reply(failure.code, failure.text), None, False
            stream = self.state.streams.setdefault(key, bytearray())
            if "offset" in fields:
                offset = int(fields["offset"])
            else:  # the firefogg protocol numbers chunks instead
                offset = int(fields.get("chunkId", 0)) * len(chunk)
            stored = offset == len(stream)
            if stored:
                stream.extend(chunk)
            done = fields.get("done") == "1"
            self.chunks.append(
                {"id": oshash, "profile": profile, "offset": offset, "size": len(chunk)}
                | {"done": done, "stored": stored}
            )
            reply = {"result": 1, "offset": len(stream), "resultUrl": f"/{file['item']}"}
            if done and offset + len(chunk) == len(stream):
                file["available"] = True
                file["uploading"] = False
                reply["done"] = 1
            return 200, reply, None, False

    def drops_next_chunk(self, query: dict) -> bool:
        """Whether a ``fail("chunk", mode="drop")`` takes this chunk (half-read)."""
        with self._lock:
            oshash = query.get("id", "")
            for failure in self.failures:
                if failure.action != "chunk" or failure.mode != "drop" or failure.times <= 0:
                    continue
                if failure.when is None or failure.when({"id": oshash}):
                    failure.times -= 1
                    self.chunks.append({"id": oshash, "dropped": True})
                    return True
            return False

    def handle_multipart_action(self, fields: dict, files: dict, session: str | None):
        """``action=upload`` with a ``file`` (``uploadData``): the whole file at once."""
        with self._lock:
            user = self.state.sessions.get(session or "")
            action, oshash = fields.get("action", ""), fields.get("id", "")
            self.requests.append({"action": action, "data": {"id": oshash}, "user": user})
            if action != "upload":
                return 200, _reply(404, f"Unknown action {action}"), None, False
            if user is None:
                return 200, _reply(401, "login required"), None, False
            if oshash not in self.state.files:
                return 200, _reply(404, "file not found"), None, False
            if "file" not in files:
                return 200, _reply(200, "ok"), None, False  # frames: not kept
            self.state.originals[oshash] = files["file"]
            self.state.files[oshash]["available"] = True
            return 200, _reply(200, "ok", {"id": oshash}), None, False

    def _do_get(self, data, user, session):
        item = self.state.items.get(data.get("id", ""))
        if item is None:
            return 200, _reply(404, "item not found"), None, False
        keys = data.get("keys") or list(item)
        return 200, _reply(200, "ok", {key: item.get(key) for key in keys}), None, False

    def _new_item(self, filename: str, *, user: str) -> str:
        self.state.next_item += 1
        item_id = _public_id(self.state.next_item)
        title = filename.rsplit(".", 1)[0]
        self.state.items[item_id] = {"id": item_id, "title": title, "user": user}
        return item_id


def _public_id(number: int) -> str:
    """pan.do/ra's short public ids: A, B, … Z, AA, AB, …"""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _is_subtitle(filename: str) -> bool:
    return filename.rsplit(".", 1)[-1].lower() in ("srt", "vtt", "sub", "idx")


def _multipart(content_type: str, body: bytes) -> tuple[dict, dict]:
    """The fields (text) and files (bytes) of a multipart/form-data body."""
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    fields, files = {}, {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if part.get_filename() is not None:
            files[name] = payload
        else:
            fields[name] = payload.decode("utf-8")
    return fields, files


def _reply(code: int, text: str, data: dict | None = None) -> dict:
    return {"status": {"code": code, "text": text}, "data": data or {}}


def _handler_for(server: PandoraTestServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like a real server behind nginx
        disable_nagle_algorithm = True  # headers and body leave at once: no 40 ms stalls

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            cookie = SimpleCookie(self.headers.get("Cookie", ""))
            session = cookie["sessionid"].value if "sessionid" in cookie else None
            url = urlsplit(self.path)
            content_type = self.headers.get("Content-Type", "")
            if content_type.startswith("multipart/form-data"):
                # A chunk may be dropped half-way: read half, decide, then read the rest.
                head = self.rfile.read(length // 2)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path.endswith("/upload/") and server.drops_next_chunk(query):
                    self.close_connection = True  # no reply: the connection is lost
                    return
                fields, files = _multipart(content_type, head + self.rfile.read(length - len(head)))
                if url.path.endswith("/upload/"):
                    result = server.handle_upload(query, fields, files, session)
                else:
                    result = server.handle_multipart_action(fields, files, session)
            else:
                form = parse_qs(self.rfile.read(length).decode("utf-8"))
                if url.path.endswith("/upload/"):
                    query = {k: v[0] for k, v in parse_qs(url.query).items()}
                    result = server.handle_upload(query, {}, {}, session)
                else:
                    action = (form.get("action") or [""])[0]
                    try:
                        data = json.loads((form.get("data") or ["{}"])[0])
                    except ValueError:
                        data = {}
                    result = server.handle(action, data, session)
            status, body, new_session, close = result
            if close:
                self.close_connection = True
                return
            payload = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
            self.send_response(status)
            content_type = "text/html" if isinstance(body, bytes) else "application/json"
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            if new_session:
                self.send_header("Set-Cookie", f"sessionid={new_session}; Path=/; HttpOnly")
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format, *args):  # quiet: tests and the bench read the log
            pass

    return Handler
