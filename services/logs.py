"""Log lines that name the request they belong to, as text or as one JSON object per line.

The HTTP layer sets `request_id` for the duration of a request (a context variable, so
concurrent requests, and the threads they hand work to, keep their own); every record gets it
as `record.request_id` through `RequestIdFilter`, "-" outside a request.

>>> import json, logging
>>> record = logging.LogRecord("audit", logging.INFO, "", 0, "chat.answer %s", ("ok",), None)
>>> token = request_id.set("r-1")
>>> _ = RequestIdFilter().filter(record)
>>> line = json.loads(JsonFormatter().format(record))
>>> request_id.reset(token)
>>> line["request_id"], line["logger"], line["message"]
('r-1', 'audit', 'chat.answer ok')
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

request_id: ContextVar[str] = ContextVar("request_id", default="-")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id (and the traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id.get()),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


class _Stderr(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is when a record is emitted, not the one it was made
    with: a runner that swaps stderr for one command (and closes it) never gets a late line."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def configure(level: str, fmt: str) -> None:
    """Root logging to stderr in the chosen format (LOG_FORMAT), replacing earlier handlers."""
    handler = _Stderr()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level, handlers=[handler], force=True)
