"""The ``fields`` answer: its syntax, its types and what each type becomes.

``customer:str, total:decimal, placed_on:date, note:str?`` is parsed once, here,
into :class:`Field` objects that carry everything a template needs (Python
annotation, SQL column type, sample values for the generated tests, the domain
rule that keeps the in-memory and PostgreSQL adapters behaving alike). Stdlib only.
"""

from __future__ import annotations

from dataclasses import dataclass

from naming import field_name_error
from pycode import import_lines

SYNTAX = "comma-separated name:type pairs, a trailing ? for optional (e.g. 'title:str, due:date?')"


@dataclass(frozen=True)
class FieldType:
    name: str
    python: str  # annotation in domain and DTO code
    imports: tuple[tuple[str, str], ...]  # (module, name) pairs the annotation needs
    sql: str  # PostgreSQL column type
    samples: tuple[str, str]  # two distinct Python expressions of this type, for tests
    rule: str | None  # the domain rule this type carries, as prose (None: no rule)
    invalid: str | None = None  # a Python value breaking the rule, for the rule's test
    invalid_json: str | None = None  # the same as it would arrive in a JSON body


TYPES: dict[str, FieldType] = {
    t.name: t
    for t in (
        FieldType(
            "str",
            "str",
            (),
            "text",
            ('"alpha"', '"beta"'),
            "must not contain NUL characters",
            '"bad\\x00value"',
            '"bad\\x00value"',
        ),
        FieldType(
            "int",
            "int",
            (),
            "bigint",
            ("7", "-11"),
            "must fit in a signed 64-bit integer",
            "2**63",
            "2**63",
        ),
        FieldType(
            "float",
            "float",
            (),
            "double precision",
            ("1.5", "-2.25"),
            "must be finite",
            'float("nan")',
            '"NaN"',
        ),
        FieldType("bool", "bool", (), "boolean", ("True", "False"), None),
        FieldType(
            "decimal",
            "Decimal",
            (("decimal", "Decimal"),),
            "numeric",
            ('Decimal("10.50")', 'Decimal("-3.125")'),
            "must be finite",
            'Decimal("NaN")',
            '"NaN"',
        ),
        FieldType(
            "date",
            "date",
            (("datetime", "date"),),
            "date",
            ("date(2024, 1, 31)", "date(1999, 12, 1)"),
            None,
        ),
        FieldType(
            "datetime",
            "datetime",
            (("datetime", "datetime"),),
            "timestamp with time zone",
            (
                "datetime(2024, 1, 31, 12, 30, tzinfo=UTC)",
                "datetime(1999, 12, 1, 8, 0, 5, tzinfo=UTC)",
            ),
            "must be timezone-aware",
            "datetime(2024, 1, 31, 12, 30)",
            '"2024-01-31T12:30:00"',
        ),
        FieldType(
            "uuid",
            "UUID",
            (("uuid", "UUID"),),
            "uuid",
            (
                'UUID("6f1c2a3e-0d4b-4c5a-9e8f-7a6b5c4d3e2f")',
                'UUID("0a9b8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d")',
            ),
            None,
        ),
    )
}


@dataclass(frozen=True)
class Field:
    name: str
    type: FieldType
    optional: bool

    @property
    def annotation(self) -> str:
        return f"{self.type.python} | None" if self.optional else self.type.python

    @property
    def sql_column(self) -> str:
        return f'"{self.name}" {self.type.sql}' + ("" if self.optional else " NOT NULL")

    @property
    def spec(self) -> str:
        return f"{self.name}:{self.type.name}" + ("?" if self.optional else "")


class FieldsError(ValueError):
    """The fields answer broke a rule; the message names the value and the rule."""


def parse_fields(text: str) -> list[Field]:
    """Parse a fields answer; raise :class:`FieldsError` naming the culprit."""
    if not text or not text.strip():
        raise FieldsError(f"must list at least one field: {SYNTAX}")
    fields: list[Field] = []
    seen: set[str] = set()
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            raise FieldsError(f"{text!r} has an empty entry (a stray comma?): {SYNTAX}")
        name, colon, type_spec = (part.strip() for part in item.partition(":"))
        if not colon or not name or not type_spec:
            raise FieldsError(f"{item!r} is not name:type: {SYNTAX}")
        optional = type_spec.endswith("?")
        type_name = type_spec.removesuffix("?").strip()
        if (problem := field_name_error(name)) is not None:
            raise FieldsError(f"field name {problem}")
        if name in seen:
            raise FieldsError(f"field name {name!r} appears twice: field names must be unique")
        if type_name not in TYPES:
            raise FieldsError(
                f"field {name!r} has unknown type {type_name!r}: use one of {', '.join(TYPES)}"
            )
        seen.add(name)
        fields.append(Field(name, TYPES[type_name], optional))
    return fields


def fields_error(text: object) -> str:
    """Validator form of :func:`parse_fields`: the message, or '' when valid."""
    if not isinstance(text, str):
        return f"{text!r} is not text: {SYNTAX}"
    try:
        parse_fields(text)
    except FieldsError as error:
        return str(error)
    return ""


def normalise_fields(text: str) -> str:
    """The canonical spelling of a valid fields answer."""
    return ", ".join(field.spec for field in parse_fields(text))


SAMPLE_IMPORTS: dict[str, tuple[tuple[str, str], ...]] = {"datetime": (("datetime", "UTC"),)}


def imports_for(fields: list[Field], *extra: str, samples: bool = False) -> list[str]:
    """Sorted ``from x import a, b`` lines for the annotations of ``fields``.

    ``extra`` adds ``module.name`` entries the file needs anyway (merged, so a
    module is never imported twice); ``samples`` adds what the test sample
    expressions use.
    """
    pairs = [pair for field in fields for pair in field.type.imports]
    if samples:
        pairs += [pair for field in fields for pair in SAMPLE_IMPORTS.get(field.type.name, ())]
    for item in extra:
        module, _, name = item.rpartition(".")
        pairs.append((module, name))
    return import_lines(pairs)
