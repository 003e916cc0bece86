"""A route's query parameters read as one Pydantic model, the way a list takes them.

FastAPI reads a parameter model (``Annotated[Model, Query()]``) by inspecting each
field's type again on every request; for a list page with a few filters that was a
fifth of the request's time (bench/service_bench.py). :class:`QueryParameters` reads
the query string once into the same model, refusing with the same 422, and gives the
OpenAPI parameters FastAPI would have declared, from the model's own JSON schema:

    LIST_PARAMETERS = QueryParameters(ItemListParams)

    @router.get("", openapi_extra=LIST_PARAMETERS.openapi)
    async def list_items(request: Request):
        params = LIST_PARAMETERS.read(request)

It is also a dependency (``Depends(LIST_PARAMETERS)``); the generated routes call
:meth:`QueryParameters.read` instead, since FastAPI's solving of one more dependency
was about 3% of a list page.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class QueryParameters(Generic[M]):
    """A dependency giving the request's query parameters as a ``model``."""

    def __init__(self, model: type[M]) -> None:
        self.model = model
        schema = model.model_json_schema()
        properties: dict[str, Any] = schema.get("properties", {})
        # A parameter that takes many values takes them repeated (?tag=a&tag=b).
        self._repeatable = frozenset(
            name for name, field in properties.items() if _takes_many(field)
        )
        required = set(schema.get("required", ()))
        definitions = schema.get("$defs", {})
        self.openapi: dict[str, Any] = {
            "parameters": [
                _parameter(name, _inline(field, definitions), name in required)
                for name, field in properties.items()
            ]
        }

    async def __call__(self, request: Request) -> M:
        return self.read(request)

    def read(self, request: Request) -> M:
        """The request's query parameters as the model; RequestValidationError (422,
        each error located in the query) when they break it."""
        values: dict[str, Any] = {}
        for name, value in request.query_params.multi_items():
            if name in self._repeatable:
                values.setdefault(name, []).append(value)
            else:
                values[name] = value  # given twice, the last counts, as in FastAPI
        try:
            return self.model.model_validate(values)
        except ValidationError as error:
            errors = error.errors(include_url=False)
            raise RequestValidationError(
                [{**item, "loc": ("query", *item["loc"])} for item in errors]
            ) from None


def _takes_many(schema: dict[str, Any]) -> bool:
    """Whether a field's schema takes a list (``list[str]``, ``list[str] | None``)."""
    options = schema.get("anyOf", [schema])
    return any(isinstance(option, dict) and option.get("type") == "array" for option in options)


def _parameter(name: str, schema: dict[str, Any], required: bool) -> dict[str, Any]:
    parameter = {"name": name, "in": "query", "required": required, "schema": schema}
    if "description" in schema:
        parameter["description"] = schema["description"]
    return parameter


def _inline(schema: Any, definitions: dict[str, Any]) -> Any:
    """``schema`` with each ``$ref`` to the model's ``$defs`` (an enum's values...)
    replaced by the definition: a parameter's schema stands alone in the document."""
    if isinstance(schema, list):
        return [_inline(item, definitions) for item in schema]
    if not isinstance(schema, dict):
        return schema
    inlined = {key: _inline(value, definitions) for key, value in schema.items()}
    reference = inlined.get("$ref")
    if isinstance(reference, str) and reference.startswith("#/$defs/"):
        del inlined["$ref"]
        target = _inline(definitions[reference.removeprefix("#/$defs/")], definitions)
        return {**target, **inlined}  # the field's own words (its description) win
    return inlined
