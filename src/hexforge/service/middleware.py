"""What every request passes through (SPEC §13): its id, its size limit, its log line.

One plain ASGI middleware, no per-request task or buffering: it runs on every request
of every route and must cost next to nothing (bench/ holds the service to a
hand-written app; a middleware per concern, the request id from asgi-correlation-id,
cost about 20 µs a request more). The request id is the client's ``X-Request-ID``
when it is sane, else a new one; it is answered back and kept in
:data:`hexforge.service.logs.request_id` for every line the request logs.
"""

from __future__ import annotations

import random
import re
import time
from http import HTTPStatus

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hexforge.service import logs
from hexforge.service.problems import REQUEST_ID_HEADER, REQUEST_ID_KEY, problem_response

# A request id taken as given: short, printable, no separators a log reader splits on.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
_ID_HEADER = REQUEST_ID_HEADER.lower().encode("latin-1")


def is_sane_request_id(value: str) -> bool:
    return SANE_REQUEST_ID.fullmatch(value) is not None


def new_request_id() -> str:
    """32 random hex digits, as unlikely to repeat as a UUID4's. An id names a request
    in the logs and is no secret: no system call for it (``random`` is seeded again in
    each forked worker), where os.urandom's was one per request."""
    return f"{random.getrandbits(128):032x}"


# What a refused request's body may still be read to answer it: a client that sends
# its whole body before it reads the answer gets the 413 instead of a broken pipe,
# and one that sends more than this gets the 413 once the connection is closed.
DRAIN_LIMIT = 64 * 1024 * 1024


class BodyTooLarge(HTTPException):
    """The request body passed the limit while it was being read. An HTTPException,
    because FastAPI turns any other error of a body read into a 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, too_large(limit))


class ServiceMiddleware:
    """Gives each request its id, refuses a body over ``max_body_bytes`` with 413 and
    logs one line per request."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, access_line: logs.AccessLine) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.access_line = access_line

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        given, length = _read_headers(scope["headers"])
        request_id = given if given is not None and is_sane_request_id(given) else new_request_id()
        token = logs.request_id.set(request_id)
        # For the 500 handler, which answers outside every middleware, after this one
        # has reset the context variable.
        scope[REQUEST_ID_KEY] = request_id
        id_header = (_ID_HEADER, request_id.encode("latin-1"))
        status = 500  # until the application answers
        answered = False

        async def sending(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                status = message["status"]
                answered = True
                message["headers"] = [*message.get("headers", ()), id_header]
            await send(message)

        try:
            if length is not None and length > self.max_body_bytes:
                await self._refuse(scope, receive, sending)
            else:
                await self.app(scope, self._limited(receive), sending)
        except BodyTooLarge:
            if answered:
                raise
            await self._refuse(scope, receive, sending)
        finally:
            route = scope.get("route")
            self.access_line(
                scope["method"],
                getattr(route, "path", None) or scope.get("path", ""),
                status,
                round((time.perf_counter() - started) * 1000, 2),
            )
            logs.request_id.reset(token)

    def _limited(self, receive: Receive) -> Receive:
        seen = 0
        limit = self.max_body_bytes

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        return limited

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        await _drain(receive)
        response = problem_response(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE, too_large(self.max_body_bytes)
        )
        # Closing: the client's unread body must not be taken for the next request.
        response.headers["connection"] = "close"
        await response(scope, receive, send)


def too_large(limit: int) -> str:
    return f"the request body is larger than {limit} bytes (MAX_BODY_BYTES)"


async def _drain(receive: Receive) -> None:
    """Read what is left of the request body, up to DRAIN_LIMIT bytes."""
    drained = 0
    while drained <= DRAIN_LIMIT:
        message = await receive()
        if message["type"] != "http.request":
            return
        drained += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


def _read_headers(headers: list[tuple[bytes, bytes]]) -> tuple[str | None, int | None]:
    """The request's X-Request-ID and Content-Length (None: absent or not a number), in
    one pass over its headers."""
    given: str | None = None
    length: int | None = None
    for name, value in headers:
        if name == _ID_HEADER:
            given = value.decode("latin-1")
        elif name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                length = None
    return given, length
