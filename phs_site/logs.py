"""Structured logs: a JSON-lines formatter and one log line per request.

A request line carries method, path, status, duration and the user's id — never the
query string, headers, cookies or body, and never a token from the URL. Other code
logs through its own logger (``catalog``, ``workflow``) and passes fields with
``extra={...}``; the formatter puts them on the same line.
"""

import json
import logging
import time

from django.utils.functional import empty

request_logger = logging.getLogger("phs.request")

#: URL keyword arguments that are secrets (password-reset links carry them in the path).
SECRET_URL_KWARGS = frozenset({"token", "uidb64", "key", "signature"})

# Attributes every LogRecord has; anything else on a record came from ``extra``.
_RECORD_ATTRS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, then any ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRS and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def loggable_path(request) -> str:
    """The request path with secret URL arguments masked; the query string is never included."""
    path = request.path
    match = getattr(request, "resolver_match", None)
    if match:
        for name, value in match.kwargs.items():
            if name in SECRET_URL_KWARGS and isinstance(value, str) and value:
                path = path.replace(value, "***")
    return path


class RequestLogMiddleware:
    """Outermost middleware: logs every request once, after the response is final."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.monotonic()
        response = self.get_response(request)
        request_logger.info(
            "%s %s %s",
            request.method,
            loggable_path(request),
            response.status_code,
            extra={
                "method": request.method,
                "path": loggable_path(request),
                "status": response.status_code,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
                "user_id": _user_id(request),
            },
        )
        return response


def _user_id(request) -> int | None:
    """The user's id if the request already looked the user up; never a query of its own.

    ``request.user`` is lazy: touching it here would cost a session query on every
    request (and raise when the database is down, hiding a health check's 503).
    """
    user = getattr(request, "user", None)
    if user is None or getattr(user, "_wrapped", None) is empty:
        return None
    return user.pk if user.is_authenticated else None
