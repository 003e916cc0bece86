"""The ``fields`` answer: its syntax, its types, its modifiers and what each becomes.

``sku:str:unique:max_length=40, price:decimal:gt=0, status:enum[active|retired]:default=active``
is parsed once, here, into :class:`Field` objects that carry everything a template
asks of a field: the Python annotation and its imports, the Pydantic constraint, the
SQL column and its constraints, the domain rules with their messages, sample values
that keep every rule (distinct where a field is unique) and the values just inside
and just outside each rule, in Python and in JSON form. Templates loop over fields
and ask; adding a type or a modifier touches this module and its tests only.
Stdlib only: it runs inside Copier's interpreter.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from naming import (
    ENTITY_RESERVED,
    component_names,
    component_rule_error,
    enum_value_error,
    field_name_error,
    reference_names,
    snake_to_pascal,
)
from pycode import import_lines

SYNTAX = (
    "comma-separated name:type, then ? for optional and :modifiers "
    "(e.g. 'sku:str:unique:max_length=40, price:decimal:gt=0, note:str?, "
    "status:enum[active|retired]:default=active')"
)
TYPE_NAMES = (
    "str",
    "int",
    "float",
    "bool",
    "decimal",
    "date",
    "datetime",
    "uuid",
    "enum[a|b]",
    "ref[component]",
)
MODIFIERS = (
    "unique",
    "index",
    "gt",
    "ge",
    "lt",
    "le",
    "min_length",
    "max_length",
    "default",
    "backfill",
)
BOUNDS = ("gt", "ge", "lt", "le")

# How many distinct values a unique field must allow: the generated tests store up
# to this many entities at once, each with its own value.
SAMPLE_COUNT = 6

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
JSON_SAFE_INT = 2**53 - 1
NO_NUL_PATTERN = r"^[^\x00]*$"
# What a decimal in a list query may be (a filter value or a position): PostgreSQL's
# numeric refuses a literal beyond about 1e131072 or with more than 16383 places.
# Its schema says number (as the request bodies do), which any JSON number keeps.
# The longest indexed text the API takes when its field declares no max_length.
INDEXED_TEXT_MAX = 500
# Where a datetime of a request (body or query) becomes its UTC instant.
IN_UTC = ("hexforge.service.values", "in_utc")
JSON_INTEGER = ("hexforge.service.values", "json_integer")
DECIMAL_API_LOWER = 'Decimal("-1e300")'
DECIMAL_API_UPPER = 'Decimal("1e300")'
DECIMAL_MAX_PLACES = 16000
DECIMAL_QUERY_LIMITS = (
    f"ge={DECIMAL_API_LOWER}, le={DECIMAL_API_UPPER}, decimal_places={DECIMAL_MAX_PLACES}"
)
DECIMAL_QUERY_SCHEMA = '{"type": "number", "minimum": -1e300, "maximum": 1e300}'

Pair = tuple[str, str]  # (module, name) of an import


class FieldsError(ValueError):
    """The fields answer broke a rule; the message names the value and the rule."""


# --------------------------------------------------------------------------- types


@dataclass(frozen=True)
class FieldType:
    """One type of the field language: how its values are written everywhere."""

    name: str
    python: str  # annotation in domain code
    imports: tuple[Pair, ...]  # what the annotation needs
    sql: str  # PostgreSQL column type
    parse: Callable[[str], Any]  # a literal of the answer -> a Python value (ValueError)
    py: Callable[[Any], str]  # a value -> a Python expression
    json: Callable[[Any], str]  # a value -> a Python expression of its JSON form
    sql_literal: Callable[[Any], str]  # a value -> a SQL literal
    preferred: tuple[Any, ...]  # sample values in order of preference
    ordered: bool = False  # takes gt/ge/lt/le
    sized: bool = False  # takes min_length/max_length
    # (value, +1 or -1) -> the nearest value above or below worth testing: the
    # value just inside or just outside a bound
    neighbour: Callable[[Any, int], Any] | None = None
    unit: Any = None  # the distance between sample values walked from a bound
    value_imports: Callable[[Any], tuple[Pair, ...]] = lambda _value: ()
    dto_python: str = ""  # annotation in the request DTO when it differs
    dto_imports: tuple[Pair, ...] = ()
    json_schema: str = ""  # JSON schema type the request DTO declares when Pydantic's is wider
    values: tuple[str, ...] = ()  # enum values
    ref: str = ""  # the referenced component of a ref[...] type

    @property
    def spec(self) -> str:
        if self.ref:
            return f"ref[{self.ref}]"
        return f"enum[{'|'.join(self.values)}]" if self.values else self.name


def _parse_int(text: str) -> int:
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise ValueError(f"{text!r} is not an integer")
    value = int(text)
    if not INT64_MIN <= value <= INT64_MAX:
        raise ValueError(f"{text!r} does not fit in a signed 64-bit integer")
    return value


def _parse_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or not re.fullmatch(r"[0-9eE.+-]+", text):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def _parse_decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a decimal number") from None
    if not value.is_finite():
        raise ValueError(f"{text!r} is not a finite decimal number")
    if value and not Decimal("1e-300") <= abs(value) <= Decimal("1e300"):
        # OpenAPI writes bounds as JSON numbers, which are floats.
        raise ValueError(f"{text!r} is beyond what JSON numbers carry (1e-300 to 1e300)")
    return value


def _parse_bool(text: str) -> bool:
    if text not in {"true", "false"}:
        raise ValueError(f"{text!r} is not true or false")
    return text == "true"


def _parse_date(text: str) -> date:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        raise ValueError(f"{text!r} is not an ISO date (YYYY-MM-DD)")
    return date.fromisoformat(text)


def _parse_datetime(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO datetime (e.g. 2024-01-31T12:30:00Z)") from None
    if value.utcoffset() is None:
        raise ValueError(f"{text!r} has no time zone (add Z or an offset such as +02:00)")
    return value.astimezone(UTC)


def _parse_uuid(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a UUID") from None


def _parse_str(text: str) -> str:
    if "\x00" in text:
        raise ValueError("text must not contain NUL characters")
    return text


def _json_number(literal: str) -> str:
    """A Python literal of a bound (``Decimal("1.5")``, ``-1e300``) as a number literal."""
    found = re.fullmatch(r'Decimal\("([^"]+)"\)', literal)
    return found.group(1) if found else literal


def _py_str(value: str) -> str:
    # JSON's escapes are Python's too; control characters (NUL...) come out escaped.
    return json.dumps(value, ensure_ascii=False)


def _py_datetime(value: datetime) -> str:
    parts = [value.year, value.month, value.day, value.hour, value.minute]
    if value.second or value.microsecond:
        parts.append(value.second)
    if value.microsecond:
        parts.append(value.microsecond)
    return f"datetime({', '.join(map(str, parts))}, tzinfo=UTC)"


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _decimal_step(bound: Decimal) -> Decimal:
    # Two places finer than the bound's own precision: "just" inside whatever the bound.
    exponent = bound.as_tuple().exponent
    return Decimal(1).scaleb(min(exponent, 0) - 2 if isinstance(exponent, int) else -2)


def _iso_datetime(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


TYPES: dict[str, FieldType] = {
    t.name: t
    for t in (
        FieldType(
            "str",
            "str",
            (),
            "text",
            _parse_str,
            _py_str,
            _py_str,
            _sql_text,
            ("alpha", "beta", "gamma", "delta", "epsilon", "zeta"),
            sized=True,
        ),
        FieldType(
            "int",
            "int",
            (),
            "bigint",
            _parse_int,
            str,
            str,
            str,
            (7, 11, 3, 42, 1, 100),
            ordered=True,
            neighbour=lambda value, direction: value + direction,
            unit=1,
        ),
        FieldType(
            "float",
            "float",
            (),
            "double precision",
            _parse_float,
            repr,
            repr,
            repr,
            (1.5, 2.25, 0.5, 10.75, 3.0, 100.125),
            ordered=True,
            neighbour=lambda value, direction: math.nextafter(value, direction * math.inf),
            unit=0.25,
        ),
        FieldType(
            "bool",
            "bool",
            (),
            "boolean",
            _parse_bool,
            repr,
            repr,
            lambda value: "TRUE" if value else "FALSE",
            (True, False),
        ),
        FieldType(
            "decimal",
            "Decimal",
            (("decimal", "Decimal"),),
            "numeric",
            _parse_decimal,
            lambda value: f'Decimal("{value}")',
            lambda value: f'"{value}"',
            str,
            tuple(Decimal(v) for v in ("10.50", "3.125", "0.75", "42", "1.01", "250.5")),
            ordered=True,
            neighbour=lambda value, direction: value + direction * _decimal_step(value),
            unit=Decimal("0.25"),
            value_imports=lambda _value: (("decimal", "Decimal"),),
            json_schema="number",
        ),
        FieldType(
            "date",
            "date",
            (("datetime", "date"),),
            "date",
            _parse_date,
            lambda value: f"date({value.year}, {value.month}, {value.day})",
            lambda value: f'"{value.isoformat()}"',
            lambda value: f"DATE '{value.isoformat()}'",
            tuple(
                date(*ymd)
                for ymd in (
                    (2024, 1, 31),
                    (1999, 12, 1),
                    (2010, 6, 15),
                    (2024, 2, 29),
                    (2001, 9, 9),
                    (2031, 12, 31),
                )
            ),
            ordered=True,
            neighbour=lambda value, direction: value + direction * timedelta(days=1),
            unit=timedelta(days=1),
            value_imports=lambda _value: (("datetime", "date"),),
        ),
        FieldType(
            "datetime",
            "datetime",
            (("datetime", "datetime"),),
            "timestamp with time zone",
            _parse_datetime,
            _py_datetime,
            lambda value: f'"{_iso_datetime(value)}"',
            lambda value: f"TIMESTAMPTZ '{value.isoformat()}'",
            (
                datetime(2024, 1, 31, 12, 30, tzinfo=UTC),
                datetime(1999, 12, 1, 8, 0, 5, tzinfo=UTC),
                datetime(2010, 6, 15, 23, 59, 59, tzinfo=UTC),
                datetime(2024, 2, 29, 0, 0, tzinfo=UTC),
                datetime(2001, 9, 9, 1, 46, 40, tzinfo=UTC),
                datetime(2031, 12, 31, 18, 15, tzinfo=UTC),
            ),
            ordered=True,
            neighbour=lambda value, direction: value + direction * timedelta(seconds=1),
            unit=timedelta(hours=1),
            value_imports=lambda _value: (("datetime", "UTC"), ("datetime", "datetime")),
            dto_python="AwareDatetime",
            dto_imports=(("pydantic", "AwareDatetime"),),
        ),
        FieldType(
            "uuid",
            "UUID",
            (("uuid", "UUID"),),
            "uuid",
            _parse_uuid,
            lambda value: f'UUID("{value}")',
            lambda value: f'"{value}"',
            lambda value: f"'{value}'",
            tuple(UUID(f"{digit * 8}-0d4b-4c5a-9e8f-7a6b5c4d3e2f") for digit in "6f0a9b1c2d3e"[:6]),
            value_imports=lambda _value: (("uuid", "UUID"),),
        ),
    )
}


def enum_type(values: tuple[str, ...], class_name: str, model_module: str) -> FieldType:
    """An ``enum[a|b]`` type: a StrEnum named ``class_name`` in the domain model."""
    pair = ((model_module, class_name),) if model_module else ()
    return FieldType(
        "enum",
        class_name,
        (),
        "text",
        lambda text: text,
        lambda value: f"{class_name}.{value.upper()}",
        lambda value: f'"{value}"',
        _sql_text,
        values,
        value_imports=lambda _value: pair,
        values=values,
    )


def ref_type(component: str, model_module: str) -> FieldType:
    """A ``ref[component]`` type: the id of an entity of ``component``, as a NewType of
    the referencing domain (naming.reference_names); a uuid column and UUID in JSON."""
    id_type = reference_names(component).id_type
    pair = ((model_module, id_type),) if model_module else ()
    return FieldType(
        "ref",
        id_type,
        pair,
        "uuid",
        _parse_uuid,
        lambda value: f'{id_type}(UUID("{value}"))',
        lambda value: f'"{value}"',
        lambda value: f"'{value}'",
        tuple(UUID(f"{digit * 8}-1e2d-4c3b-8a49-5b6c7d8e9f01") for digit in "1234ab"),
        value_imports=lambda _value: (*pair, ("uuid", "UUID")),
        dto_python="UUID",
        dto_imports=(("uuid", "UUID"),),
        ref=component,
    )


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class Rule:
    """A rule one field's values must keep, in every layer that enforces it."""

    key: str  # names the CHECK constraint: <field>_<key>
    message: str  # what every layer says when the value breaks it
    refuses: str  # Python condition on "{v}" that holds when the value breaks it
    sql: str | None  # SQL condition that holds when the column keeps it (None: domain only)
    imports: tuple[Pair, ...] = ()
    inside: Any = None  # the value just inside, when the rule is a bound
    outside: Any = None  # the value just outside (None: no such value to test)
    accepts: Callable[[Any], bool] = lambda _value: True

    @property
    def has_boundary(self) -> bool:
        """Whether the tests can try a value just outside (some types hold none)."""
        return self.outside is not None


_COMPARISONS: dict[str, tuple[str, str, Callable[[Any, Any], bool]]] = {
    # modifier: (message, Python condition that BREAKS it, test that keeps it)
    "gt": ("greater than", "<=", lambda value, bound: value > bound),
    "ge": ("at least", "<", lambda value, bound: value >= bound),
    "lt": ("less than", ">=", lambda value, bound: value < bound),
    "le": ("at most", ">", lambda value, bound: value <= bound),
}
_SQL_KEEPS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}


def _display(value: Any) -> str:
    return _iso_datetime(value) if isinstance(value, datetime) else str(value)


# --------------------------------------------------------------------------- fields

_MISSING = object()


@dataclass(frozen=True)
class Field:
    name: str
    type: FieldType
    optional: bool
    unique: bool = False
    index: bool = False
    bounds: dict[str, Any] = field(default_factory=dict)  # gt/ge/lt/le -> value
    min_length: int | None = None
    max_length: int | None = None
    default: Any = _MISSING
    # The value a migration writes into the rows already stored when the field is added
    # (or made required); never a column default.
    backfill: Any = _MISSING
    table: str = ""  # for constraint names; set when the component is known

    # -- answers

    @property
    def spec(self) -> str:
        parts = [f"{self.name}:{self.type.spec}" + ("?" if self.optional else "")]
        parts += ["unique"] * self.unique + ["index"] * self.index
        parts += [f"{key}={self._literal(value)}" for key, value in self.bounds.items()]
        if self.min_length is not None:
            parts.append(f"min_length={self.min_length}")
        if self.max_length is not None:
            parts.append(f"max_length={self.max_length}")
        if self.has_default:
            parts.append(f"default={self._literal(self.default)}")
        if self.has_backfill:
            parts.append(f"backfill={self._literal(self.backfill)}")
        return ":".join(parts)

    @property
    def type_label(self) -> str:
        """The type as the component's README names it."""
        return f"enum `{self.type.python}`" if self.is_enum else self.type.name

    @property
    def summary(self) -> str:
        """The declared rules in a few words, for the component's README."""
        signs = {"gt": ">", "ge": "≥", "lt": "<", "le": "≤"}
        parts = ["unique"] * self.unique + ["indexed"] * self.index
        parts += [f"{signs[key]} {_display(value)}" for key, value in self.bounds.items()]
        if self.min_length is not None:
            parts.append(f"length ≥ {self.min_length}")
        if self.max_length is not None:
            parts.append(f"length ≤ {self.max_length}")
        if self.is_enum:
            parts.append("one of " + ", ".join(f"`{value}`" for value in self.type.values))
        if self.has_default:
            parts.append(f"default `{self._literal(self.default)}`")
        return "; ".join(parts)

    @property
    def constants(self) -> list[tuple[str, str]]:
        """(NAME, Python literal) of each declared bound, for domain/rules.py: a rule
        written by hand names the bound (STOCK_GE) instead of restating it."""
        found = [
            (f"{self.name.upper()}_{key.upper()}", self.type.py(value))
            for key, value in self.bounds.items()
        ]
        for key, length in (("min_length", self.min_length), ("max_length", self.max_length)):
            if length is not None:
                found.append((f"{self.name.upper()}_{key.upper()}", str(length)))
        return found

    def _literal(self, value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        return _display(value)

    # -- Python

    @property
    def annotation(self) -> str:
        return f"{self.type.python} | None" if self.optional else self.type.python

    @property
    def has_default(self) -> bool:
        return self.default is not _MISSING

    @property
    def has_backfill(self) -> bool:
        return self.backfill is not _MISSING

    @property
    def default_py(self) -> str:
        """`` = value`` for a field that may be left out, else ''."""
        if self.optional:
            return " = None"
        return f" = {self.type.py(self.default)}" if self.has_default else ""

    @property
    def is_enum(self) -> bool:
        return bool(self.type.values)

    @property
    def enum_members(self) -> list[tuple[str, str]]:
        return [(value.upper(), value) for value in self.type.values]

    @property
    def is_ref(self) -> bool:
        return bool(self.type.ref)

    def from_dto(self, expression: str) -> str:
        """Python turning the request DTO's value into the domain value (a ref's UUID
        becomes the domain's typed id)."""
        if not self.is_ref:
            return expression
        if self.optional:
            return f"None if {expression} is None else {self.type.python}({expression})"
        return f"{self.type.python}({expression})"

    # -- the request DTO

    def _api_bounds(self) -> list[tuple[str, str]]:
        """(gt/ge/lt/le, Python literal) of the bounds the request DTO states.

        An int also stays within JSON's safe integers: OpenAPI numbers are floats,
        beyond 2**53 a bound (PostgreSQL's 64-bit one) cannot be written exactly,
        and clients in most languages lose precision (RFC 8259, section 6). The API
        takes the integers every client can send; declared bounds lie within them.
        """
        bounds = [(key, self.type.py(value)) for key, value in self.bounds.items()]
        if self.type.name == "decimal":
            # PostgreSQL's numeric refuses a value past about 1e131072, and one past
            # 1e300 would be served back as thousands of digits: the API stops there.
            if not any(key in {"gt", "ge"} for key, _ in bounds):
                bounds.insert(0, ("ge", DECIMAL_API_LOWER))
            if not any(key in {"lt", "le"} for key, _ in bounds):
                bounds.append(("le", DECIMAL_API_UPPER))
            return bounds
        if self.type.name != "int":
            return bounds
        lower = [
            (k, v) for k, v in self.bounds.items() if k in {"gt", "ge"} and v >= -JSON_SAFE_INT
        ]
        upper = [(k, v) for k, v in self.bounds.items() if k in {"lt", "le"} and v <= JSON_SAFE_INT]
        return [
            *((key, str(value)) for key, value in lower or [("ge", "-(2**53 - 1)")]),
            *((key, str(value)) for key, value in upper or [("le", "2**53 - 1")]),
        ]

    @property
    def _api_max_length(self) -> int | None:
        """The longest text the API takes: the declared ``max_length``; for an indexed
        text without one, INDEXED_TEXT_MAX, since a btree entry holds about 2.7 kB and
        PostgreSQL refuses a longer value (500 characters of up to 4 UTF-8 bytes fit)."""
        if self.max_length is not None or self.type.name != "str" or not self.sortable:
            return self.max_length
        return INDEXED_TEXT_MAX

    def _pydantic_kwargs(self) -> list[str]:
        kwargs = [f"{key}={value}" for key, value in self._api_bounds()]
        if self.min_length is not None:
            kwargs.append(f"min_length={self.min_length}")
        if self._api_max_length is not None:
            kwargs.append(f"max_length={self._api_max_length}")
        if self.type.name == "str":
            kwargs.append(f'pattern=r"{NO_NUL_PATTERN}"')
        if self.type.name == "bool":
            kwargs.append("strict=True")  # JSON's true and false only, not 1 or "true"
        if self.type.name in {"float", "decimal"}:
            kwargs.append("allow_inf_nan=False")
        if self.type.name == "decimal":
            kwargs.append(f"decimal_places={DECIMAL_MAX_PLACES}")
        return kwargs

    def _schema_items(self) -> list[tuple[str, str]]:
        """(keyword, Python literal) of the request schema where Pydantic's own would
        say less than what it enforces (an empty list: Pydantic's is the truth).

        Pydantic describes a Decimal as "a number or any string"; the string form
        carries no bound, so a client could not tell which strings are refused. The
        schema declares numbers only (strings are still accepted, as Pydantic does).
        Pydantic states no bound of a date or datetime, and JSON Schema cannot compare
        dates. The schema carries the bounds twice: as formatMinimum / formatMaximum
        (and formatExclusive...), the keywords of the format extensions of JSON Schema
        validators, for people and the tools that know them; and as patterns any
        validator and fuzzer enforce. The patterns ask for the fixed-width forms
        YYYY-MM-DD and YYYY-MM-DDTHH:MM:SSZ (whole seconds, UTC), in which text order
        is time order: a client that follows them is never refused for a bound.
        """
        if self.type.json_schema:
            names = {
                "gt": "exclusiveMinimum",
                "ge": "minimum",
                "lt": "exclusiveMaximum",
                "le": "maximum",
            }
            items = [("type", f'"{self.type.json_schema}"')]
            bounds = [(key, str(value)) for key, value in self.bounds.items()]
            if self.type.name == "decimal":
                bounds = [(key, _json_number(value)) for key, value in self._api_bounds()]
            return items + [(names[key], value) for key, value in bounds]
        if self.type.name in {"date", "datetime"} and self.bounds:
            names = {
                "gt": "formatExclusiveMinimum",
                "ge": "formatMinimum",
                "lt": "formatExclusiveMaximum",
                "le": "formatMaximum",
            }
            form = "date" if self.type.name == "date" else "date-time"
            items = [("type", '"string"'), ("format", f'"{form}"')]
            items += [(names[key], self.type.json(value)) for key, value in self.bounds.items()]
            patterns = [
                "{" + f'"pattern": {_py_str(_ordered_pattern(key, _iso(value)))}' + "}"
                for key, value in self.bounds.items()
            ]
            return [*items, ("allOf", "[" + ", ".join(patterns) + "]")]
        return []

    def _json_schema(self) -> str | None:
        items = self._schema_items()
        if not items:
            return None
        return "{" + ", ".join(f'"{key}": {value}' for key, value in items) + "}"

    @property
    def schema_facts(self) -> list[tuple[str, str]]:
        """(keyword, Python literal of its JSON value) the OpenAPI document must show
        for this field in the request body: every rule the API enforces."""
        facts = self._schema_items()
        if not facts:
            names = {
                "gt": "exclusiveMinimum",
                "ge": "minimum",
                "lt": "exclusiveMaximum",
                "le": "maximum",
            }
            facts = [(names[key], value) for key, value in self._api_bounds()]
        if self.type.name == "str":
            facts.append(("pattern", _py_str(NO_NUL_PATTERN)))
        if self.min_length is not None:
            facts.append(("minLength", str(self.min_length)))
        if self._api_max_length is not None:
            facts.append(("maxLength", str(self._api_max_length)))
        if self.is_enum:
            facts.append(("enum", "[" + ", ".join(_py_str(v) for v in self.type.values) + "]"))
        return facts

    @property
    def dto_annotation(self) -> str:
        """The annotation in the request DTO: the type with every rule the API enforces."""
        base = self.type.dto_python or self.type.python
        extras = []
        kwargs = self._pydantic_kwargs()
        if kwargs:
            extras.append(f"Field({', '.join(kwargs)})")
        schema = self._json_schema()
        if schema:
            extras.append(f'WithJsonSchema({schema}, mode="validation")')
        if self.type.name == "datetime":
            extras.append("AfterValidator(in_utc)")  # both adapters store the UTC instant
        if self.type.name == "int":
            extras.append("BeforeValidator(json_integer)")  # 7 or 7.0, not true or "7"
        typed = f"Annotated[{base}, {', '.join(extras)}]" if extras else base
        return f"{typed} | None" if self.optional else typed

    @property
    def dto_imports(self) -> list[Pair]:
        pairs = list(self.type.dto_imports or self.type.imports)
        kwargs = self._pydantic_kwargs()
        if kwargs:
            pairs += [("typing", "Annotated"), ("pydantic", "Field")]
        if self._json_schema():
            pairs.append(("pydantic", "WithJsonSchema"))
        if self.type.name == "datetime":
            pairs += [("typing", "Annotated"), ("pydantic", "AfterValidator"), IN_UTC]
        if self.type.name == "int":
            pairs += [("typing", "Annotated"), ("pydantic", "BeforeValidator"), JSON_INTEGER]
        for value in [*self.bounds.values(), *([self.default] if self.has_default else [])]:
            pairs += self.type.value_imports(value)
        return pairs

    # -- SQL

    @property
    def sql_default(self) -> str:
        return f" DEFAULT {self.type.sql_literal(self.default)}" if self.has_default else ""

    @property
    def sql_column(self) -> str:
        null = "" if self.optional else " NOT NULL"
        return f'"{self.name}" {self.type.sql}{null}{self.sql_default}'

    @property
    def sql_added_column(self) -> str:
        """The column as an existing table gains it: rows already stored have no value,
        so it is NOT NULL only when a default fills them."""
        null = " NOT NULL" if self.has_default and not self.optional else ""
        return f'"{self.name}" {self.type.sql}{null}{self.sql_default}'

    @property
    def index_name(self) -> str:
        # Double underscores never occur in snake_case names: no two columns share one.
        return f"{self.table}__{self.name}"

    @property
    def constraints(self) -> list[str]:
        """Table constraints (UNIQUE, CHECK) for CREATE TABLE."""
        lines = []
        if self.unique:
            lines.append(f'CONSTRAINT "{self.index_name}" UNIQUE ("{self.name}")')
        for rule in self.rules:
            if rule.sql is not None:
                lines.append(f'CONSTRAINT "{self.name}_{rule.key}" CHECK ({rule.sql})')
        return lines

    @property
    def check_messages(self) -> list[tuple[str, str]]:
        """(CHECK constraint name, the rule's message) for each rule PostgreSQL enforces."""
        return [(f"{self.name}_{rule.key}", rule.message) for rule in self.rules if rule.sql]

    def from_db(self, expression: str) -> str:
        """Python turning a column value into the domain value."""
        if not self.is_enum:
            return expression
        if self.optional:
            return f"None if {expression} is None else {self.type.python}({expression})"
        return f"{self.type.python}({expression})"

    # -- lists (SPEC section 8)

    @property
    def sortable(self) -> bool:
        """Whether lists sort by this field: those with an index only (``index`` or
        ``unique``), which the migrations give a keyset index, so that every page is
        one range scan of it however deep it lies."""
        return self.unique or self.index

    @property
    def ranged(self) -> bool:
        """Whether lists filter this field by range (``__gte``, ``__lte``) as well as by
        equality: the ordered types; text, enums, booleans and UUIDs by equality only."""
        return self.type.ordered

    @property
    def sql_list_column(self) -> str:
        """The column as list queries compare and sort it. Text compares by code point
        (``COLLATE "C"``: UTF-8 byte order is code point order, Python's str order),
        whatever the database's collation, so the in-memory twin orders alike."""
        if self.type.sql == "text":
            return f'"{self.name}" COLLATE "C"'
        return f'"{self.name}"'

    @property
    def keyset_index_name(self) -> str:
        return f"{self.table}__{self.name}__keyset"

    @property
    def keyset_index_columns(self) -> str:
        """What the keyset index of a sortable field holds: the column as lists sort
        it, then id, the tie-breaker of every sort."""
        return f'({self.sql_list_column}, "id")'

    @property
    def query_annotation(self) -> str:
        """The type of one value of this field in a list's query string: the field's
        type, and what PostgreSQL can hold (no NUL, no NaN, 64-bit integers); not its
        rules, since a filter may ask for any value."""
        base = self.type.dto_python or self.type.python
        if self.type.name == "datetime":
            # PostgreSQL takes UTC offsets up to 15:59 only: in_utc (hexforge.service.values)
            # moves the instant to UTC.
            return f"Annotated[{base}, AfterValidator(in_utc)]"
        limits = {
            "str": f'pattern=r"{NO_NUL_PATTERN}"',
            "int": "ge=-(2**63), le=2**63 - 1",
            "float": "allow_inf_nan=False",
            "decimal": f"allow_inf_nan=False, {DECIMAL_QUERY_LIMITS}",
        }.get(self.type.name)
        if self.type.name == "decimal":
            schema = f'WithJsonSchema({DECIMAL_QUERY_SCHEMA}, mode="validation")'
            return f"Annotated[{base}, Field({limits}), {schema}]"
        return f"Annotated[{base}, Field({limits})]" if limits else base

    @property
    def query_imports(self) -> list[Pair]:
        """What :attr:`query_annotation` needs."""
        pairs = list(self.type.dto_imports or self.type.imports)
        if self.type.name in {"str", "int", "float", "decimal"}:
            pairs += [("typing", "Annotated"), ("pydantic", "Field")]
        if self.type.name == "datetime":
            pairs += [("typing", "Annotated"), ("pydantic", "AfterValidator"), IN_UTC]
        if self.type.name == "decimal":
            pairs.append(("pydantic", "WithJsonSchema"))
        return pairs

    # -- rules

    @property
    def rules(self) -> list[Rule]:
        """Every rule on this field's values, intrinsic to its type first."""
        name, column, t = self.name, f'"{self.name}"', self.type
        rules: list[Rule] = []
        if t.name == "str":
            rules.append(
                Rule(
                    "no_nul",
                    f"{name} must not contain NUL characters",
                    '"\\x00" in {v}',
                    None,
                    outside="bad\x00value",
                    accepts=lambda value: "\x00" not in value,
                )
            )
        if t.name == "int":
            rules.append(
                Rule(
                    "int64",
                    f"{name} must fit in a signed 64-bit integer",
                    "not -(2**63) <= {v} < 2**63",
                    None,
                    outside=_Raw("2**63", "2**63"),
                    accepts=lambda value: INT64_MIN <= value <= INT64_MAX,
                )
            )
        if t.name in {"float", "decimal"}:
            nan = "float('nan')" if t.name == "float" else "Decimal('NaN')"
            rules.append(
                Rule(
                    "finite",
                    f"{name} must be finite",
                    "not math.isfinite({v})" if t.name == "float" else "not {v}.is_finite()",
                    f"{column} NOT IN ('NaN', 'Infinity', '-Infinity')",
                    (("math", "math"),) if t.name == "float" else (),
                    outside=_Raw(
                        nan, '"NaN"', (("decimal", "Decimal"),) if t.name == "decimal" else ()
                    ),
                    accepts=lambda value: (
                        value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)
                    ),
                )
            )
        if t.name == "datetime":
            rules.append(
                Rule(
                    "aware",
                    f"{name} must be timezone-aware",
                    "{v}.utcoffset() is None",
                    None,
                    outside=_Raw(
                        "datetime(2024, 1, 31, 12, 30)",
                        '"2024-01-31T12:30:00"',
                        (("datetime", "datetime"),),
                    ),
                    accepts=lambda value: value.utcoffset() is not None,
                )
            )
        for key, bound in self.bounds.items():
            words, breaks, keeps = _COMPARISONS[key]
            inside, outside = _bound_pair(key, bound, t.neighbour)
            rules.append(
                Rule(
                    key,
                    f"{name} must be {words} {_display(bound)}",
                    f"{{v}} {breaks} {t.py(bound)}",
                    f"{column} {_SQL_KEEPS[key]} {t.sql_literal(bound)}",
                    t.value_imports(bound),
                    inside=inside,
                    outside=outside if outside is not None and _representable(t, outside) else None,
                    accepts=_keeping(keeps, bound),
                )
            )
        if self.min_length is not None:
            n = self.min_length
            rules.append(
                Rule(
                    "min_length",
                    f"{name} must be at least {n} character{'s' if n != 1 else ''} long",
                    f"len({{v}}) < {n}",
                    f"char_length({column}) >= {n}",
                    inside="m" * n,
                    outside="m" * (n - 1) if n > 0 else None,
                    accepts=_keeping(lambda value, least: len(value) >= least, n),
                )
            )
        if self.max_length is not None:
            n = self.max_length
            rules.append(
                Rule(
                    "max_length",
                    f"{name} must be at most {n} character{'s' if n != 1 else ''} long",
                    f"len({{v}}) > {n}",
                    f"char_length({column}) <= {n}",
                    inside="x" * n,
                    outside="x" * (n + 1),
                    accepts=_keeping(lambda value, most: len(value) <= most, n),
                )
            )
        if self.is_enum:
            listed = ", ".join(_sql_text(value) for value in t.values)
            rules.append(
                Rule(
                    "enum",
                    f"{name} must be one of {', '.join(t.values)}",
                    "False",
                    f"{column} IN ({listed})",
                )
            )
        return rules

    @property
    def checked_rules(self) -> list[Rule]:
        """The rules the domain checks (an enum keeps itself: its type allows no other value)."""
        return [rule for rule in self.rules if rule.key != "enum"]

    def refusal(self, rule: Rule, expression: str) -> str:
        """The Python condition, on ``expression``, that holds when ``rule`` is broken."""
        condition = rule.refuses.format(v=expression)
        if self.optional:
            return f"{expression} is not None and {condition}"
        return condition

    def broken_rule(self, value: Any) -> Rule | None:
        """The first rule ``value`` breaks (None: it keeps them all)."""
        if value is None:
            return (
                None if self.optional else Rule("null", f"{self.name} must not be null", "", None)
            )
        for rule in self.rules:
            if rule.key != "enum" and not rule.accepts(value):
                return rule
        if self.is_enum and value not in self.type.values:
            return self.rules[-1]
        return None

    # -- values for the generated tests

    @property
    def samples(self) -> list[Any]:
        """``SAMPLE_COUNT`` values that keep every rule, distinct when the rules allow."""
        found = _distinct_samples(self)
        if not found:
            return []
        return [found[i % len(found)] for i in range(SAMPLE_COUNT)]

    def sample_py(self, index: int) -> str:
        return self.type.py(self.samples[index])

    @property
    def boundaries(self) -> list[Rule]:
        """The rules with a value just inside and one just outside, for the tests."""
        return [rule for rule in self.rules if rule.has_boundary]

    def py(self, value: Any) -> str:
        return value.py if isinstance(value, _Raw) else self.type.py(value)

    def json(self, value: Any) -> str:
        return value.json if isinstance(value, _Raw) else self.type.json(value)

    def json_text(self, value: Any) -> str:
        """``value`` as JSON text, the way a request body written by hand carries it."""
        # The JSON form is kept as a Python expression, which is the same text as JSON
        # for every type's values but the two booleans.
        text = self.json(value)
        return {"True": "true", "False": "false"}.get(text, text)

    def json_equals(self, expression: str, value: Any) -> str:
        """A Python condition: ``expression`` (parsed JSON) is the JSON form of ``value``."""
        # True and False are singletons: ruff (E712) wants them compared with is.
        operator = "is" if isinstance(value, bool) else "=="
        return f"{expression} {operator} {self.json(value)}"

    def value_imports(self, value: Any) -> tuple[Pair, ...]:
        if isinstance(value, _Raw):
            return value.imports
        return self.type.value_imports(value) if value is not None else ()

    @property
    def rule_imports(self) -> list[Pair]:
        """What the domain checks of this field need."""
        return [pair for rule in self.checked_rules for pair in rule.imports]

    def boundary_imports(self) -> list[Pair]:
        """What the boundary values of the tests need."""
        pairs: list[Pair] = []
        for rule in self.boundaries:
            pairs += self.value_imports(rule.outside)
            if rule.inside is not None:
                pairs += self.value_imports(rule.inside)
        return pairs

    def sample_imports(self) -> list[Pair]:
        return [pair for value in self.samples for pair in self.value_imports(value)]

    @property
    def default_imports(self) -> list[Pair]:
        return list(self.type.value_imports(self.default)) if self.has_default else []


@dataclass(frozen=True)
class _Raw:
    """A value Python can write but the field's type cannot hold (NaN, a naive datetime)."""

    py: str
    json: str
    imports: tuple[Pair, ...] = ()


def _bound_pair(
    key: str, bound: Any, neighbour: Callable[[Any, int], Any] | None
) -> tuple[Any, Any]:
    """(just inside, just outside) of one bound."""
    if neighbour is None:
        return None, None
    try:
        if key == "gt":
            return neighbour(bound, 1), bound
        if key == "ge":
            return bound, neighbour(bound, -1)
        if key == "lt":
            return neighbour(bound, -1), bound
        return bound, neighbour(bound, 1)
    except OverflowError:
        return None, None


def _iso(value: date | datetime) -> str:
    return _iso_datetime(value) if isinstance(value, datetime) else value.isoformat()


def _ordered_pattern(key: str, bound: str) -> str:
    """A regular expression for the strings shaped like ``bound`` (digits where it
    has digits, its other characters as they are) that come after it (gt, ge) or
    before it (lt, le) in text order; ge and le take ``bound`` itself too."""

    def shape(text: str) -> str:
        return "".join("[0-9]" if char.isdigit() else char for char in text)

    after = key in {"gt", "ge"}
    choices = [bound] if key in {"ge", "le"} else []
    for position, char in enumerate(bound):
        if not char.isdigit():
            continue
        digit = int(char)
        low, high = (digit + 1, 9) if after else (0, digit - 1)
        if low <= high:
            digits = str(low) if low == high else f"[{low}-{high}]"
            choices.append(bound[:position] + digits + shape(bound[position + 1 :]))
    return "^(" + "|".join(choices) + ")$" if choices else "^$.^"


def _keeping(test: Callable[[Any, Any], bool], bound: Any) -> Callable[[Any], bool]:
    """``test`` with its bound fixed: whether a value keeps the rule."""
    return lambda value: test(value, bound)


def _representable(t: FieldType, value: Any) -> bool:
    if t.name == "int":
        return bool(INT64_MIN <= value <= INT64_MAX)
    if t.name == "float":
        return math.isfinite(value)
    return True


def _candidates(f: Field) -> Iterable[Any]:
    t = f.type
    if t.name == "str":
        lo = f.min_length or 0
        hi = f.max_length if f.max_length is not None else max(lo, 12)
        for word in t.preferred:
            text = word[:hi] if len(word) > hi else word + word[-1] * max(0, lo - len(word))
            yield text
        size = max(lo, min(hi, 1))
        for letter in "abcdefghijklmnopqrstuvwxyz":
            yield (letter * size)[:hi]
        return
    yield from t.preferred
    for rule in f.rules:
        if rule.inside is not None:
            yield rule.inside
    if t.ordered and t.unit is not None:
        for key, bound in f.bounds.items():
            direction = 1 if key in {"gt", "ge"} else -1
            for distance in range(1, SAMPLE_COUNT + 2):
                try:
                    yield bound + direction * distance * t.unit
                except OverflowError:
                    break
            # Narrow ranges: the values right next to the bound.
            value = bound
            for _ in range(SAMPLE_COUNT + 1):
                try:
                    value = t.neighbour(value, direction) if t.neighbour else value
                except OverflowError:
                    break
                yield value


def _distinct_samples(f: Field) -> list[Any]:
    found: list[Any] = []
    for value in _candidates(f):
        if value not in found and f.broken_rule(value) is None:
            found.append(value)
        if len(found) == SAMPLE_COUNT:
            break
    return found


# --------------------------------------------------------------------------- parsing

ENUM_RE = re.compile(r"enum\[(.*)\]")


def _split_modifiers(tokens: list[str]) -> list[str]:
    """Modifier tokens; an ISO datetime's own colons are glued back to its modifier."""
    modifiers: list[str] = []
    for token in tokens:
        if modifiers and "=" in modifiers[-1] and token[:1].isdigit():
            modifiers[-1] += ":" + token
        else:
            modifiers.append(token)
    return modifiers


def _parse_type(name: str, spec: str, class_name: str, model_module: str) -> FieldType:
    if spec in TYPES:
        return TYPES[spec]
    match = ENUM_RE.fullmatch(spec)
    if not match:
        raise FieldsError(
            f"field {name!r} has unknown type {spec!r}: use one of {', '.join(TYPE_NAMES)}"
        )
    values = tuple(value.strip() for value in match.group(1).split("|"))
    seen: set[str] = set()
    for value in values:
        if not value:
            raise FieldsError(f"field {name!r}: {spec!r} has an empty enum value")
        if (problem := enum_value_error(value)) is not None:
            raise FieldsError(f"field {name!r}: {problem}")
        if value in seen:
            raise FieldsError(f"field {name!r}: enum value {value!r} appears twice")
        seen.add(value)
    return enum_type(values, class_name, model_module)


REF_SPEC_RE = re.compile(r"ref\[(.*)\]")


def _parse_ref(name: str, spec: str, model_module: str) -> FieldType:
    match = REF_SPEC_RE.fullmatch(spec)
    if not match:
        raise FieldsError(f"field {name!r}: {spec!r} is not ref[component], e.g. ref[warehouses]")
    other = match.group(1).strip()
    if (problem := component_rule_error(other)) is not None:
        raise FieldsError(f"field {name!r}: {spec!r} does not name a component: {problem}")
    return ref_type(other, model_module)


def _parse_field(item: str, entity: str, component: str) -> Field:
    name, colon, rest = item.partition(":")
    name = name.strip()
    if not colon or not name or not rest.strip():
        raise FieldsError(f"{item!r} is not name:type: {SYNTAX}")
    _check_name(name)
    # The modifiers stay as written until read: a str default's own spaces are not the
    # spaces around it.
    type_spec, *tokens = rest.split(":")
    type_spec = type_spec.strip()
    optional = type_spec.endswith("?")
    type_spec = type_spec.removesuffix("?").strip()
    class_name = f"{entity}{snake_to_pascal(name)}"
    model_module = f"components.{component}.domain.model" if component else ""
    if type_spec.startswith("ref["):
        t = _parse_ref(name, type_spec, model_module)
    else:
        t = _parse_type(name, type_spec, class_name, model_module)

    seen: set[str] = set()
    options: dict[str, Any] = {"bounds": {}}
    for modifier in _split_modifiers(tokens):
        key, equals, written = modifier.partition("=")
        key, literal = key.strip(), written.strip()
        if not key:
            raise FieldsError(f"field {name!r} has an empty modifier (a stray colon?): {SYNTAX}")
        if key not in MODIFIERS:
            raise FieldsError(
                f"field {name!r} has unknown modifier {modifier!r}: use unique, index, "
                "gt= ge= lt= le= (ordered types), min_length= max_length= (str), default=, "
                "backfill="
            )
        if key in seen:
            raise FieldsError(f"field {name!r}: modifier {key!r} appears twice")
        seen.add(key)
        if control := next((c for c in written if unicodedata.category(c) == "Cc"), None):
            # A line break in a default would land as a line of SQL in the migration.
            raise FieldsError(
                f"field {name!r}: {key}= holds the control character U+{ord(control):04X}: "
                "a value is one line of printable text"
            )
        if key in {"unique", "index"}:
            if equals:
                raise FieldsError(f"field {name!r}: {key!r} takes no value, got {modifier!r}")
            options[key] = True
            continue
        if not equals or not literal:
            raise FieldsError(f"field {name!r}: {key}= needs a value, e.g. {key}=10")
        if key in BOUNDS and not t.ordered:
            raise FieldsError(
                f"field {name!r}: {key} applies to int, float, decimal, date and datetime, "
                f"not {t.spec}"
            )
        if key in {"min_length", "max_length"}:
            if not t.sized:
                raise FieldsError(f"field {name!r}: {key} applies to str, not {t.spec}")
            if not re.fullmatch(r"[0-9]+", literal) or int(literal) > 10_000_000:
                raise FieldsError(
                    f"field {name!r}: {key}={literal} is not a whole number of characters"
                )
            options[key] = int(literal)
            continue
        if key == "default" and t.ref:
            raise FieldsError(
                f"field {name!r}: a ref takes no default (an id fixed in advance may not "
                "exist); make it optional with ? instead, or give the rows already stored "
                "an id with backfill="
            )
        if key in {"default", "backfill"} and t.sized and written != literal:
            raise FieldsError(
                f"field {name!r}: {key}={written!r} starts or ends with a blank (a space, "
                "a tab, a line break), which a field list cannot keep apart from the "
                f"spaces around it: write {key}={literal} right up to the next : or ,"
            )
        if key in {"default", "backfill"} and t.values:
            if literal not in t.values:
                raise FieldsError(
                    f"field {name!r}: {key}={literal} is not one of {', '.join(t.values)}"
                )
            options[key] = literal
            continue
        try:
            value = t.parse(literal)
        except ValueError as error:
            raise FieldsError(f"field {name!r}: {key}={literal}: {error}") from None
        if t.name == "datetime" and key in BOUNDS and value.microsecond:
            raise FieldsError(f"field {name!r}: {key}={literal}: datetime bounds are whole seconds")
        if t.name == "int" and abs(value) > JSON_SAFE_INT:
            raise FieldsError(
                f"field {name!r}: {key}={literal} is beyond ±(2**53 - 1), the integers "
                "JSON carries exactly"
            )
        if key in {"default", "backfill"}:
            options[key] = value
        else:
            options["bounds"][key] = value

    candidate = Field(name, t, optional, table=component, **options)
    _check_consistency(candidate)
    return candidate


def _check_consistency(f: Field) -> None:
    name, bounds = f.name, f.bounds
    if {"gt", "ge"} <= bounds.keys() or {"lt", "le"} <= bounds.keys():
        pair = "gt and ge" if {"gt", "ge"} <= bounds.keys() else "lt and le"
        raise FieldsError(f"field {name!r}: {pair} both bound the same side: keep one")
    if f.min_length is not None and f.max_length is not None and f.min_length > f.max_length:
        raise FieldsError(
            f"field {name!r}: min_length={f.min_length} is more than max_length={f.max_length}"
        )
    if f.unique and f.index:
        raise FieldsError(f"field {name!r}: unique already creates an index: drop index")
    if f.optional and f.has_default:
        raise FieldsError(
            f"field {name!r}: a field with a default is never null: drop the ? or the default"
        )
    samples = _distinct_samples(f)
    if not samples:
        raise FieldsError(f"field {name!r}: its bounds contradict each other: no value keeps them")
    if f.unique and len(samples) < SAMPLE_COUNT:
        raise FieldsError(
            f"field {name!r}: unique needs room for at least {SAMPLE_COUNT} distinct values "
            "(the generated tests store that many); widen the rules or drop unique"
        )
    if f.has_default and (broken := f.broken_rule(f.default)) is not None:
        literal = f._literal(f.default)
        raise FieldsError(f"field {name!r}: default={literal} breaks a rule: {broken.message}")
    if f.has_backfill and (f.optional or f.has_default):
        raise FieldsError(
            f"field {name!r}: backfill= fills the stored rows of a required field without a "
            "default; "
            + ("an optional field leaves them NULL" if f.optional else "its default fills them")
        )
    if f.has_backfill and (broken := f.broken_rule(f.backfill)) is not None:
        literal = f._literal(f.backfill)
        raise FieldsError(f"field {name!r}: backfill={literal} breaks a rule: {broken.message}")


def _check_name(name: str) -> None:
    if (problem := field_name_error(name)) is not None:
        raise FieldsError(f"field name {problem}")


def parse_fields(text: str, entity: str = "", component: str = "") -> list[Field]:
    """Parse a fields answer; raise :class:`FieldsError` naming the culprit.

    ``entity`` names the enum classes (``Product`` + ``status`` -> ``ProductStatus``)
    and ``component`` the module they live in and the table constraints; both may be
    left out where only the answer's validity matters.
    """
    if not text or not text.strip():
        raise FieldsError(f"must list at least one field: {SYNTAX}")
    fields: list[Field] = []
    seen: set[str] = set()
    # Each item as written (only the line breaks that end the answer trimmed): a str
    # default ends where its item does, and the blanks there are not its to lose.
    for raw in text.strip("\r\n").split(","):
        if not raw.strip():
            raise FieldsError(f"{text!r} has an empty entry (a stray comma?): {SYNTAX}")
        parsed = _parse_field(raw, entity, component)
        if parsed.name in seen:
            raise FieldsError(
                f"field name {parsed.name!r} appears twice: field names must be unique"
            )
        seen.add(parsed.name)
        clash = [
            f
            for f in fields
            if f.is_enum and parsed.is_enum and f.type.python == parsed.type.python
        ]
        if clash:
            raise FieldsError(
                f"fields {clash[0].name!r} and {parsed.name!r} would both name their enum "
                f"class {parsed.type.python}: rename one"
            )
        fields.append(parsed)
    return fields


def fields_error(text: object, entity: object = "") -> str:
    """Validator form of :func:`parse_fields`: the message, or '' when valid.

    With the entity name, an enum field whose class (entity + field) would be a name
    the generated code already defines is refused.
    """
    if not isinstance(text, str):
        return f"{text!r} is not text: {SYNTAX}"
    try:
        parsed = parse_fields(text, str(entity or ""))
    except FieldsError as error:
        return str(error)
    if isinstance(entity, str) and entity:
        taken = generated_class_names(entity)
        for f in parsed:
            if f.is_enum and f.type.python in taken:
                return (
                    f"field {f.name!r}: its enum class would be {f.type.python}, a name the "
                    "generated code already uses: rename the field"
                )
            if f.is_ref and {f.type.python, f"{snake_to_pascal(f.type.ref)}UseCases"} & taken:
                return (
                    f"field {f.name!r}: ref[{f.type.ref}] would name its id type "
                    f"{f.type.python} (and its port {snake_to_pascal(f.type.ref)}UseCases), "
                    f"names the generated code already uses for {entity}: they cannot be "
                    "told apart"
                )
    return ""


def generated_class_names(entity: str) -> set[str]:
    """Class names the component defines or imports next to the enum classes."""
    names = component_names("component", entity)
    defined = {
        value for value in vars(names).values() if isinstance(value, str) and value[:1].isupper()
    }
    suffixes = ("In", "Out", "Replace", "PageOut", "ErrorOut", "ListParams")
    extra = {f"Duplicate{entity}", f"Unknown{entity}Reference"}
    return defined | ENTITY_RESERVED | {f"{entity}{s}" for s in suffixes} | extra


REF_RE = re.compile(r"ref\[\s*(\w+)\s*\]\??")


def referenced_components(text: str) -> list[str]:
    """The components a fields answer references (``ref[other]``), once each, in the
    order of the fields. Lenient: a field that does not parse is skipped (the
    validator refuses the answer; the wiring still reads what it can)."""
    found: list[str] = []
    for item in text.split(","):
        type_spec = item.split(":")[1].strip() if item.count(":") else ""
        match = REF_RE.fullmatch(type_spec)
        if match and match.group(1) not in found:
            found.append(match.group(1))
    return found


def normalise_fields(text: str) -> str:
    """The canonical spelling of a valid fields answer."""
    return ", ".join(field.spec for field in parse_fields(text))


_USES: dict[str, Callable[[Field], Iterable[Pair]]] = {
    "annotation": lambda f: f.type.imports,
    "default": lambda f: f.default_imports,
    "dto": lambda f: f.dto_imports,
    "samples": lambda f: f.sample_imports(),
    "rules": lambda f: f.rule_imports,
    "boundaries": lambda f: f.boundary_imports(),
    "query": lambda f: f.query_imports,
}


def imports_for(
    fields: list[Field],
    *extra: str,
    samples: bool = False,
    uses: Iterable[str] = ("annotation",),
    exclude: str = "",
) -> list[str]:
    """Sorted import lines for what ``uses`` of ``fields`` need.

    ``uses`` names what the file writes of each field: its ``annotation``, its
    ``default``, its ``dto`` annotation, its test ``samples``, its domain ``rules``
    or its ``boundaries`` values. ``extra`` adds ``module.name`` entries the file
    needs anyway (merged, so a module is never imported twice); ``exclude`` drops
    a module (the file's own).
    """
    wanted = list(uses) + (["samples"] if samples else [])
    pairs = [pair for f in fields for use in wanted for pair in _USES[use](f)]
    return lines_for([pair for pair in pairs if pair[0] != exclude], *extra)


def python_str(text: str) -> str:
    """``text`` as a double-quoted Python string literal."""
    return _py_str(text)


def lines_for(pairs: Iterable[Pair], *extra: str) -> list[str]:
    """Import lines for (module, name) pairs plus ``module.name`` extras; ``import math``
    for the pair ("math", "math")."""
    pairs = list(pairs)
    for item in extra:
        module, _, name = item.rpartition(".")
        pairs.append((module, name))
    plain = sorted({module for module, name in pairs if module == name == "math"})
    froms = [pair for pair in pairs if pair != ("math", "math")]
    return [f"import {module}" for module in plain] + import_lines(froms)
