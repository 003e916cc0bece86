"""Derived context: the names and field objects templates render from.

Computed once per render from the answers, so templates never re-derive a name.
"""

from __future__ import annotations

from typing import Any

from fields import FieldsError, parse_fields
from naming import component_names, pascal_rule_error, snake_rule_error


def derive(context: dict[str, Any]) -> None:
    """Add ``names``, ``field_list``, ``ruled_fields``, ``optional_fields`` in place.

    Answers may still be half-typed while Copier prompts; then nothing is added
    and the validators report the problem.
    """
    if context.get("kind") != "component":
        return
    component = context.get("component_name")
    entity = context.get("entity_name")
    if not isinstance(component, str) or snake_rule_error(component) is not None:
        return
    if not isinstance(entity, str) or pascal_rule_error(entity) is not None:
        return
    try:
        field_list = parse_fields(str(context.get("fields", "")))
    except FieldsError:
        return
    context["names"] = component_names(component, entity)
    context["field_list"] = field_list
    context["ruled_fields"] = [field for field in field_list if field.type.rule]
    context["optional_fields"] = [field for field in field_list if field.optional]
