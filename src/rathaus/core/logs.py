"""Structured JSON logs, one object per line, each with the request id.

Personal data stays out: the access log records method, route, status and timing, never the
query string, the body or a name; exceptions are logged with their type and traceback only.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

from rathaus.core.context import current_request_id

# "request" is what Django's request logger attaches: its repr carries the query string.
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


def redact(text: str) -> str:
    """E-mail addresses out of error texts (SMTP refusals, database key errors)."""
    return _EMAIL.sub("<e-mail>", text)


_SKIP = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id", "request"}


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", ""),
        }
        # Extra fields passed with logger.info(..., extra={...}).
        for key, value in vars(record).items():
            if key not in _SKIP and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        entry["message"] = redact(str(entry["message"]))
        return json.dumps(entry, default=str, ensure_ascii=False)
