"""The ``usecases`` answer: the commands a component offers beyond create, read,
list, replace and delete.

``reserve(quantity:int:gt=0), discontinue()`` is parsed once, here, into
:class:`UseCase` objects that carry every name a template needs (the command class,
its request DTO, the route). The inputs are fields of the field language, parsed by
:mod:`fields`; names follow :mod:`naming`. Each use case becomes an entity-scoped
command: ``POST /<plural>/{id}/<name>``, whose service method body the user writes.
Stdlib only: it runs inside Copier's interpreter.
"""

from __future__ import annotations

from dataclasses import dataclass

from fields import Field, FieldsError, generated_class_names, parse_fields
from naming import ComponentNames, component_names, snake_to_pascal, use_case_name_error

SYNTAX = (
    "comma-separated name(field, ...), the fields in the field language, or nothing "
    "(e.g. 'reserve(quantity:int:gt=0), discontinue()')"
)

# What the request DTO defines next to the fields.
DTO_RESERVED = frozenset({"to_command"})


class UseCasesError(ValueError):
    """The usecases answer broke a rule; the message names the value and the rule."""


@dataclass(frozen=True)
class UseCase:
    """One use case and the names the templates derive from it."""

    name: str  # reserve: the service and port method
    fields: tuple[Field, ...]
    command: str  # ReserveProduct: the domain command class
    dto: str  # ReserveProductIn: the request body
    route_function: str  # reserve_product: the FastAPI operation
    segment: str  # reserve: the last segment of POST /<plural>/{id}/<segment>

    @property
    def title(self) -> str:
        return self.name.replace("_", " ")

    @property
    def spec(self) -> str:
        return f"{self.name}({', '.join(f.spec for f in self.fields)})"

    @property
    def ruled_fields(self) -> list[Field]:
        return [f for f in self.fields if f.checked_rules]


def split_use_cases(text: str) -> list[str]:
    """The top-level comma-separated items of ``text`` (commas inside parentheses
    separate fields, not use cases)."""
    items, depth, start = [], 0, 0
    for position, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise UseCasesError(f"{text!r} closes a parenthesis it never opened: {SYNTAX}")
        elif char == "," and depth == 0:
            items.append(text[start:position])
            start = position + 1
    if depth:
        raise UseCasesError(f"{text!r} leaves a parenthesis open: {SYNTAX}")
    items.append(text[start:])
    return items


def name_error(name: str, names: ComponentNames) -> str | None:
    """Why ``name`` cannot name a use case of the component, or None: the naming
    rules (naming.py), then the command class it would take."""
    if (problem := use_case_name_error(name, names)) is not None:
        return problem
    command = snake_to_pascal(name) + names.entity
    if command in generated_class_names(names.entity):
        return (
            f"use case {name!r} would name its command {command}, a class the generated code "
            "already defines: choose another name"
        )
    return None


def _parse_one(item: str, names: ComponentNames) -> UseCase:
    name, paren, rest = (part.strip() for part in item.partition("("))
    if not paren or not rest.endswith(")") or not name:
        raise UseCasesError(f"{item.strip()!r} is not name(field, ...): {SYNTAX}")
    if (problem := name_error(name, names)) is not None:
        raise UseCasesError(problem)
    inner = rest.removesuffix(")").strip()
    command = snake_to_pascal(name) + names.entity
    try:
        parsed = parse_fields(inner, command, names.component) if inner else []
    except FieldsError as error:
        raise UseCasesError(f"use case {name!r}: {error}") from None
    for f in parsed:
        if f.is_enum or f.type.ref:
            kind = "an enum" if f.is_enum else f"a reference ({f.type.spec})"
            raise UseCasesError(
                f"use case {name!r}: field {f.name!r} is {kind}; use cases take the scalar "
                "types (str int float bool decimal date datetime uuid) for now"
            )
        if f.unique or f.index:
            raise UseCasesError(
                f"use case {name!r}: field {f.name!r} is {'unique' if f.unique else 'index'}, "
                "which only stored fields can be: drop it"
            )
        if f.name in DTO_RESERVED or f.name == names.id_param:
            raise UseCasesError(
                f"use case {name!r}: field {f.name!r} clashes with the generated request "
                f"(reserved: {', '.join(sorted(DTO_RESERVED | {names.id_param}))})"
            )
    return UseCase(
        name=name,
        fields=tuple(parsed),
        command=command,
        dto=f"{command}In",
        route_function=f"{name}_{names.entity_snake}",
        segment=name.replace("_", "-"),
    )


def parse_use_cases(text: str, entity: str, component: str = "component") -> list[UseCase]:
    """Parse a usecases answer; raise :class:`UseCasesError` naming the culprit.
    An empty answer is no use case."""
    if not text.strip():
        return []
    names = component_names(component, entity)
    found: list[UseCase] = []
    for item in split_use_cases(text):
        if not item.strip():
            raise UseCasesError(f"{text!r} has an empty entry (a stray comma?): {SYNTAX}")
        use_case = _parse_one(item, names)
        if any(other.name == use_case.name for other in found):
            raise UseCasesError(
                f"use case {use_case.name!r} appears twice: use case names must be unique"
            )
        found.append(use_case)
    return found


def use_cases_error(text: object, entity: object = "", fields: object = "") -> str:
    """Validator form of :func:`parse_use_cases`: the message, or '' when valid.

    With the fields answer, a command class that would take an enum class's name
    (``Product`` + field ``product`` and use case ``product``) is refused too.
    """
    if not isinstance(text, str):
        return f"{text!r} is not text: {SYNTAX}"
    if not isinstance(entity, str) or not entity:
        return ""  # the entity name's own validator speaks
    try:
        parsed = parse_use_cases(text, entity)
    except UseCasesError as error:
        return str(error)
    try:
        enums = {f.type.python for f in parse_fields(str(fields), entity) if f.is_enum}
    except FieldsError:
        return ""  # the fields answer's own validator speaks
    for use_case in parsed:
        if use_case.command in enums:
            return (
                f"use case {use_case.name!r} would name its command {use_case.command}, the "
                "enum class of a field: rename one"
            )
    return ""


def normalise_use_cases(text: str, entity: str) -> str:
    """The canonical spelling of a valid usecases answer."""
    return ", ".join(use_case.spec for use_case in parse_use_cases(text, entity))
