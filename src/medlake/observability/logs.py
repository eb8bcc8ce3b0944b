"""Structured logs: medlake's `logging` output as JSON lines (`--log-format json`).

One object per line on stderr: `ts` (UTC, ISO 8601), `level`, `logger`, `msg`, then the
record's extras (`run_id`, `stage`, `source`, `rows_out` … passed with `extra=`). medlake logs
counts and ids only; an exception adds its class as `exc_type`, never its message or traceback
(parse errors quote input). Text (Python's default: warnings and errors on stderr) stays the
default; `MEDLAKE_LOG_FORMAT=json` does the same as the option.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

LOG_FORMATS: tuple[str, ...] = ("text", "json")
LOGGER = "medlake"

# attributes every LogRecord has: anything else on a record came in through `extra=`
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """A record as one JSON object: ts, level, logger, msg, then its extras."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value if isinstance(value, str | int | float | bool) or value is None else str(value)
        if record.exc_info and record.exc_info[0] is not None:
            out["exc_type"] = record.exc_info[0].__name__
        return orjson.dumps(out).decode()


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time (test runners swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def configure_logging(fmt: str, level: int = logging.INFO) -> None:
    """Set up the `medlake` logger for `fmt` (`text`: leave Python's default; `json`: JSON lines
    on stderr at `level`). Calling it again replaces what an earlier call installed."""
    if fmt not in LOG_FORMATS:
        from medlake.errors import ConfigError

        raise ConfigError(f"log format `{fmt}` is not one of {', '.join(LOG_FORMATS)}")
    reset_logging()
    if fmt == "json":
        logger = logging.getLogger(LOGGER)
        handler = _StderrHandler()
        handler.setFormatter(JsonFormatter())
        handler.set_name("medlake-json")
        logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False  # one line per record, even when an app also configures the root logger


def reset_logging() -> None:
    """Remove what `configure_logging` installed (back to Python's default)."""
    logger = logging.getLogger(LOGGER)
    for h in list(logger.handlers):
        if h.get_name() == "medlake-json":
            logger.removeHandler(h)
    logger.setLevel(logging.NOTSET)
    logger.propagate = True


def configure_from_env(env: Mapping[str, str] = os.environ) -> None:
    """Apply `MEDLAKE_LOG_FORMAT` (if set): for processes the CLI did not start, such as the
    spawned workers of parallel bronze/silver (they do not inherit the parent's logging set-up)."""
    fmt = env.get("MEDLAKE_LOG_FORMAT")
    if fmt:
        configure_logging(fmt)
