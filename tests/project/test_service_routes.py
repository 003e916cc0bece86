"""create_service serves a component's router from the app's own router: every route
answers, declares what every route can answer besides its own statuses, keeps its
own declarations, and answers to ``app.dependency_overrides`` as an included
router's routes do."""

from __future__ import annotations

import subprocess
import sys
from http import HTTPStatus
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends

from hexforge.service import create_service, problems
from hexforge.service.app import YOUNG_GENERATION_THRESHOLD
from hexforge.service.settings import ServiceSettings
from tests.helpers import asgi_get


def who() -> str:
    return "the real one"


def component_router() -> APIRouter:
    router = APIRouter(prefix="/things", tags=["things"])

    @router.get("", responses=problems.responses(HTTPStatus.UNPROCESSABLE_ENTITY))
    async def list_things(caller: Annotated[str, Depends(who)]) -> dict[str, Any]:
        return {"caller": caller}

    @router.get("/broken")
    async def broken() -> dict[str, Any]:
        raise RuntimeError("a bug, with a secret: postgresql://user:pw@db/shop")

    @router.get("/{thing_id}", status_code=HTTPStatus.ACCEPTED, summary="One thing")
    async def get_thing(thing_id: int) -> dict[str, Any]:
        return {"id": thing_id}

    return router


def service() -> Any:
    return create_service(
        title="things",
        settings=ServiceSettings(),
        routers=lambda pool: [component_router()],
    )


def test_the_components_routes_answer_with_their_own_statuses() -> None:
    app = service()
    assert asgi_get(app, "/things").json() == {"caller": "the real one"}
    found = asgi_get(app, "/things/7")
    assert found.status_code == HTTPStatus.ACCEPTED and found.json() == {"id": 7}
    assert asgi_get(app, "/healthz").status_code == HTTPStatus.OK


def test_dependency_overrides_reach_the_components_routes() -> None:
    app = service()
    app.dependency_overrides[who] = lambda: "a stand-in"
    assert asgi_get(app, "/things").json() == {"caller": "a stand-in"}


def test_each_route_declares_its_own_answers_and_those_of_every_route() -> None:
    paths = service().openapi()["paths"]
    listed, one = paths["/things"]["get"], paths["/things/{thing_id}"]["get"]
    assert {"200", "422", "500", "503"} <= listed["responses"].keys()
    assert {"202", "500", "503"} <= one["responses"].keys()
    assert one["summary"] == "One thing" and one["tags"] == ["things"]
    assert listed["operationId"] != one["operationId"]


def test_an_unexpected_failure_answers_500_with_the_request_id_and_nothing_else(
    capsys: pytest.CaptureFixture[str],
) -> None:
    answer = asgi_get(service(), "/things/broken", headers={"X-Request-ID": "abc-123"})
    assert answer.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert answer.headers["x-request-id"] == "abc-123"
    body = answer.json()
    assert body["detail"] == "the request failed unexpectedly; its id is abc-123"
    assert "secret" not in answer.body.decode() and "postgresql" not in answer.body.decode()
    # The traceback's log line and the access line both carry the id.
    logged = capsys.readouterr().err
    failure = [line for line in logged.splitlines() if "unexpected failure" in line]
    access = [line for line in logged.splitlines() if "hexforge.access" in line]
    assert failure and "abc-123" in failure[0]
    assert access and "abc-123" in access[0] and "500" in access[0]


def test_starting_freezes_what_lives_as_long_as_the_process_and_eases_young_collections() -> None:
    # In a process of its own: another test's app may have frozen this one's heap.
    script = """
import asyncio, gc
from hexforge.service import create_service
from hexforge.service.settings import ServiceSettings

async def main():
    app = create_service(title="t", settings=ServiceSettings(), routers=lambda pool: [])
    before = gc.get_freeze_count()
    async with app.router.lifespan_context(app):
        started = gc.get_freeze_count()
        young = gc.get_threshold()[0]
    full = []
    gc.callbacks.append(lambda phase, info: full.append(info["generation"] == 2))
    async with app.router.lifespan_context(app):
        again = sum(full)
    print(before, started, young, again)

asyncio.run(main())
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    before, started, young, full_collections = map(int, done.stdout.split())
    assert before == 0
    assert young == YOUNG_GENERATION_THRESHOLD
    # The modules, the app and its routes: tens of thousands of objects, not a few.
    assert started > 10_000
    # Started again in the same process: no second full collection.
    assert full_collections == 0


def test_a_young_generation_threshold_the_application_raised_is_kept() -> None:
    script = f"""
import asyncio, gc
from hexforge.service import create_service
from hexforge.service.settings import ServiceSettings

async def main():
    gc.set_threshold({YOUNG_GENERATION_THRESHOLD * 5}, 10, 10)
    app = create_service(title="t", settings=ServiceSettings(), routers=lambda pool: [])
    async with app.router.lifespan_context(app):
        print(*gc.get_threshold())

asyncio.run(main())
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == [str(YOUNG_GENERATION_THRESHOLD * 5), "10", "10"]
