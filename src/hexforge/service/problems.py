"""RFC 9457 problem details: the one body of every error a service answers (SPEC §13).

A domain error becomes a :class:`ProblemError` at the HTTP edge (the component's
``_http_error``), whose ``type`` names the error (``urn:problem:ProductNotFound``);
the handlers installed by :func:`install` turn it, any other HTTP error, a request
that breaks its schema, and an unexpected failure into ``application/problem+json``.
No body ever echoes the request's input: a validation problem lists where and what,
never the value (which JSON may not even be able to carry: NaN, a lone surrogate).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException

from hexforge.service import logs

MEDIA_TYPE = "application/problem+json"
BLANK = "about:blank"  # RFC 9457: no more meaning than the status code's
REQUEST_ID_HEADER = "X-Request-ID"
# Where hexforge.service.middleware leaves the request's id in the ASGI scope.
REQUEST_ID_KEY = "hexforge.request_id"

log = logging.getLogger("hexforge.service")


class ValidationItem(BaseModel):
    """One way the request breaks its schema."""

    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """An error answer (RFC 9457)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    errors: list[ValidationItem] | None = None
    request_id: str | None = None


class ProblemError(HTTPException):
    """An HTTP error with its problem type: ``name`` is the domain error's class name."""

    def __init__(
        self,
        status: HTTPStatus,
        name: str,
        detail: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status_code=status, detail=detail, headers=dict(headers or {}) or None)
        self.name = name

    @classmethod
    def of(cls, status: HTTPStatus, error: Exception) -> ProblemError:
        return cls(status, type(error).__name__, str(error))


def responses(*statuses: HTTPStatus) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of a route that can answer ``statuses`` with a problem."""
    return {
        status.value: {
            "model": Problem,
            "description": status.phrase,
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


def problem_response(
    status: int,
    detail: str,
    *,
    name: str | None = None,
    errors: Sequence[ValidationItem] | None = None,
    headers: Mapping[str, str] | None = None,
    request_id: str | None = None,
) -> JSONResponse:
    """The problem answer; ``name`` (a domain error's) gives its type and title."""
    phrase = _phrase(status)
    body = Problem(
        type=f"urn:problem:{name}" if name else BLANK,
        title=_words(name) if name else phrase,
        status=int(status),
        detail=clean(detail),
        errors=list(errors) if errors is not None else None,
        request_id=request_id,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=int(status),
        media_type=MEDIA_TYPE,
        headers=dict(headers or {}),
    )


def install(app: FastAPI) -> None:
    """Answer every error of ``app`` with a problem, and say so in its OpenAPI document."""
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(Exception, _unexpected)
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = only_problem_content(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def only_problem_content(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` without the ``application/json`` FastAPI adds beside each problem
    response (a response ``model`` always gets one): an error is a problem only."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for response in operation.get("responses", {}).values():
                content = response.get("content", {})
                if MEDIA_TYPE in content:
                    content.pop("application/json", None)
    return document


async def _http_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    detail = error.detail if isinstance(error.detail, str) else _phrase(error.status_code)
    name = error.name if isinstance(error, ProblemError) else None
    return problem_response(error.status_code, detail, name=name, headers=error.headers)


async def _invalid_request(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    items = [
        ValidationItem(
            loc=[part if isinstance(part, int) else clean(str(part)) for part in item["loc"]],
            msg=clean(str(item.get("msg", ""))),
            type=clean(str(item.get("type", ""))),
        )
        for item in error.errors()
    ]
    where = ", ".join(".".join(str(part) for part in item.loc) for item in items[:5])
    more = f" and {len(items) - 5} more" if len(items) > 5 else ""
    detail = f"the request breaks its schema at {where}{more}" if items else "invalid request"
    return problem_response(HTTPStatus.UNPROCESSABLE_ENTITY, detail, errors=items)


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    """A failure nobody planned for: logged with its traceback; the answer holds the
    request id only (no traceback, SQL or connection string leaves the service)."""
    request_id = request.scope.get(REQUEST_ID_KEY) or logs.request_id.get() or ""
    # Set again for the traceback's line: the middleware that set it has returned.
    token = logs.request_id.set(request_id or None)
    try:
        log.error("unexpected failure in %s %s", request.method, request.url.path, exc_info=error)
    finally:
        logs.request_id.reset(token)
    return problem_response(
        HTTPStatus.INTERNAL_SERVER_ERROR,
        f"the request failed unexpectedly; its id is {request_id or 'unknown'}",
        request_id=request_id or None,
        # The error handler answers outside every middleware: the id is set here.
        headers={REQUEST_ID_HEADER: request_id} if request_id else {},
    )


def clean(text: str) -> str:
    """``text`` as JSON can carry it: a lone surrogate becomes its escape."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _words(name: str) -> str:
    """``ProductNotFound`` as a title: ``Product not found``."""
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+", name) or [name]
    return " ".join([words[0], *(word.lower() for word in words[1:])])
