"""hexforge.service.parameters reads a list's query string as FastAPI's own parameter
model reading does (``Annotated[Model, Query()]``), answer for answer, and declares the
same OpenAPI parameters: held to FastAPI on drawn query strings."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Query
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from hexforge.service.parameters import QueryParameters
from tests.helpers import asgi_get


def _absent_if_empty(value: object) -> object:
    return None if value == "" else value


class Colour(Enum):
    RED = "red"
    BLUE = "blue"


class Params(BaseModel):
    """The shape of a generated list's parameters: page, cursor, sort, filters."""

    model_config = ConfigDict(extra="forbid")

    limit: Annotated[int, Field(ge=1, le=100, description="Page size.")] = 20
    cursor: Annotated[str | None, Field(max_length=8)] = None
    sort: Annotated[str | None, BeforeValidator(_absent_if_empty)] = None
    count: bool = False
    name: Annotated[list[Annotated[str, Field(pattern=r"^[^\x00]*$")]], Field()] = []
    colour: Annotated[list[Colour], Field(description="Any of these colours.")] = []
    qty__gte: Annotated[int | None, BeforeValidator(_absent_if_empty)] = None
    tags: list[str] | None = None


READ = QueryParameters(Params)


def _apps() -> tuple[FastAPI, FastAPI]:
    fastapis, ours = FastAPI(), FastAPI()

    @fastapis.get("/items")
    async def by_fastapi(params: Annotated[Params, Query()]) -> dict[str, Any]:
        return params.model_dump(mode="json")

    @ours.get("/items", openapi_extra=READ.openapi)
    async def by_hexforge(params: Annotated[Params, Depends(READ)]) -> dict[str, Any]:
        return params.model_dump(mode="json")

    return fastapis, ours


FASTAPIS, OURS = _apps()


def _get(app: FastAPI, query: str) -> tuple[int, Any]:
    answer = asgi_get(app, "/items", query=query)
    return answer.status_code, answer.json()


def _where(body: Any) -> list[tuple[Any, ...]]:
    """A 422's errors as (location, type), in order."""
    return [(tuple(item["loc"]), item["type"]) for item in body["detail"]]


KEYS = st.sampled_from(
    ["limit", "cursor", "sort", "count", "name", "colour", "qty__gte", "tags", "other", "Limit"]
)
VALUES = st.one_of(
    st.sampled_from(["", "0", "1", "20", "100", "101", "-1", "true", "no", "red", "blue"]),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(max_size=12),
)


@given(pairs=st.lists(st.tuples(KEYS, VALUES), max_size=6))
@settings(max_examples=300, deadline=None)
def test_a_query_string_reads_as_fastapis_parameter_model_reads_it(
    pairs: list[tuple[str, str]],
) -> None:
    query = urlencode(pairs)
    theirs, ours = _get(FASTAPIS, query), _get(OURS, query)
    assert ours[0] == theirs[0], query
    if ours[0] == 200:
        assert ours[1] == theirs[1]
    else:
        assert ours[0] == 422
        assert _where(ours[1]) == _where(theirs[1])


def test_repeated_values_fill_a_list_and_the_last_of_a_single_value_counts() -> None:
    status, body = _get(OURS, "name=a&name=b&limit=5&limit=7&colour=red")
    assert status == 200
    assert body["name"] == ["a", "b"] and body["limit"] == 7 and body["colour"] == ["red"]


def test_an_unknown_parameter_is_refused_naming_it() -> None:
    status, body = _get(OURS, "limit=5&colur=red")
    assert status == 422
    assert _where(body) == [(("query", "colur"), "extra_forbidden")]


def test_the_openapi_parameters_are_fastapis() -> None:
    def parameters(app: FastAPI) -> dict[str, Any]:
        found = app.openapi()["paths"]["/items"]["get"]["parameters"]
        return {p["name"]: p for p in found}

    theirs, ours = parameters(FASTAPIS), parameters(OURS)
    assert list(ours) == list(theirs)
    components = FASTAPIS.openapi().get("components", {}).get("schemas", {})
    for name, parameter in ours.items():
        expected = theirs[name]
        for key in ("in", "required", "description"):
            assert parameter.get(key) == expected.get(key), (name, key)
        assert _resolved(parameter["schema"], {}) == _resolved(expected["schema"], components)
    # An enum's values stand in the parameter itself: no reference to resolve.
    assert ours["colour"]["schema"]["items"]["enum"] == ["red", "blue"]


def _resolved(schema: Any, components: dict[str, Any]) -> Any:
    """``schema`` with references into the document's components replaced, and the
    null defaults FastAPI leaves out dropped, for comparison."""
    if isinstance(schema, list):
        return [_resolved(item, components) for item in schema]
    if not isinstance(schema, dict):
        return schema
    reference = schema.get("$ref")
    if isinstance(reference, str):
        target = components[reference.rsplit("/", 1)[-1]]
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        return _resolved({**target, **rest}, components)
    return {
        key: _resolved(value, components)
        for key, value in schema.items()
        if not (key == "default" and value is None)
    }
