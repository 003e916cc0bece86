"""The application around a project's components (SPEC §13): settings, pool, schema
check, health, problem details, request ids, logs, the body limit, CORS, tracing.

``app/main.py`` calls :func:`create_service` with its settings and the routers of
``app/components.py``; everything here is the same for every project, so it lives in
the package and moves with the pin, not in the project's history.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import Any

import psycopg
from fastapi import APIRouter, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from starlette.responses import Response

from hexforge import migrate
from hexforge.service import access, health, logs, problems, telemetry
from hexforge.service.middleware import ServiceMiddleware
from hexforge.service.settings import ServiceSettings
from hexforge.transactions import Contention

log = logging.getLogger("hexforge.service")

Pool = AsyncConnectionPool[Any]
Routers = Callable[[Any], Iterable[APIRouter]]

# What any route may answer besides its own statuses.
EVERY_ROUTE = problems.responses(HTTPStatus.INTERNAL_SERVER_ERROR, HTTPStatus.SERVICE_UNAVAILABLE)


def create_service(*, title: str, settings: ServiceSettings, routers: Routers) -> FastAPI:
    """The FastAPI application serving ``routers(pool)`` as ``settings`` say: on
    PostgreSQL when ``DATABASE_URL`` is set (pool None otherwise: in memory)."""
    logs.configure(settings.log_level, settings.log_format)
    url = settings.database_url
    pool = new_pool(settings) if url else None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if pool is None or url is None:
            log.info("serving from memory: set DATABASE_URL to keep data")
            settle_heap()
            yield
            return
        await asyncio.to_thread(check_schema, url, settings.hexforge_migrate_on_start)
        await pool.open()
        log.info("serving on %s", migrate.redact(url))
        settle_heap()
        try:
            yield  # SIGTERM: uvicorn lets requests in flight finish, then comes back here
        finally:
            await pool.close()
            log.info("database pool closed")

    app = FastAPI(title=title, lifespan=lifespan)
    problems.install(app)
    app.add_exception_handler(psycopg.OperationalError, _database_unavailable)
    app.add_exception_handler(PoolTimeout, _database_unavailable)
    app.add_exception_handler(psycopg.DataError, _value_refused_by_the_database)
    app.add_exception_handler(Contention, _too_much_contention)
    for router in routers(pool):
        serve_routes(app, router, EVERY_ROUTE)
    serve_routes(app, health.router(health.Readiness(url, pool)), {})
    # Checked here, before serving: a route that needs tokens with no way to verify
    # them would answer every request 500. Settings that describe a verifier give it
    # at once; without them, the routes are asked (their OpenAPI document).
    if settings.auth_problem() is None or access.needs_tokens(app):
        app.state.hexforge_verifier = access.verifier_from(settings)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=[problems.REQUEST_ID_HEADER],
        )
    # The last added runs first: the request id is set before anything logs, and a
    # CORS preflight is logged too.
    app.add_middleware(
        ServiceMiddleware,
        max_body_bytes=settings.max_body_bytes,
        access_line=logs.access_line(settings.log_level, settings.log_format),
    )
    telemetry.instrument_from_environment(app)
    return app


# The young generation's collection threshold of a served app. Python's default (700
# container objects allocated and not yet freed) is crossed all the time by a few
# requests in flight, whose objects are all alive: a young collection about every
# eight requests, each walking them in vain (about 4% of a request in
# bench/service_bench.py). At 10,000, one every few hundred requests at most.
YOUNG_GENERATION_THRESHOLD = 10_000


@functools.cache
def settle_heap() -> None:
    """Collect what starting left behind, freeze the rest (``gc.freeze``) and collect
    the young generation less often (a threshold the application set higher is
    kept). The modules, models and routes live as long as the process: frozen, a
    full collection no longer walks them. Unfrozen, each walked some 90,000 objects,
    40 to 50 ms with requests waiting: the p99 of a served component
    (bench/service_bench.py) was up to four times the minimal app's. Once per
    process: an app started again in the same process (tests) finds it done."""
    gc.collect()
    gc.freeze()
    young, *older = gc.get_threshold()
    gc.set_threshold(max(young, YOUNG_GENERATION_THRESHOLD), *older)


def serve_routes(app: FastAPI, router: APIRouter, responses: dict[int | str, Any]) -> None:
    """Serve ``router``'s routes from ``app``'s own router, each also declaring
    ``responses``: what ``app.include_router`` did until FastAPI 0.16x, which now keeps
    an included router as a node it walks on every request (about a tenth of a
    component's request, in bench/service_bench.py). The routes are made again on the
    app, so they answer to ``app.dependency_overrides`` as included ones do."""
    for route in router.routes:
        if not isinstance(route, APIRoute):
            app.router.routes.append(route)
            continue
        app.router.add_api_route(
            route.path,
            route.endpoint,
            response_model=route.response_model,
            status_code=route.status_code,
            tags=route.tags,
            dependencies=route.dependencies,
            summary=route.summary,
            description=route.description,
            response_description=route.response_description,
            responses={**responses, **route.responses},
            deprecated=route.deprecated,
            methods=route.methods,
            operation_id=route.operation_id,
            response_model_include=route.response_model_include,
            response_model_exclude=route.response_model_exclude,
            response_model_by_alias=route.response_model_by_alias,
            response_model_exclude_unset=route.response_model_exclude_unset,
            response_model_exclude_defaults=route.response_model_exclude_defaults,
            response_model_exclude_none=route.response_model_exclude_none,
            include_in_schema=route.include_in_schema,
            response_class=route.response_class,
            name=route.name,
            callbacks=route.callbacks,
            openapi_extra=route.openapi_extra,
            generate_unique_id_function=route.generate_unique_id_function,
        )


def new_pool(settings: ServiceSettings) -> Pool:
    """The connection pool (opened by the app's start), each session limited to
    ``DATABASE_STATEMENT_TIMEOUT_MS`` per statement."""
    options = {}
    if settings.database_statement_timeout_ms:
        options["options"] = f"-c statement_timeout={settings.database_statement_timeout_ms}"
    return AsyncConnectionPool(
        settings.database_url or "",
        min_size=settings.database_pool_min,
        max_size=settings.database_pool_max,
        kwargs=options,
        open=False,
    )


def check_schema(url: str, apply: bool) -> None:
    """Refuse to serve on a database the migrations have not brought up to date: every
    request would fail. With ``apply`` (HEXFORGE_MIGRATE_ON_START) apply them instead,
    under hexforge migrate's lock: replicas starting together apply each once."""
    if apply:
        migrate.apply(url)
        return
    pending = [migration.label for migration in migrate.pending(url)]
    if pending:
        raise migrate.MigrationError(
            f"migrations pending: {', '.join(pending)}; "
            "apply them with `hexforge migrate up` (the deploy step), "
            "or set HEXFORGE_MIGRATE_ON_START=1 to apply them at start"
        )


async def _database_unavailable(request: Request, error: Exception) -> Response:
    log.warning("database unavailable in %s %s: %s", request.method, request.url.path, error)
    return problems.problem_response(
        HTTPStatus.SERVICE_UNAVAILABLE, "the database is unavailable; try again later"
    )


async def _too_much_contention(request: Request, error: Exception) -> Response:
    """A write aborted by concurrent ones every time it ran: nothing was stored, and
    the same request may well pass a moment later."""
    log.warning("gave up in %s %s: %s", request.method, request.url.path, error)
    return problems.problem_response(
        HTTPStatus.SERVICE_UNAVAILABLE,
        "too many concurrent writes to the same data; try again",
        headers={"Retry-After": "1"},
    )


async def _value_refused_by_the_database(request: Request, error: Exception) -> Response:
    """A value the API's rules let through but PostgreSQL cannot store (a number past
    numeric's range...): the request's fault, so 422, never 500. The detail is
    PostgreSQL's one-line reason; the statement and its parameters stay in the log."""
    assert isinstance(error, psycopg.DataError)
    log.warning("value refused in %s %s: %s", request.method, request.url.path, error)
    reason = error.diag.message_primary or "a value is out of the database's range"
    return problems.problem_response(
        HTTPStatus.UNPROCESSABLE_ENTITY, f"a value cannot be stored: {reason}"
    )
