"""One request at a time through Django in the live server, when the test database is
SQLite's in-memory one.

Django's live server answers each request in a thread of its own, and on SQLite's
in-memory database every thread shares the test's one connection (there is no other way
to see the test's rows). Pages that load several thumbnails at once then run queries on
that connection concurrently: a session read interleaved with another request's query has
come back wrong, and Django, finding a session whose password hash does not match, logs
the user out in the middle of a test. Requests are still accepted and read concurrently
(Chromium's idle pre-connections never block the server); only Django's handling of each,
body included, is serialized. PostgreSQL gives each thread its own connection: unchanged.
"""

import threading

from django.core.servers.basehttp import ThreadedWSGIServer


class OneAtATimeWSGIServer(ThreadedWSGIServer):
    """A threaded server whose application runs for one request at a time."""

    def set_app(self, application):
        lock = threading.Lock()

        def serialized(environ, start_response):
            with lock:
                response = application(environ, start_response)
                try:
                    body = list(response)  # a streamed body may query too
                finally:
                    if hasattr(response, "close"):
                        response.close()
            return body

        super().set_app(serialized)


def serialize_requests_on_shared_sqlite() -> None:
    """Make the live server one-at-a-time if the test database is in-memory SQLite
    (Django's choice for SQLite unless ``TEST["NAME"]`` names a file)."""
    from django.conf import settings
    from django.test.testcases import LiveServerThread

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3") and not database.get("TEST", {}).get("NAME"):
        LiveServerThread.server_class = OneAtATimeWSGIServer
