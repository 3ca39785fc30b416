"""Logging for the server process: plain lines or one JSON object per line, on stderr."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            doc.update(
                {
                    k: v
                    for k, v in fields.items()
                    if k not in ("string_to_sign", "canonical_request")
                }
            )
        if record.exc_info:
            doc["traceback"] = self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False, default=str)


def setup_logging(level: str, as_json: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter()
        if as_json
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("waitress").setLevel(logging.WARNING)
    # "Task queue depth is N": one line per request queued behind busy threads, i.e. under any
    # real load: a log flood that cost every request a formatted line and a write (speed)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
