"""``/healthz`` and ``/readyz`` (SPEC §13), for load balancers and orchestrators.

Liveness says the process serves. Readiness says it can do its work: the database
answers and no migration is pending; otherwise 503 with the reason, which names no
host, user or URL (the log line beside it has the details).
"""

from __future__ import annotations

import asyncio
import logging
from http import HTTPStatus
from typing import Any

from fastapi import APIRouter
from psycopg.conninfo import make_conninfo
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel
from starlette.responses import JSONResponse, Response

from hexforge import migrate
from hexforge.service import problems

log = logging.getLogger("hexforge.service")

PROBE_TIMEOUT_S = 5  # a probe answers within an orchestrator's usual timeout


class Status(BaseModel):
    status: str


class Readiness:
    """Whether the service can do its work, on the database at ``url`` (None: memory)."""

    def __init__(self, url: str | None, pool: AsyncConnectionPool[Any] | None) -> None:
        self.url = make_conninfo(url, connect_timeout=2) if url else None
        self.pool = pool
        self.ready = True

    async def reason(self) -> str | None:
        """Why the service is not ready, in one line; None when it is."""
        if self.url is None:
            return None
        try:
            pending = await asyncio.wait_for(
                asyncio.to_thread(migrate.pending, self.url), PROBE_TIMEOUT_S
            )
        except (migrate.MigrationError, TimeoutError) as error:
            log.warning("not ready: %s", error or "the database did not answer in time")
            self.ready = False
            return (
                "the database does not answer"
                if isinstance(error, TimeoutError) or "cannot connect" in str(error)
                else "the database schema does not match the migrations (see the log)"
            )
        if pending:
            self.ready = False
            return "migrations pending: " + ", ".join(m.label for m in pending)
        if not self.ready and self.pool is not None:
            # Back from an outage: drop the pooled connections it broke.
            await self.pool.check()
        self.ready = True
        return None


def router(readiness: Readiness) -> APIRouter:
    probes = APIRouter(tags=["health"])

    @probes.get("/healthz", summary="Liveness: the process serves")
    async def healthz() -> Status:
        return Status(status="ok")

    @probes.get(
        "/readyz",
        summary="Readiness: the database answers and no migration is pending",
        responses={
            HTTPStatus.OK.value: {"model": Status, "description": "Ready"},
            **problems.responses(HTTPStatus.SERVICE_UNAVAILABLE),
        },
    )
    async def readyz() -> Response:
        reason = await readiness.reason()
        if reason is None:
            return JSONResponse({"status": "ready"})
        return problems.problem_response(HTTPStatus.SERVICE_UNAVAILABLE, reason)

    return probes
