"""create_service serves a component's router from the app's own router: every route
answers, declares what every route can answer besides its own statuses, keeps its
own declarations, and answers to ``app.dependency_overrides`` as an included
router's routes do."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from fastapi import APIRouter, Depends

from hexforge.service import create_service, problems
from hexforge.service.settings import ServiceSettings
from tests.helpers import asgi_get


def who() -> str:
    return "the real one"


def component_router() -> APIRouter:
    router = APIRouter(prefix="/things", tags=["things"])

    @router.get("", responses=problems.responses(HTTPStatus.UNPROCESSABLE_ENTITY))
    async def list_things(caller: Annotated[str, Depends(who)]) -> dict[str, Any]:
        return {"caller": caller}

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
