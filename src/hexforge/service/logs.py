"""Logging of a served application (SPEC §13): structlog over the standard library.

Every line, the application's and uvicorn's, goes through one handler: with
``LOG_FORMAT=json`` one JSON object per line, else a line for people; each line a
request causes carries its ``request_id``. uvicorn's own access line is switched off:
the service writes its own (method, route, status, duration_ms, request_id).

Lines logged on the event loop reach stderr once per turn of the loop, together
(:class:`TurnStream`), not one system call each.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import sys
import threading
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO, cast

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


class TurnStream:
    """A text stream that writes what the event loop logs during one turn of the loop
    to ``target`` at the end of that turn, in one write.

    A served request's access line was a system call of its own, about a tenth of a
    create's CPU in the service (bench/service_bench.py); under load a turn finishes
    several requests. Lines keep their order, and each is out before the loop waits
    for the next event. Writes made off the loop (before it starts, from a worker
    thread, at exit) go out at once, after whatever was pending; what a loop stopped
    without writing goes out at exit. A process killed outright loses at most the
    lines of the turn it was in.
    """

    def __init__(self, target: TextIO) -> None:
        self._target = target
        self._pending: list[str] = []
        self._lock = threading.Lock()
        # The loop a write-out is scheduled on, until it runs.
        self._scheduled: asyncio.AbstractEventLoop | None = None

    @property
    def target(self) -> TextIO:
        return self._target

    def write(self, text: str) -> int:
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        with self._lock:
            self._pending.append(text)
            if loop is None:
                self._write_out()
            elif self._scheduled is not loop:
                self._scheduled = loop
                loop.call_soon(self._end_of_turn)
        return len(text)

    def flush(self) -> None:
        """Write out now, off the loop; on it, the turn's end does (a handler flushes
        after every line)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            with self._lock:
                self._write_out()

    def _end_of_turn(self) -> None:
        with self._lock:
            self._scheduled = None
            self._write_out()

    def _write_out(self) -> None:
        if self._pending:
            text = "".join(self._pending)
            self._pending.clear()
            try:
                self._target.write(text)
                self._target.flush()
            except (OSError, ValueError):
                pass  # stderr closed or gone (a reader that left): no one to tell


# Where configure sends the lines; access_line writes there too.
_stream: TurnStream | None = None


@atexit.register
def _write_out_at_exit() -> None:
    if _stream is not None:
        _stream.flush()


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
    global _stream
    if _stream is None or _stream.target is not sys.stderr:
        if _stream is not None:
            _stream.flush()  # what the stream it replaces still holds
        _stream = TurnStream(sys.stderr)
    structlog.configure(
        processors=[*shared, *renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level]),
        # structlog asks only for write and flush.
        logger_factory=structlog.WriteLoggerFactory(file=cast(TextIO, _stream)),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(_stream)
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
    stream = _stream or TurnStream(sys.stderr)

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

    return json_line


def _unlogged(method: str, route: str, status: int, duration_ms: float) -> None:
    """The access line when the level leaves it out."""
