"""Derived context: the names and field objects templates render from.

Computed once per render from the answers, so templates never re-derive a name.
"""

from __future__ import annotations

import functools
from typing import Any

from fields import FieldsError, parse_fields
from naming import answers_file, component_names, component_rule_error, pascal_rule_error


def derive(context: dict[str, Any]) -> None:
    """Add ``hx_answers_file``, and for a component ``names``, ``field_list`` and
    the subsets of it templates loop over (``ruled_fields``, ``optional_fields``,
    ``unique_fields``, ``indexed_fields``, ``sortable_fields``, ``enum_fields``,
    ``defaulted_fields``, ``bounded_fields``), to ``context`` in place.

    Answers may still be half-typed while Copier prompts; then nothing is added
    and the validators report the problem. Copier builds a context for every path
    and file it renders, so the component's derivation is cached by its answers.
    """
    context["hx_answers_file"] = answers_file(
        context.get("kind"),
        context.get("component_name"),
        context.get("feature_dir"),
        context.get("story_id"),
    )
    if context.get("kind") != "component":
        return
    component, entity = context.get("component_name"), context.get("entity_name")
    if isinstance(component, str) and isinstance(entity, str):
        context.update(_derived(component, entity, str(context.get("fields", ""))))


@functools.lru_cache(maxsize=64)
def _derived(component: str, entity: str, fields: str) -> dict[str, Any]:
    if component_rule_error(component) is not None or pascal_rule_error(entity) is not None:
        return {}
    try:
        field_list = parse_fields(fields, entity, component)
    except FieldsError:
        return {}
    return {
        "names": component_names(component, entity),
        "field_list": field_list,
        "ruled_fields": [field for field in field_list if field.checked_rules],
        "optional_fields": [field for field in field_list if field.optional],
        "unique_fields": [field for field in field_list if field.unique],
        "indexed_fields": [field for field in field_list if field.index],
        "sortable_fields": [field for field in field_list if field.sortable],
        "enum_fields": [field for field in field_list if field.is_enum],
        "defaulted_fields": [field for field in field_list if field.has_default],
        "bounded_fields": [field for field in field_list if field.boundaries],
    }
