"""Logging of a served application (SPEC §13): structlog over the standard library.

Every line, the application's and uvicorn's, goes through one handler: with
``LOG_FORMAT=json`` one JSON object per line, else a line for people; each line a
request causes carries its ``request_id``. uvicorn's own access line is switched off:
the service writes its own (method, route, status, duration_ms, request_id).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog
from asgi_correlation_id import correlation_id
from structlog.typing import EventDict, Processor


def add_request_id(_: Any, __: str, event: EventDict) -> EventDict:
    request_id = correlation_id.get()
    if request_id:
        event.setdefault("request_id", request_id)
    return event


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
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: list[Processor] = (
        [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
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
