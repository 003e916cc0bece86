"""The fields answer: syntax, types and the messages for bad lists."""

from __future__ import annotations

import fields
import naming
import pycode
import pytest
from hypothesis import given
from hypothesis import strategies as st


def test_the_spec_example_parses() -> None:
    parsed = fields.parse_fields("customer:str, total:decimal, placed_on:date, note:str?")

    assert [(f.name, f.type.name, f.optional) for f in parsed] == [
        ("customer", "str", False),
        ("total", "decimal", False),
        ("placed_on", "date", False),
        ("note", "str", True),
    ]
    assert parsed[3].annotation == "str | None"
    assert parsed[0].sql_column == '"customer" text NOT NULL'


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "at least one"),
        ("a:str,", "empty entry"),
        ("a", "name:type"),
        ("a:money", "unknown type"),
        ("a:str, a:int", "twice"),
        ("id:uuid", "reserved"),
        ("model_x:int", "clashes"),
        ("date:date", "clashes"),
        ("for:int", "keyword"),
        ("A:int", "snake_case"),
        ("l:str", "reads like 1 or I"),
    ],
)
def test_bad_lists_name_the_culprit_and_the_rule(text: str, fragment: str) -> None:
    message = fields.fields_error(text)

    assert fragment in message


names = st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True).filter(
    lambda n: naming.field_name_error(n) is None
)


@given(
    st.lists(
        st.tuples(names, st.sampled_from(sorted(fields.TYPES)), st.booleans()),
        min_size=1,
        max_size=8,
        unique_by=lambda t: t[0],
    )
)
def test_any_well_formed_list_parses_and_normalises_stably(
    items: list[tuple[str, str, bool]],
) -> None:
    text = " , ".join(f"{n}:{t}{'?' if o else ''}" for n, t, o in items)

    normal = fields.normalise_fields(text)

    assert fields.normalise_fields(normal) == normal
    assert [f.name for f in fields.parse_fields(normal)] == [n for n, _, _ in items]


def test_imports_are_merged_and_ordered_like_ruff() -> None:
    parsed = fields.parse_fields("a:datetime, b:decimal, c:date, d:uuid")

    assert fields.imports_for(parsed, "uuid.UUID", samples=True) == [
        "from datetime import UTC, date, datetime",
        "from decimal import Decimal",
        "from uuid import UUID",
    ]


def test_long_from_imports_wrap_one_name_per_line() -> None:
    line = pycode.from_import(
        "components.some_long_component_name.domain.model", *("N" * 30 + str(i) for i in range(3))
    )

    assert line.startswith("from components.some_long_component_name.domain.model import (\n")
    assert line.endswith(",\n)")
