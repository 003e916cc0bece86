"""Logging of a served application (SPEC §13): structlog over the standard library.

Every line, the application's and uvicorn's, goes through one handler: with
``LOG_FORMAT=json`` one JSON object per line, else a line for people; each line a
request causes carries its ``request_id``. uvicorn's own access line is switched off:
the service writes its own (method, route, status, duration_ms, request_id).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson
import structlog
from structlog.typing import EventDict, Processor

# The logger name of the line each request writes (hexforge.service.middleware).
ACCESS_LOGGER = "hexforge.access"

# Writes the access line of one request: method, route, status, duration in ms.
AccessLine = Callable[[str, str, int, float], None]

# The id of the request being served (hexforge.service.middleware sets it): every
# line logged while serving it, and a 500's body, carry it.
request_id: ContextVar[str | None] = ContextVar("hexforge_request_id", default=None)


def add_request_id(_: Any, __: str, event: EventDict) -> EventDict:
    current = request_id.get()
    if current:
        event.setdefault("request_id", current)
    return event


def add_time(_: Any, __: str, event: EventDict) -> EventDict:
    """The time of a JSON line, left to :func:`dumps` to write (``...T02:21:36.771930Z``,
    as structlog's TimeStamper writes it, at a fraction of the cost)."""
    event["timestamp"] = datetime.now(UTC)
    return event


def dumps(event: EventDict, **options: Any) -> str:
    """A log line's JSON: orjson's, in a few microseconds (json.dumps took a third of
    a request's access line); the standard library's for what orjson refuses (an
    integer past 64 bits, a lone surrogate), so that no value breaks a log call."""
    fallback = options.get("default", repr)
    try:
        return orjson.dumps(
            event, default=fallback, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_UTC_Z
        ).decode()
    except TypeError:
        return json.dumps(event, default=lambda value: _plain(value, fallback))


def _plain(value: Any, fallback: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return fallback(value)


def configure(level: str, fmt: str) -> None:
    """Send every log line to stderr, at ``level``, as ``fmt`` says.

    hexforge's own lines (the access line of every request above all) go through
    structlog's native logger, which renders and writes in one step; the standard
    library's (uvicorn's, the libraries', the application's) through one handler
    that renders them the same way. The native path costs a few microseconds a line,
    the standard library's several times that: the access line is on every request.
    """
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        add_request_id,
        structlog.processors.add_log_level,
        add_time if fmt == "json" else structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: list[Processor] = (
        [structlog.processors.format_exc_info, structlog.processors.JSONRenderer(dumps)]
        if fmt == "json"
        else [structlog.dev.ConsoleRenderer(colors=False)]
    )
    structlog.configure(
        processors=[*shared, *renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level]),
        logger_factory=structlog.WriteLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True


def access_line(level: str, fmt: str) -> AccessLine:
    """How each request's access line is written, once :func:`configure` has set up
    logging with ``level`` and ``fmt``.

    In JSON the line is made here and written in one call: the same keys in the same
    order as structlog's chain writes them (the context bound with
    ``structlog.contextvars`` included), without the chain. That chain, on every
    request, was about 7% of a served get by id (bench/service_bench.py). In console
    format, lines for people, it goes through structlog; below ``level``, nowhere.
    """
    if logging.getLevelNamesMapping()[level] > logging.INFO:
        return _unlogged
    if fmt != "json":
        logger = structlog.get_logger().bind(logger=ACCESS_LOGGER)

        def console(method: str, route: str, status: int, duration_ms: float) -> None:
            logger.info(
                "request", method=method, route=route, status=status, duration_ms=duration_ms
            )

        return console
    stream = sys.stderr

    def json_line(method: str, route: str, status: int, duration_ms: float) -> None:
        event: EventDict = {
            "logger": ACCESS_LOGGER,
            "method": method,
            "route": route,
            "status": status,
            "duration_ms": duration_ms,
            "event": "request",
        }
        for key, value in structlog.contextvars.get_contextvars().items():
            event.setdefault(key, value)
        add_request_id(None, "info", event)
        event["level"] = "info"
        add_time(None, "info", event)
        stream.write(dumps(event, default=repr) + "\n")
        stream.flush()

    return json_line


def _unlogged(method: str, route: str, status: int, duration_ms: float) -> None:
    """The access line when the level leaves it out."""
