"""Logging an operator can read: one line per event, ``key=value`` pairs after the logger name."""

from __future__ import annotations

import json
import logging
import sys

from core.redact import redact
from yuqing.settings import Settings

_QUIET = ("kafka", "elastic_transport", "urllib3", "scrapy.core.engine", "scrapy.middleware", "jieba")


class _RedactingFormatter(logging.Formatter):
    """Every line, its traceback included, with secrets replaced (a failing webhook names its URL)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        message = record.getMessage() + (f"\n{record.exc_text}" if record.exc_text else "")
        return json.dumps(
            {
                "time": self.formatTime(record),
                "level": record.levelname,
                "logger": record.name,
                "message": redact(message),
            },
            ensure_ascii=False,
        )


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of each record.

    A handler bound to the stream object of its creation keeps writing to it after it is replaced
    and closed (a command run in-process by a test harness, say), and every later record from a
    background thread then fails with "I/O operation on closed file".
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def configure_logging(settings: Settings) -> None:
    """Configure the root logger once per process, at its entry point."""
    handler = _StderrHandler()
    if settings.log_format == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(_RedactingFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    # The handler filters too: Scrapy sets its own loggers to DEBUG, which a root level alone would not stop.
    handler.setLevel(settings.log_level.upper())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    for name in _QUIET:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
