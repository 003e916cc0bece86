"""The fields answer: syntax, types and the messages for bad lists."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import fields
import naming
import pycode
from tests.component.field_lists import field_lists

SPEC_EXAMPLE = (
    "sku:str:unique:max_length=40, name:str:min_length=1, price:decimal:gt=0, "
    "stock:int:ge=0:default=0, status:enum[active|discontinued]:default=active, description:str?"
)


def test_the_spec_example_with_modifiers_parses_into_every_layer() -> None:
    sku, name, price, stock, status, description = fields.parse_fields(
        SPEC_EXAMPLE, "Product", "products"
    )

    assert sku.unique and sku.max_length == 40
    assert sku.constraints == [
        'CONSTRAINT "products__sku" UNIQUE ("sku")',
        'CONSTRAINT "sku_max_length" CHECK (char_length("sku") <= 40)',
    ]
    assert sku.dto_annotation == 'Annotated[str, Field(max_length=40, pattern=r"^[^\\x00]*$")]'
    assert name.check_messages == [("name_min_length", "name must be at least 1 character long")]
    assert price.refusal(price.rules[-1], "item.price") == 'item.price <= Decimal("0")'
    assert [(rule.key, rule.inside, rule.outside) for rule in price.boundaries][1:] == [
        ("gt", Decimal("0.01"), Decimal("0"))
    ]
    assert stock.default == 0 and stock.default_py == " = 0"
    assert stock.sql_column == '"stock" bigint NOT NULL DEFAULT 0'
    assert stock.dto_annotation == (
        "Annotated[int, Field(ge=0, le=2**53 - 1), BeforeValidator(json_integer)]"
    )
    assert status.annotation == "ProductStatus"
    assert status.enum_members == [("ACTIVE", "active"), ("DISCONTINUED", "discontinued")]
    assert status.default_py == " = ProductStatus.ACTIVE"
    assert status.constraints == [
        """CONSTRAINT "status_enum" CHECK ("status" IN ('active', 'discontinued'))"""
    ]
    assert description.annotation == "str | None" and description.default_py == " = None"
    assert fields.normalise_fields(SPEC_EXAMPLE) == SPEC_EXAMPLE


def test_datetime_literals_keep_their_colons() -> None:
    (moment,) = fields.parse_fields(
        "at:datetime:ge=2024-01-01T08:30:00+02:00:default=2024-06-01T00:00:00Z"
    )

    assert moment.bounds == {"ge": datetime(2024, 1, 1, 6, 30, tzinfo=UTC)}
    assert moment.default == datetime(2024, 6, 1, tzinfo=UTC)
    assert moment.spec == "at:datetime:ge=2024-01-01T06:30:00Z:default=2024-06-01T00:00:00Z"


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
        ("a:str:gt=1", "gt applies to int, float, decimal, date and datetime, not str"),
        ("a:int:max_length=3", "max_length applies to str, not int"),
        ("a:bool:le=1", "le applies to int"),
        ("a:enum[x|y]:min_length=1", "min_length applies to str, not enum[x|y]"),
        ("a:int:ge=5:le=1", "contradict"),
        ("a:float:gt=1:lt=1", "contradict"),
        ("a:date:gt=2024-01-02:lt=2024-01-03", "contradict"),
        ("a:int:gt=1:ge=2", "gt and ge both bound the same side"),
        ("a:str:min_length=5:max_length=2", "min_length=5 is more than max_length=2"),
        ("a:int:ge=0:default=-1", "default=-1 breaks a rule: a must be at least 0"),
        ("a:str:max_length=2:default=abc", "breaks a rule: a must be at most 2 characters long"),
        ("a:int:default=x", "default=x: 'x' is not an integer"),
        ("a:date:default=tomorrow", "not an ISO date"),
        ("a:datetime:ge=2024-01-01T00:00:00", "has no time zone"),
        ("a:decimal:gt=NaN", "not a finite decimal"),
        ("a:decimal:gt=1E+400", "beyond what JSON numbers carry"),
        ("a:int:le=9223372036854775808", "64-bit"),
        ("a:int:ge=-9007199254740992", "the integers JSON carries exactly"),
        ("a:bool:default=yes", "not true or false"),
        ("a:enum[x|y]:default=z", "default=z is not one of x, y"),
        ("a:enum[x||y]", "empty enum value"),
        ("a:enum[]", "empty enum value"),
        ("a:enum[x|x]", "enum value 'x' appears twice"),
        ("a:enum[x|Y]", "enum value 'Y' is not a snake_case identifier"),
        ("a:enum[on|o]", "enum value 'o' names the member O, which reads like 1 or 0"),
        ("a:int:unique:unique", "modifier 'unique' appears twice"),
        ("a:int:ge=1:ge=2", "modifier 'ge' appears twice"),
        ("a:str junk", "unknown type 'str junk'"),
        ("a:enum[x|y]junk", "unknown type"),
        ("a:str:frobnicate", "unknown modifier 'frobnicate'"),
        ("a:str:", "empty modifier"),
        ("a:int:gt=", "gt= needs a value"),
        ("a:str:unique=yes", "'unique' takes no value"),
        ("a:str:unique:index", "unique already creates an index"),
        ("a:int?:default=1", "a field with a default is never null"),
        ("a:bool:unique", "unique needs room for at least 6 distinct values"),
        ("a:enum[x|y]:unique", "unique needs room for at least 6 distinct values"),
        ("a:int:unique:ge=1:le=3", "unique needs room"),
        ("a:ref[Customers]", "'ref[Customers]' does not name a component"),
        ("a:ref[]", "'ref[]' does not name a component"),
        ("a:ref[customers:index", "is not ref[component]"),
        ("a:ref[customers]:default=x", "a ref takes no default"),
        ("a:str:default=x\nCREATE TABLE t (id int)", "default= holds the control character U+000A"),
        ("a:str:default=x\ty", "default= holds the control character U+0009"),
        ("a:int:ge=1\x002", "ge= holds the control character U+0000"),
        ("a:str:default= x", "default=' x' starts or ends with a blank"),
        ("a:str:default=x :unique", "default='x ' starts or ends with a blank"),
        ("a:str:backfill= x", "backfill=' x' starts or ends with a blank"),
        ("a:ref[customers]:gt=1", "gt applies to int, float, decimal, date and datetime"),
        ("a1b:enum[x], a_1b:enum[y]", "would both name their enum class A1b"),
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


def _valid_names(text: str) -> bool:
    """Whether the names alone pass (the strategies draw names that may be reserved)."""
    return all(
        naming.field_name_error(item.split(":")[0].strip()) is None for item in text.split(", ")
    )


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(field_lists())
def test_any_consistent_modifier_list_is_accepted_and_its_values_keep_its_rules(text: str) -> None:
    assume(_valid_names(text))

    parsed = fields.parse_fields(text, "Thing", "things")

    assert fields.fields_error(text, "Thing") == ""
    assert fields.normalise_fields(fields.normalise_fields(text)) == fields.normalise_fields(text)
    for field in parsed:
        samples = field.samples
        assert len(samples) == fields.SAMPLE_COUNT
        assert all(field.broken_rule(value) is None for value in samples)
        if field.unique:
            assert len(set(map(repr, samples))) == fields.SAMPLE_COUNT
        if field.has_default:
            assert field.broken_rule(field.default) is None
        for rule in field.boundaries:
            if rule.inside is not None:
                assert field.broken_rule(rule.inside) is None, (field.spec, rule.key)
            if not isinstance(rule.outside, fields._Raw):
                assert field.broken_rule(rule.outside) is not None, (field.spec, rule.key)


MISPLACED = {
    "str": ["gt=1", "le=1"],
    "bool": ["ge=1", "min_length=1", "max_length=2"],
    "uuid": ["lt=1", "max_length=36"],
    "int": ["min_length=1", "max_length=1"],
    "date": ["max_length=3"],
    "enum[a|b]": ["gt=1", "min_length=1"],
}


@given(
    st.sampled_from(sorted(MISPLACED)).flatmap(
        lambda kind: st.tuples(st.just(kind), st.sampled_from(MISPLACED[kind]))
    ),
    st.booleans(),
)
def test_a_modifier_on_the_wrong_type_is_refused_naming_field_and_rule(
    case: tuple[str, str], optional: bool
) -> None:
    kind, modifier = case
    message = fields.fields_error(f"ok:int, wrong:{kind}{'?' if optional else ''}:{modifier}")

    assert message.startswith("field 'wrong': ")
    assert f"not {kind}" in message


@given(st.sampled_from(["int", "float", "decimal"]), st.integers(-100, 100), st.integers(0, 50))
def test_bounds_that_leave_no_value_are_refused(kind: str, high: int, gap: int) -> None:
    message = fields.fields_error(f"n:{kind}:ge={high + gap + 1}:le={high}")

    assert "contradict" in message


@given(
    st.sampled_from(["gt", "ge", "lt", "le"]),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
    st.booleans(),
)
def test_a_date_bound_pattern_matches_exactly_the_values_that_keep_the_bound(
    key: str, bound: datetime, value: datetime, as_date: bool
) -> None:
    if as_date:
        low, high = bound.date(), value.date()
        text, bound_text = high.isoformat(), low.isoformat()
    else:
        low, high = bound.replace(microsecond=0), value.replace(microsecond=0)
        text, bound_text = (f"{moment.isoformat()}Z" for moment in (high, low))
    keeps = {"gt": high > low, "ge": high >= low, "lt": high < low, "le": high <= low}[key]

    matches = re.fullmatch(fields._ordered_pattern(key, bound_text), text) is not None

    assert matches == keeps


def test_a_ref_is_a_typed_id_of_the_referencing_domain() -> None:
    warehouse, backup = fields.parse_fields(
        "warehouse:ref[warehouses]:index, backup:ref[warehouses]?", "Product", "products"
    )

    assert (warehouse.spec, backup.spec) == (
        "warehouse:ref[warehouses]:index",
        "backup:ref[warehouses]?",
    )
    assert (warehouse.annotation, backup.annotation) == ("WarehouseId", "WarehouseId | None")
    assert (warehouse.dto_annotation, warehouse.sql_column) == ("UUID", '"warehouse" uuid NOT NULL')
    assert warehouse.from_dto("self.warehouse") == "WarehouseId(self.warehouse)"
    assert backup.from_dto("b") == "None if b is None else WarehouseId(b)"
    assert warehouse.type.imports == (("components.products.domain.model", "WarehouseId"),)
    assert len(set(warehouse.samples)) == fields.SAMPLE_COUNT


def test_referenced_components_are_read_once_each_in_field_order() -> None:
    text = "a:ref[warehouses], b:str, c:ref[customers]?:index, d:ref[ warehouses ]"
    assert fields.referenced_components(text) == ["warehouses", "customers"]
    assert fields.referenced_components("name:str") == []


def test_a_ref_whose_names_clash_with_the_entitys_own_is_refused() -> None:
    assert "cannot be told apart" in fields.fields_error("parent:ref[products]", "Product")
    assert fields.fields_error("parent:ref[categories]", "Product") == ""


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("q:int:ge=1:backfill=0", "field 'q': backfill=0 breaks a rule: q must be at least 1"),
        ("q:int?:backfill=1", "an optional field leaves them NULL"),
        ("q:int:default=1:backfill=2", "its default fills them"),
        ("q:enum[a|b]:backfill=c", "field 'q': backfill=c is not one of a, b"),
        ("w:ref[x]:backfill=nope", "field 'w': backfill=nope: 'nope' is not a UUID"),
    ],
)
def test_a_backfill_is_refused_where_it_cannot_fill_the_rows(spec: str, message: str) -> None:
    with pytest.raises(fields.FieldsError, match=re.escape(message)):
        fields.parse_fields(spec, "E", "c")


def test_a_backfill_round_trips_through_the_spec() -> None:
    (field,) = fields.parse_fields("at:datetime:backfill=2024-01-31T12:00:00Z", "E", "c")

    assert field.has_backfill and not field.has_default
    assert fields.parse_fields(field.spec, "E", "c") == [field]


@given(text=st.text(min_size=1, max_size=12), last=st.booleans())
def test_a_str_default_is_kept_as_written_or_refused_never_changed(text: str, last: bool) -> None:
    spec = f"note:str:default={text}" if last else f"note:str:default={text}, other:int"
    try:
        parsed = fields.parse_fields(spec)
    except fields.FieldsError:
        return
    # The answer's closing line breaks are its own (a YAML block ends with one).
    written = text.rstrip("\r\n") if last else text
    assert parsed[0].name == "note" and parsed[0].default == written, spec
