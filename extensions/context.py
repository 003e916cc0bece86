"""Derived context: the names and field objects templates render from.

Computed once per render from the answers, so templates never re-derive a name.
"""

from __future__ import annotations

import functools
from typing import Any

import auth
from fields import FieldsError, parse_fields
from naming import (
    answers_file,
    component_names,
    component_rule_error,
    pascal_rule_error,
    reference_names,
)
from usecases import UseCasesError, parse_use_cases


def derive(context: dict[str, Any]) -> None:
    """Add ``hx_answers_file``, and for a component ``names``, ``field_list`` and
    the subsets of it templates loop over (``ruled_fields``, ``optional_fields``,
    ``unique_fields``, ``indexed_fields``, ``sortable_fields``, ``enum_fields``,
    ``defaulted_fields``, ``bounded_fields``, ``ref_fields``; ``references``:
    naming.ReferenceNames of each referenced component), to ``context`` in place.

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
        context.update(_use_cases(component, entity, str(context.get("usecases") or "")))
        context["access_rules"] = auth.rules(
            context.get("auth"), context.get("access"), context.get("usecases"), entity
        )
        context["access_roles"] = auth.roles(context["access_rules"])


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
        "ref_fields": [field for field in field_list if field.is_ref],
        # One entry per referenced component, in the order of its first ref field.
        "references": [
            reference_names(other)
            for other in dict.fromkeys(field.type.ref for field in field_list if field.is_ref)
        ],
    }


@functools.lru_cache(maxsize=64)
def _use_cases(component: str, entity: str, text: str) -> dict[str, Any]:
    """``use_cases``, the parsed usecases answer, and ``use_case_fields``, the inputs
    of them all (absent while the answer is invalid: its validator reports it)."""
    if component_rule_error(component) is not None or pascal_rule_error(entity) is not None:
        return {}
    try:
        parsed = parse_use_cases(text, entity, component)
    except UseCasesError:
        return {}
    return {
        "use_cases": parsed,
        "use_case_fields": [f for use_case in parsed for f in use_case.fields],
    }
